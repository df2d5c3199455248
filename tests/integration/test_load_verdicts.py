"""Load verdicts against real loopback servers of known behaviour: the right verdict, a clear
reason, bounded time, and no process left behind."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from infratest.execution import AssumptionResult
from infratest.hosts import free_port
from infratest.spec.config import Config
from infratest.verdict import Verdict
from tests.support.assumptions import behaviour_config, run_assumption

pytestmark = [pytest.mark.load, pytest.mark.usefixtures("no_leftover_processes")]


def _run(
    tmp_path: Path, config: Config, load: str, expect: str, validate: bool = True
) -> AssumptionResult:
    assumption = f"load: {{{load}, requests: [GET /work]}}\nexpect: {{{expect}}}"
    return run_assumption(tmp_path, config, assumption, validate=validate)


def _checks(result: AssumptionResult) -> dict[str, Verdict]:
    return {c.metric: c.verdict for c in result.outcome.checks}


def test_fixed_service_time(tmp_path: Path) -> None:
    config = behaviour_config(tmp_path, "--delay", "0.02")
    result = _run(
        tmp_path,
        config,
        "users: 4, duration: 3s",
        "latency.p95: < 500ms, latency.p50: < 10ms, throughput: '>= 20/s'",
    )
    p50 = result.measurements.values["latency.p50"].value
    assert 0.02 <= p50 < 0.2
    assert _checks(result) == {
        "latency.p95": Verdict.PASS,
        "latency.p50": Verdict.FAIL,
        "throughput": Verdict.PASS,
    }
    assert result.outcome.verdict == Verdict.FAIL
    assert "latency.p50" in result.outcome.reason and "misses < 10ms" in result.outcome.reason
    rate = result.measurements.values["throughput"].value
    assert rate <= 4 / 0.02 * 1.1  # four users can do no better than 4 / service time


def test_every_fifth_request_fails(tmp_path: Path) -> None:
    config = behaviour_config(tmp_path, "--delay", "0.005", "--error-every", "5")
    result = _run(
        tmp_path,
        config,
        "users: 4, duration: 3s",
        "errors.rate: < 1%, errors.count: '>= 1', latency.p99: < 1s",
    )
    rate = result.measurements.values["errors.rate"]
    assert 0.15 <= rate.value <= 0.25
    assert _checks(result)["errors.rate"] == Verdict.FAIL
    assert result.outcome.verdict == Verdict.FAIL
    assert any("HTTP 500" in note for note in result.measurements.notes)


def test_refusing_connections_is_an_error_with_the_reason(tmp_path: Path) -> None:
    config = behaviour_config(tmp_path, url=f"http://127.0.0.1:{free_port()}")
    started = time.monotonic()
    result = _run(tmp_path, config, "users: 2, duration: 2s", "latency.p95: < 1s")
    assert result.outcome.verdict == Verdict.ERROR
    assert "did not answer" in result.outcome.reason
    assert "Refused" in result.outcome.reason or "refused" in result.outcome.reason
    assert time.monotonic() - started < 30


def test_target_dying_mid_run_is_an_error_naming_the_exit(tmp_path: Path) -> None:
    config = behaviour_config(tmp_path, "--delay", "0.01", "--die-after-requests", "30")
    result = _run(tmp_path, config, "users: 2, duration: 3s", "errors.rate: < 1%")
    assert result.outcome.verdict == Verdict.ERROR
    assert "died" in result.outcome.reason and "exit code 3" in result.outcome.reason


def test_hanging_target_ends_within_its_bound(tmp_path: Path) -> None:
    config = behaviour_config(tmp_path, "--delay", "0.01", "--hang-after-requests", "20")
    started = time.monotonic()
    result = _run(tmp_path, config, "users: 2, duration: 3s, timeout: 1s", "errors.rate: < 1%")
    assert time.monotonic() - started < 3 + 20
    assert result.outcome.verdict in (Verdict.FAIL, Verdict.ERROR)
    assert "timeout" in " ".join([*result.measurements.notes, result.outcome.reason])


def test_host_outside_the_allow_list_gets_no_traffic(tmp_path: Path) -> None:
    config = behaviour_config(tmp_path, "--delay", "0.01", hosts=["localhost"])
    started = time.monotonic()
    result = _run(tmp_path, config, "users: 2, duration: 3s", "errors.rate: < 1%", validate=False)
    assert result.outcome.verdict == Verdict.ERROR
    assert "not in allow.hosts" in result.outcome.reason
    assert time.monotonic() - started < 2  # refused before anything was launched or sent


def test_sys_executable_is_the_python_placeholder(tmp_path: Path) -> None:
    config = behaviour_config(tmp_path, "--delay", "0.01")
    assert config.targets["svc"].launch[0] == "{python}"
    assert Path(sys.executable).exists()
