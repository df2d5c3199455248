"""Workloads see only their context: no workload module may import the runner."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import infratest

WORKLOADS = Path(infratest.__file__).resolve().parent / "workloads"
RUNNER = "infratest.execution"


def imported_modules(source: str) -> set[str]:
    """Every module an `import` or `from ... import` names, wherever it sits in the file."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_imported_modules_sees_nested_and_type_checking_imports() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from infratest.execution import Runner\n"
        "def f():\n    import infratest.execution as runner\n"
    )
    assert RUNNER in imported_modules(source)
    assert f"{RUNNER}.Runner" in imported_modules(source)


@pytest.mark.parametrize("module", sorted(WORKLOADS.glob("*.py")), ids=lambda p: p.name)
def test_workload_module_does_not_import_the_runner(module: Path) -> None:
    names = imported_modules(module.read_text(encoding="utf-8"))
    assert not {n for n in names if n == RUNNER or n.startswith(RUNNER + ".")}


def test_a_cpu_sampler_stopped_before_it_started_does_not_raise() -> None:
    """Ctrl-C can land between creating the load child's threads and starting them; the
    cleanup must not replace the interrupt with 'cannot join thread before it is started'."""
    import os

    from infratest.workloads.cpu_sampler import CpuSampler

    sampler = CpuSampler(os.getpid())
    sampler.halt()  # never started
    assert not sampler.is_alive()
