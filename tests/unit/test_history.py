"""The run history on synthetic results documents: what is recorded and read back, which
changes count as regressions, the schema version, and a writer killed mid-transaction."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infratest.cli import build_parser, main, pytest_arguments
from infratest.history.query import CheckPoint, histories, is_worse, regressions
from infratest.history.record import record_run
from infratest.history.show import WIDTH, history_text
from infratest.history.store import SCHEMA_VERSION, HistoryError, open_history
from infratest.results.html import render_html
from infratest.results.trend_plots import trend_sections

FILE = "scenarios/api.yaml"


def check(metric: str, op: str, bound: float, low: float, high: float, verdict: str) -> dict:
    """A check as the results document writes it (value mid-interval)."""
    return {
        "metric": metric,
        "op": op,
        "bound": bound,
        "unit": "s",
        "value": (low + high) / 2,
        "ci_low": low,
        "ci_high": high,
        "confidence": 0.95,
        "verdict": verdict,
        "reason": "",
    }


def document(started: str, checks: list[dict], name: str = "fast", commit: str = "abc") -> dict:
    """A finished results document with one assumption."""
    verdict = "fail" if any(c["verdict"] == "fail" for c in checks) else "pass"
    entry = {"name": name, "file": FILE, "verdict": verdict, "reason": "r", "checks": checks}
    return {
        "infratest_version": "0.1.0",
        "started_at": started,
        "finished_at": started,
        "complete": True,
        "interrupted": False,
        "config": "configs/local.yaml",
        "host": "ci-1",
        "assumptions": [entry],
        "provenance": {"git_commit": commit, "command": "pytest scenarios"},
    }


def p95(low: float, high: float, verdict: str = "pass") -> dict:
    return check("latency.p95", "<", 0.2, low, high, verdict)


def read(db: Path) -> list:
    conn = open_history(db, create=False)
    try:
        return histories(conn)
    finally:
        conn.close()


def two_runs(db: Path, first: list[dict], second: list[dict]) -> None:
    record_run(db, document("2026-12-01T10:00:00Z", first, commit="1111111111aa"))
    record_run(db, document("2026-12-01T11:00:00Z", second, commit="2222222222bb-dirty"))


def test_runs_are_read_back_oldest_first_and_last_n_keeps_the_latest(tmp_path: Path) -> None:
    db = tmp_path / "deep" / "history.sqlite"  # the folder is created
    two_runs(db, [p95(0.02, 0.03)], [p95(0.04, 0.05)])
    conn = open_history(db, create=False)
    (found,) = histories(conn)
    assert found.id == f"{FILE}::fast"
    assert [p.run.git_commit for p in found.points] == ["1111111111aa", "2222222222bb-dirty"]
    assert found.points[1].checks[0].low == 0.04 and found.points[1].checks[0].op == "<"
    (latest,) = histories(conn, last=1)
    assert [p.run.id for p in latest.points] == [2]
    (before,) = histories(conn, until="2026-12-01T10:30:00Z")
    assert [p.run.id for p in before.points] == [1]
    conn.close()


def test_history_command_prints_both_runs(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    db = tmp_path / "h.sqlite"
    two_runs(db, [p95(0.02, 0.03)], [p95(0.25, 0.3, "fail")])
    assert main(["history", "fast", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    head, condition = out.splitlines()[1:3]
    assert head.split()[-1] == "latency.p95" and condition.split() == ["<", "200ms"]
    assert "1111111111aa"[:8] in out and "22222222-dirty" in out
    row = next(line for line in out.splitlines() if line.strip().startswith("2 "))
    assert "fail" in row and "275ms" in row


def test_an_interrupted_run_is_recorded_and_marked(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    cut = document("2026-12-01T10:00:00Z", [p95(0.02, 0.03)])
    cut.update(complete=False, interrupted=True)
    record_run(db, cut)
    text = history_text(read(db))
    assert text.startswith(f"{FILE}::fast (1 run)\n")
    assert "\n  1*  " in text and text.endswith(
        "* the run was interrupted (its other assumptions may be missing)\n"
    )


def test_a_slower_second_run_is_a_regression(tmp_path: Path, capsys) -> None:
    db = tmp_path / "h.sqlite"
    two_runs(db, [p95(0.02, 0.03)], [p95(0.25, 0.3, "fail")])
    assert main(["history", "--regressions", "--db", str(db)]) == 1
    out = capsys.readouterr().out
    assert f"{FILE}::fast: latency.p95 < 200ms got worse" in out
    assert "then 25ms (95% CI 20ms..30ms)" in out and "run 1" in out
    assert "now  275ms (95% CI 250ms..300ms)" in out and "run 2" in out
    assert "1 regression" in out


def test_overlapping_intervals_are_not_a_regression(tmp_path: Path, capsys) -> None:
    db = tmp_path / "h.sqlite"
    two_runs(db, [p95(0.02, 0.03)], [p95(0.029, 0.04)])
    assert main(["history", "--regressions", "--db", str(db)]) == 0
    assert "no regressions (1 checks compared" in capsys.readouterr().out


def test_lower_is_worse_for_a_lower_bound_even_while_it_passes(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    throughput = [check("throughput", ">", 50, 200, 220, "pass")]
    two_runs(db, throughput, [check("throughput", ">", 50, 150, 170, "pass")])
    (found,) = regressions(read(db)).regressions
    assert found.now[1].metric == "throughput" and found.then[0].id == 1
    better = [check("throughput", ">", 50, 300, 320, "pass")]
    record_run(db, document("2026-12-01T12:00:00Z", better))
    assert regressions(read(db)).regressions == []  # better than the last pass


def test_a_check_that_never_passed_before_is_not_compared(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    two_runs(db, [p95(0.25, 0.3, "fail")], [p95(0.5, 0.6, "fail")])
    report = regressions(read(db))
    assert (report.regressions, report.compared, report.never_passed) == ([], 0, 1)


def test_a_check_taken_out_of_the_scenario_is_no_longer_compared(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    errors = check("errors.rate", "<", 0.05, 0.0, 0.01, "pass")
    two_runs(db, [p95(0.02, 0.03), errors], [p95(0.25, 0.3, "fail"), errors])
    assert len(regressions(read(db)).regressions) == 1
    record_run(db, document("2026-12-01T12:00:00Z", [errors]))  # latency.p95 removed
    report = regressions(read(db))
    assert (report.regressions, report.compared) == ([], 1)


def _point(op: str, low: float, high: float) -> CheckPoint:
    return CheckPoint("latency.p95", op, 1.0, None, (low + high) / 2, low, high, 0.95, "pass")


intervals = st.tuples(st.floats(-1e6, 1e6), st.floats(0, 1e6)).map(lambda t: (t[0], t[0] + t[1]))


@given(intervals, intervals, st.sampled_from(["<", "<=", ">", ">="]))
def test_worse_needs_disjoint_intervals_and_is_one_way(a, b, op) -> None:
    then, now = _point(op, *a), _point(op, *b)
    overlap = a[0] <= b[1] and b[0] <= a[1]
    if overlap:
        assert not is_worse(then, now)
    assert not (is_worse(then, now) and is_worse(now, then))


def test_an_unbounded_side_never_makes_a_regression() -> None:
    then = CheckPoint("latency.p999", "<", 1.0, None, 0.1, 0.05, None, 0.95, "pass")
    assert not is_worse(then, _point("<", 5.0, 6.0))


def test_tables_fit_100_columns_however_many_checks(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    names = ["latency.p50", "latency.p95", "latency.p99", "latency.max", "errors.rate"]
    many = [check(m, op, 0.2, 0.01, 0.02, "pass") for m in names for op in ("<", "<=")]
    two_runs(db, many, many)
    text = history_text(read(db))
    assert max(len(line) for line in text.splitlines()) <= WIDTH
    assert all(text.split().count(m) == 2 for m in names)  # a < and a <= column each
    assert text.count("<= 200ms") == 4 and text.count("<= 20%") == 1


def test_an_empty_file_is_migrated_and_a_newer_one_refused_untouched(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    sqlite3.connect(db).close()  # version 0, no tables
    conn = open_history(db, create=False)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert {"runs", "results", "checks"} <= {
        r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = db.read_bytes()
    with pytest.raises(HistoryError, match=r"h\.sqlite has run history schema version 2, newer"):
        record_run(db, document("2026-12-01T10:00:00Z", [p95(0.02, 0.03)]))
    assert db.read_bytes() == before


def test_cli_errors_name_the_file_and_exit_2(tmp_path: Path, capsys) -> None:
    assert main(["history", "--db", str(tmp_path / "none.sqlite")]) == 2
    assert "no run history at" in capsys.readouterr().err
    assert not (tmp_path / "none.sqlite").exists()
    (tmp_path / "text.sqlite").write_text("not a database\n" * 100)
    assert main(["history", "--db", str(tmp_path / "text.sqlite")]) == 2
    assert "text.sqlite is not a usable run history" in capsys.readouterr().err
    db = tmp_path / "h.sqlite"
    two_runs(db, [p95(0.02, 0.03)], [p95(0.02, 0.03)])
    assert main(["history", "slow*", "--db", str(db)]) == 2
    assert f"no recorded assumption matches 'slow*'; known: {FILE}::fast" in capsys.readouterr().err


WRITER = textwrap.dedent(
    """
    import json, sys
    from infratest.history.record import insert_run, record_run
    from infratest.history.store import open_history, transaction
    db, first, second = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
    record_run(db, first)
    conn = open_history(db, create=True)
    conn.execute("PRAGMA cache_size = 1")  # spill pages into the file before the commit
    with transaction(conn):
        insert_run(conn, second)
        print("written", flush=True)
        sys.stdin.read()  # the test kills us here, before the commit
    """
)


def test_a_writer_killed_mid_transaction_leaves_the_earlier_runs(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    first = document("2026-12-01T10:00:00Z", [p95(0.02, 0.03)])
    second: dict[str, Any] = document("2026-12-01T11:00:00Z", [p95(0.04, 0.05)])
    second["assumptions"] *= 300  # enough rows to outgrow the cache
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db), json.dumps(first), json.dumps(second)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "written\n"
        assert Path(f"{db}-journal").exists()  # a hot journal: the file holds unfinished pages
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    conn = open_history(db, create=False)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert [r[0] for r in conn.execute("SELECT id FROM runs")] == [1]
    assert conn.execute("SELECT count(*) FROM results").fetchone()[0] == 1
    conn.close()
    assert record_run(db, first) == 2  # and it takes new runs


def test_the_report_shows_trends_from_the_history(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    two_runs(db, [p95(0.02, 0.03)], [p95(0.25, 0.3, "fail")])
    doc = document("2026-12-01T11:00:00Z", [p95(0.25, 0.3, "fail")])
    trends = trend_sections(doc, db)
    assert list(trends) == [0] and trends[0].count("<img") == 1
    html = render_html(doc, trends)
    assert "Trend over the last 2 runs" in html and 'alt="latency.p95 trend"' in html
    earlier = document("2026-12-01T10:00:00Z", [p95(0.02, 0.03)])
    assert trend_sections(earlier, db) == {}  # as it stood then: one run, no trend


def test_infratest_run_passes_the_history_options_to_pytest() -> None:
    parse = build_parser().parse_args
    assert "--infratest-history=h.sqlite" in pytest_arguments(
        parse(["run", "--history", "h.sqlite"])
    )
    assert "--infratest-no-history" in pytest_arguments(parse(["run", "--no-history"]))
    assert not any("history" in a for a in pytest_arguments(parse(["run"])))


def test_report_with_a_missing_history_is_a_usage_error(tmp_path: Path, capsys) -> None:
    results = tmp_path / "r.json"
    results.write_text(json.dumps(document("2026-12-01T10:00:00Z", [p95(0.02, 0.03)])))
    html = tmp_path / "r.html"
    assert main(["report", str(results), "--html", str(html), "--history", "none.sqlite"]) == 2
    assert "no run history at none.sqlite" in capsys.readouterr().err and not html.exists()
