"""Every invalid fixture fails with a located, readable message — never a traceback.

Each fixture's first line says what is expected: ``# expect: LINE: message fragment``
(LINE ``*`` when any line will do).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from infratest import load_config, load_scenario
from infratest.spec.problems import SpecError

FIXTURES = Path(__file__).parent.parent / "fixtures"
HEADER = re.compile(rb"^# expect: (\*|\d+): (.*)$", re.M)


def _expected(path: Path) -> tuple[int | None, str]:
    match = HEADER.match(path.read_bytes())
    assert match, f"{path.name} lacks its '# expect:' header"
    line = None if match[1] == b"*" else int(match[1])
    return line, match[2].decode()


def _check(path: Path, error: SpecError) -> None:
    line, fragment = _expected(path)
    hits = [p for p in error.problems if fragment in str(p)]
    assert hits, f"no problem mentions {fragment!r}:\n{error}"
    if line is not None:
        assert hits[0].line == line, f"expected line {line}:\n{error}"
    assert hits[0].file.endswith(path.name)
    assert str(hits[0]).startswith(f"{hits[0].file}:{hits[0].line}:{hits[0].column}: ")


SCENARIOS = sorted((FIXTURES / "invalid").glob("*.yaml"))
CONFIGS = sorted((FIXTURES / "invalid_configs").glob("*.yaml"))


def test_there_are_enough_fixtures() -> None:
    assert len(SCENARIOS) + len(CONFIGS) >= 40


@pytest.fixture(scope="module")
def config():
    return load_config(FIXTURES / "config.yaml")


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_invalid_scenario(path: Path, config, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INFRATEST_TEST_SURELY_UNSET", raising=False)
    with pytest.raises(SpecError) as info:
        load_scenario(path, config)
    _check(path, info.value)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_invalid_config(path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_config(path)
    _check(path, info.value)
