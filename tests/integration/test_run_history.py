"""The run history as users get it: two real runs against a behaviour server, the second
slower, then `infratest history` shows both and `--regressions` names the latency metric."""

from __future__ import annotations

import sqlite3

import pytest

from infratest.cli import main
from infratest.state import InfratestState
from tests.support.assumptions import behaviour_config_text

pytestmark = [pytest.mark.load, pytest.mark.usefixtures("no_leftover_processes")]


SCENARIO = """\
scenario: api
target: svc
assumptions:
  - name: fast-enough
    load: {users: 2, duration: 2s, requests: [GET /predict]}
    expect:
      latency.p95: < 150ms
"""


def _run(project: pytest.Pytester, delay: str, *options: str) -> pytest.RunResult:
    (project.path / "configs" / "local.yaml").write_text(behaviour_config_text("--delay", delay))
    return project.runpytest("scenarios/", "--infratest-history=hist/runs.sqlite", *options)


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    (pytester.path / "configs").mkdir()
    (pytester.path / "scenarios").mkdir()
    (pytester.path / "scenarios" / "api.yaml").write_text(SCENARIO)
    return pytester


def test_a_slower_second_run_shows_in_history_and_regressions(
    project: pytest.Pytester, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _run(project, "0.005")
    assert first.ret == 0, first.stdout.str()
    first.stdout.fnmatch_lines(["history: hist/runs.sqlite (run 1)"])
    second = _run(project, "0.2", "--infratest-html=report.html")
    assert second.ret == 1
    second.stdout.fnmatch_lines(["history: hist/runs.sqlite (run 2)"])
    assert not (project.path / ".infratest").exists()  # only where it was asked to go
    assert "Trend over the last 2 runs" in (project.path / "report.html").read_text()

    monkeypatch.chdir(project.path)
    capsys.readouterr()
    assert main(["history", "--db", "hist/runs.sqlite"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("scenarios/api.yaml::fast-enough (2 runs)")
    rows = [line.split() for line in out.splitlines() if line.strip()[:2] in ("1 ", "2 ")]
    assert [(row[0], row[4]) for row in rows] == [("1", "pass"), ("2", "fail")]
    assert main(["history", "--regressions", "--db", "hist/runs.sqlite"]) == 1
    out = capsys.readouterr().out
    assert "scenarios/api.yaml::fast-enough: latency.p95 < 150ms got worse" in out
    assert "then " in out and "(run 1," in out and "now " in out and "(run 2," in out


def test_default_path_and_opting_out(pytester: pytest.Pytester) -> None:
    default = InfratestState(pytester.parseconfig())
    assert default.history_path == pytester.path / ".infratest" / "history.sqlite"
    assert InfratestState(pytester.parseconfig("--infratest-no-history")).history_path is None
    newer = pytester.path / "newer.sqlite"
    conn = sqlite3.connect(newer)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    state = InfratestState(pytester.parseconfig("--infratest-history", str(newer)))
    assert state._record({"started_at": "2026-12-01T10:00:00Z", "assumptions": []}) is None
    assert state.history_note and state.history_note.startswith("not recorded: ")
    assert "schema version 99, newer than this infratest knows" in state.history_note
    pytester.makepyfile("def test_plain():\n    pass\n")
    assert pytester.runpytest().ret == 0
    assert not (pytester.path / ".infratest").exists()  # no assumption ran: nothing recorded
