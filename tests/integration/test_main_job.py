"""The README's main-job command passes on this machine: the bundled scenarios against the
embedded demo target of configs/local.yaml, nothing started by hand."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent.parent
pytestmark = [pytest.mark.load, pytest.mark.usefixtures("no_leftover_processes")]


def test_bundled_scenarios_pass_against_the_demo_target(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "scenarios/",
            "--infratest-env",
            "local",
            f"--infratest-json={results}",
            "-p",
            "no:cacheprovider",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-2000:]
    data = json.loads(results.read_text())
    assert data["complete"] and data["assumptions"]
    assert {a["verdict"] for a in data["assumptions"]} == {"pass"}
