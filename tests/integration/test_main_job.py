"""The README's main job runs on this machine: the bundled scenarios against the embedded demo
target of configs/local.yaml, nothing started by hand. What it asserts holds on any machine:
every assumption is measured and decided with a reason, and the run is well formed — not
that this machine's disk or network is fast."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent.parent
pytestmark = [pytest.mark.load, pytest.mark.usefixtures("no_leftover_processes")]
BUNDLED = 15


def test_bundled_scenarios_are_decided_against_the_demo_target(tmp_path: Path) -> None:
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
            "--infratest-no-history",  # run in the repository: leave its history alone
            "-p",
            "no:cacheprovider",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=420,
    )
    output = completed.stdout[-4000:] + completed.stderr[-2000:]
    data = json.loads(results.read_text())
    assert data["complete"] and not data["interrupted"], output
    entries = data["assumptions"]
    assert len(entries) == BUNDLED, output
    for entry in entries:
        # measured and decided: no error, and a reason that names what was measured
        assert entry["verdict"] in ("pass", "fail"), (entry["id"], entry["reason"])
        assert entry["reason"] and entry["checks"], entry["id"]
        assert all(c["value"] is not None for c in entry["checks"]), entry["id"]
    all_pass = {e["verdict"] for e in entries} == {"pass"}
    assert (completed.returncode == 0) == all_pass, output
    watched = [e for e in entries if e["workload"] == "load"]
    assert watched and all(e["stopped"] in ("duration", "decided", "failed") for e in watched)
    assert any(e["stopped"] == "duration" for e in watched)  # the fixed-duration example
    assert "infratest" in completed.stdout and "results:" in completed.stdout
