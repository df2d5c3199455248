"""Sweep and capacity verdicts against a server of known capacity: 4 slots × 50 ms service
serve at most 80 req/s, latency stays ~50 ms up to 4 users and grows ~linearly beyond."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from infratest.execution import AssumptionResult, Runner
from infratest.verdict import Verdict
from tests.support.assumptions import behaviour_config, run_assumption

CAPACITY = 4 / 0.05  # req/s: 4 slots, 50 ms each
pytestmark = [pytest.mark.load, pytest.mark.usefixtures("no_leftover_processes")]


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[Runner]:
    """A runner whose managed target is the 80 req/s behaviour server."""
    runner = Runner(behaviour_config(tmp_path, "--slots", "4", "--delay", "0.05"))
    try:
        yield runner
    finally:
        runner.close()


def _run(runner: Runner, tmp_path: Path, workload: str, expect: str) -> AssumptionResult:
    assumption = f"{workload}\nexpect: {{{expect}}}"
    return run_assumption(tmp_path, runner.config, assumption, runner=runner)


def _checks(result: AssumptionResult) -> dict[str, Verdict]:
    return {c.metric: c.verdict for c in result.outcome.checks}


def test_sweep_sees_the_slot_limit(runner: Runner, tmp_path: Path) -> None:
    result = _run(
        runner,
        tmp_path,
        # 4 s steps: after the ramp, three whole seconds per step give throughput an interval
        "sweep: {users: [1, 2, 4, 8, 16], step: 4s, requests: [GET /work]}",
        "scaling.efficiency: '>= 0.8', throughput.peak: '>= 1/s'",
    )
    found = result.measurements
    assert result.outcome.verdict == Verdict.FAIL, result.outcome.reason
    assert _checks(result)["scaling.efficiency"] == Verdict.FAIL
    peak = found.values["throughput.peak"].value
    assert 0.6 * CAPACITY <= peak <= 1.15 * CAPACITY
    efficiency = found.values["scaling.efficiency"]
    assert efficiency.value < 0.5 and efficiency.high < 0.8  # 16 users do ~4x one user
    if "usl.peak_users" in found.values:
        peak_users = found.values["usl.peak_users"]
        assert 2 <= peak_users.value <= 16
        assert peak_users.method == "usl-bootstrap"  # a model's extrapolation, not a count
        assert peak_users.low <= peak_users.value <= peak_users.high
    steps = found.series["sweep"]["steps"]
    assert [s["users"] for s in steps] == [1, 2, 4, 8, 16]
    assert all(s["throughput"] <= 1.15 * CAPACITY for s in steps)
    assert steps[0]["p50"] >= 0.05  # one user sees the bare service time
    assert found.series["sweep"]["usl"]["ok"] == ("usl.peak_throughput" in found.values)
    json.dumps(found.series["sweep"], allow_nan=False)  # JSON-ready: no inf or nan
    # the managed target is probed, and each step gets its own probe figures
    assert all(s["process_rss_peak"] and s["process_rss_peak"] > 1e6 for s in steps)
    assert all(s["process_cpu_mean"] is not None for s in steps)


def test_sweep_below_the_limit_scales(runner: Runner, tmp_path: Path) -> None:
    result = _run(
        runner,
        tmp_path,
        "sweep: {users: [1, 2], step: 4s, requests: [GET /work]}",
        "scaling.efficiency: '>= 0.8'",
    )
    assert result.outcome.verdict in (Verdict.PASS, Verdict.INCONCLUSIVE), result.outcome.reason
    assert result.measurements.values["scaling.efficiency"].value >= 0.8
    assert "usl.peak_users" not in result.measurements.values
    assert any("USL fit not reported: only 2 steps" in n for n in result.measurements.notes)


def test_capacity_finds_the_knee_and_plans_replicas(runner: Runner, tmp_path: Path) -> None:
    # min 2 users and 5 s steps (the cap: a step ends once its SLO is decided): the smallest
    # step must hold enough samples for each SLO to be decided at every look (0 errors in
    # ~150 requests bounds the rate below 5%, not below 1%).
    capacity = (
        "capacity: {slo: {latency.p95: < 150ms, errors.rate: < 5%}, users: {min: 2, max: 32}, "
        "step: 5s, plan: {rate: 400/s, headroom: 25%}, requests: [GET /work]}"
    )
    result = _run(runner, tmp_path, capacity, "capacity.users: '>= 4'")
    found = result.measurements
    assert result.outcome.verdict == Verdict.PASS, result.outcome.reason
    users = found.values["capacity.users"].value
    throughput = found.values["capacity.throughput"].value
    assert 4 <= users <= 14
    assert abs(throughput - CAPACITY) <= 0.15 * CAPACITY
    series = found.series["capacity"]
    lo, hi = series["bracket"]
    # the answer is the confirmed step: the bracket's pass, or a lower pass when it did not
    # pass again in a fresh run
    assert users <= lo and hi is not None and hi > lo
    assert series["slo"] == {"latency.p95": "< 150ms", "errors.rate": "< 5%"}
    met = {s["users"]: s["meets_slo"] for s in series["steps"]}
    assert met[2] and met[4] and not met[hi]
    assert len(met) <= 12
    # replicas are sized from the lower bound of one replica's throughput, never the estimate
    floor = series["plan"]["per_replica_throughput_low"]
    assert 0 < floor <= throughput
    assert series["plan"]["replicas"] == math.ceil(500 / floor) >= math.ceil(500 / throughput)
    assert series["confirmations"] and series["confirmed"] == users
    assert any(f"between {lo} and {hi} users" in n for n in found.notes)
    json.dumps(series, allow_nan=False)


def test_capacity_below_the_minimum_fails(runner: Runner, tmp_path: Path) -> None:
    capacity = (
        "capacity: {slo: {latency.p95: < 20ms}, users: {min: 2, max: 32}, step: 2s, "
        "requests: [GET /work]}"
    )
    # Below 2 users is all that is shown: 1 user was not tried, so only `>= 2` can fail.
    result = _run(runner, tmp_path, capacity, "capacity.users: '>= 2'")
    found = result.measurements
    assert result.outcome.verdict == Verdict.FAIL, result.outcome.reason
    assert found.values["capacity.users"].high == 1
    assert found.values["capacity.users"].value == 0
    assert found.series["capacity"]["bracket"] == [0, 2]
    assert len(found.series["capacity"]["steps"]) == 1  # no more load once the minimum misses
    assert any("below 2 users" in n for n in found.notes)


def test_capacity_undecided_at_the_minimum_is_inconclusive(runner: Runner, tmp_path: Path) -> None:
    # One user for 2 s sends ~40 requests: far too few to show an error rate below 0.1%.
    capacity = (
        "capacity: {slo: {errors.rate: < 0.1%}, users: {min: 1, max: 8}, step: 2s, "
        "requests: [GET /work]}"
    )
    result = _run(runner, tmp_path, capacity, "capacity.users: '>= 1'")
    assert result.outcome.verdict == Verdict.INCONCLUSIVE, result.outcome.reason
    assert result.measurements.values["capacity.users"].value == 0
    assert "more samples needed" in result.measurements.series["capacity"]["steps"][0]["why"]


@pytest.fixture
def fast_runner(tmp_path: Path) -> Iterator[Runner]:
    """A runner whose managed target answers at once, far above the rates offered."""
    runner = Runner(behaviour_config(tmp_path))
    try:
        yield runner
    finally:
        runner.close()


def test_a_rate_sweep_serves_what_it_is_offered(fast_runner: Runner, tmp_path: Path) -> None:
    result = _run(
        fast_runner,
        tmp_path,
        "sweep: {rate: [20/s, 40/s, 80/s], arrivals: uniform, step: 4s, requests: [GET /]}",
        "scaling.efficiency: '>= 0.9'",
    )
    found = result.measurements
    assert result.outcome.verdict in (Verdict.PASS, Verdict.INCONCLUSIVE), result.outcome.reason
    efficiency = found.values["scaling.efficiency"]
    assert efficiency.low <= 1.0 <= efficiency.high and 0.9 <= efficiency.value <= 1.1
    steps = found.series["sweep"]["steps"]
    assert [s["rate"] for s in steps] == [20.0, 40.0, 80.0]
    assert all("users" not in s and s["locust_workers"] == 0 for s in steps)
    assert all(abs(s["throughput"] - s["rate"]) <= 0.1 * s["rate"] for s in steps), steps
    assert not any(name.startswith("usl.") for name in found.values)
    assert any("USL fit not reported" in n and "arrival rates" in n for n in found.notes)
    json.dumps(found.series["sweep"], allow_nan=False)


def test_a_rate_sweep_runs_each_step_on_workers(fast_runner: Runner, tmp_path: Path) -> None:
    result = _run(
        fast_runner,
        tmp_path,
        "sweep: {rate: [20/s, 40/s], arrivals: uniform, step: 4s, workers: 2, requests: [GET /]}",
        "throughput.peak: '>= 30/s'",
    )
    steps = result.measurements.series["sweep"]["steps"]
    assert [s["locust_workers"] for s in steps] == [2, 2]
    assert all(abs(s["throughput"] - s["rate"]) <= 0.1 * s["rate"] for s in steps), steps
    assert result.outcome.verdict == Verdict.PASS, result.outcome.reason


def test_capacity_over_rate_finds_the_ceiling(runner: Runner, tmp_path: Path) -> None:
    # Offered above 80/s the slots queue without end and p95 runs away; well below, p95 is
    # the 50 ms service time. The answer lands between half the ceiling and the ceiling. The
    # smallest step (40/s, at most 6 s) holds well over the ~90 requests a p95 pass needs.
    capacity = (
        "capacity: {slo: {latency.p95: < 150ms}, rate: {min: 40/s, max: 320/s}, step: 6s, "
        "arrivals: uniform, plan: {rate: 400/s, headroom: 25%}, requests: [GET /work]}"
    )
    result = _run(runner, tmp_path, capacity, "capacity.rate: '>= 30/s'")
    found = result.measurements
    assert result.outcome.verdict == Verdict.PASS, (result.outcome.reason, found.notes)
    assert "capacity.users" not in found.values
    rate = found.values["capacity.rate"]
    assert 0.4 * CAPACITY <= rate.value <= CAPACITY, found.notes
    assert rate.low == rate.value <= rate.high
    series = found.series["capacity"]
    lo, hi = series["bracket"]
    assert series["by"] == "rate" and series["confirmed"] == rate.value
    assert hi is not None and rate.value <= lo < hi
    met = {s["rate"]: s["meets_slo"] for s in series["steps"]}
    # the upper end is just below the smallest step that clearly *failed*; a step at the
    # ceiling may only be inconclusive, which proves nothing, and then the range's top stands
    failed = [s["rate"] for s in series["steps"] if s["why"].startswith("fail")]
    assert rate.high == (min(failed) - 1 if failed else 320.0), " | ".join(found.notes)
    assert met[40.0] and not met[float(hi)]
    throughput = found.values["capacity.throughput"].value
    assert abs(throughput - rate.value) <= 0.15 * rate.value  # a met rate is served
    assert series["plan"]["replicas"] == math.ceil(
        500 / series["plan"]["per_replica_throughput_low"]
    )
    assert any(f"between {lo}/s and {hi}/s" in n for n in found.notes), found.notes
    json.dumps(series, allow_nan=False)
