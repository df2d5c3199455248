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
    return [line.split("#", 1)[0].strip() for line in blocks[-1].splitlines() if line.strip()]


def test_quick_start_has_two_commands_and_ci_runs_the_test_one() -> None:
    commands = _quick_start_commands()
    assert len(commands) == 2
    ci = (ROOT / ".ci" / "run").read_text()
    assert f"\n{commands[1]}\n" in ci


def test_readme_scenario_example_is_valid(tmp_path: Path) -> None:
    example = re.findall(r"```yaml\n(# yaml-language-server.*?)```", README, re.S)[0]
    path = tmp_path / "example.yaml"
    path.write_text(example)
    scenario = load_scenario(path, load_config(ROOT / "configs" / "local.yaml"))
    assert len(scenario.assumptions) == 4
