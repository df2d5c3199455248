"""The README's quick start stays true: CI runs its test command, and the scenario example in
it is valid."""

from __future__ import annotations

import re
from pathlib import Path

from infratest import load_config, load_scenario

ROOT = Path(__file__).parent.parent.parent
README = (ROOT / "README.md").read_text()


def _quick_start_commands() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    assert len(blocks) == 1, "the quick start is one block of commands"
    return [line.split("#", 1)[0].strip() for line in blocks[0].splitlines() if line.strip()]


def test_quick_start_is_install_and_run_then_the_tests_that_ci_runs() -> None:
    main_job, tests = _quick_start_commands()  # exactly two commands
    install, run = (part.strip() for part in main_job.split("&&"))
    assert install == 'python -m pip install -e ".[dev]"'
    assert run == "infratest run"
    ci = (ROOT / ".ci" / "run").read_text()
    assert f"\n{tests}\n" in ci, "CI runs the README's test command"
    assert '-e ".[dev]"' in ci, "CI installs as the README does"


def test_readme_scenario_example_is_valid(tmp_path: Path) -> None:
    example = re.findall(r"```yaml\n(# yaml-language-server.*?)```", README, re.S)[0]
    path = tmp_path / "example.yaml"
    path.write_text(example)
    scenario = load_scenario(path, load_config(ROOT / "configs" / "local.yaml"))
    assert len(scenario.assumptions) == 4
