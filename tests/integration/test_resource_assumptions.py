"""Resource assumptions end to end through the runner: leaks fail, steady servers pass, cold
starts are timed, observe works without load, and bad selectors are error verdicts."""

from __future__ import annotations

from pathlib import Path

import pytest

from infratest.execution import AssumptionResult
from infratest.hosts import free_port
from infratest.verdict import Verdict
from tests.support.assumptions import behaviour_config, run_assumption

pytestmark = [pytest.mark.load, pytest.mark.usefixtures("no_leftover_processes")]


def _run(
    tmp_path: Path, flags: tuple[str, ...], assumption: str, launch: list[str] | None = None
) -> AssumptionResult:
    config = behaviour_config(tmp_path, *flags, launch=launch)
    return run_assumption(tmp_path, config, assumption)


LEAK_CHECK = """\
    load: {users: 4, duration: 6s, warmup: 1s, wait: 10ms, requests: [GET /x]}
    expect: {process.rss.growth: < 2MB/min, process.rss.peak: < 1GiB}
"""


def test_a_leaking_server_fails_the_growth_check(tmp_path: Path) -> None:
    result = _run(tmp_path, ("--leak-kib-per-request", "64"), LEAK_CHECK)
    checks = {c.metric: c for c in result.outcome.checks}
    assert checks["process.rss.growth"].verdict == Verdict.FAIL
    assert result.outcome.verdict == Verdict.FAIL
    assert "rss grows" in " ".join(result.measurements.notes)
    assert "process.rss.growth" in result.outcome.reason


def test_the_same_server_without_the_leak_passes(tmp_path: Path) -> None:
    result = _run(tmp_path, ("--delay", "0.001"), LEAK_CHECK)
    assert result.outcome.verdict == Verdict.PASS, result.outcome.reason
    assert result.measurements.series["probe"]["rss"]  # the series reaches the results file


def test_cold_start_is_timed_from_launch(tmp_path: Path) -> None:
    result = _run(
        tmp_path,
        ("--startup-delay", "1.0"),
        """\
        cold_start: {repeat: 2, requests: [GET /x]}
        expect: {cold_start.ready: < 30s, cold_start.first_response: < 30s}
    """,
    )
    runs = result.measurements.series["cold_start"]["runs"]
    assert len(runs) == 2
    for run in runs:
        assert 1.0 <= run["ready_s"] <= 1.0 + 1.0
        assert run["port_open_s"] <= run["ready_s"] <= run["first_response_s"]
    assert result.outcome.verdict == Verdict.PASS


def test_a_failing_launch_is_an_error_with_its_output(tmp_path: Path) -> None:
    crash = ["{python}", "-c", "print('model file missing'); raise SystemExit(3)"]
    result = _run(
        tmp_path,
        (),
        """\
        cold_start: {repeat: 2}
        expect: {cold_start.ready: < 30s}
    """,
        launch=crash,
    )
    assert result.outcome.verdict == Verdict.ERROR
    assert "launch 1 of 2 failed" in result.outcome.reason
    assert "model file missing" in result.outcome.reason


def test_observe_measures_an_idle_target(tmp_path: Path) -> None:
    result = _run(
        tmp_path,
        ("--ballast-mib", "64"),
        """\
        observe: {duration: 2s}
        expect: {process.rss.peak: "> 64MiB", host.memory.available.min: "> 1MB"}
    """,
    )
    assert result.outcome.verdict == Verdict.PASS, result.outcome.reason


def test_a_probe_that_selects_nothing_is_an_error_naming_it(tmp_path: Path) -> None:
    port = free_port()
    result = _run(
        tmp_path,
        (),
        f"""\
        observe: {{duration: 1s}}
        probe: {{port: {port}}}
        expect: {{process.rss.peak: < 1GiB}}
    """,
    )
    assert result.outcome.verdict == Verdict.ERROR
    assert f"port {port}" in result.outcome.reason
