"""The open-model arrival schedule (pure, seeded) and the tallies that carry it to the parent:
uniform spacing is exact, Poisson counts and gaps are plausible for a seed, a seed reproduces
its schedule, and a schedule split over workers adds up to the whole rate."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infratest.workloads.arrival_ledger import ArrivalLedger
from infratest.workloads.arrival_record import ArrivalTally
from infratest.workloads.arrivals import ArrivalSchedule
from infratest.workloads.load_plan import LoadPlan, RequestSpec
from infratest.workloads.saturation import schedule_reason

rates = st.floats(min_value=1.0, max_value=2000.0)
durations = st.floats(min_value=0.5, max_value=5.0)
seeds = st.integers(min_value=0, max_value=2**31)


@given(rates, durations)
def test_uniform_arrivals_are_evenly_spaced_at_the_rate(rate: float, duration: float) -> None:
    times = np.fromiter(ArrivalSchedule(rate, duration, kind="uniform").times(), float)
    assert times.size == math.ceil(rate * duration - 0.5)
    if times.size:
        assert times[0] == pytest.approx(0.5 / rate) and times[-1] < duration
    if times.size > 1:
        assert np.allclose(np.diff(times), 1.0 / rate)


@settings(max_examples=30, deadline=None)
@given(st.floats(min_value=100.0, max_value=2000.0), seeds)
def test_poisson_counts_and_gaps_are_plausible(rate: float, seed: int) -> None:
    duration = 4.0
    times = np.fromiter(ArrivalSchedule(rate, duration, seed=seed).times(), float)
    expected = rate * duration
    assert abs(times.size - expected) < 5 * math.sqrt(expected)  # ±5σ of a Poisson count
    gaps = np.diff(times)
    assert gaps.mean() == pytest.approx(1.0 / rate, rel=5 / math.sqrt(gaps.size))
    assert gaps.std() == pytest.approx(gaps.mean(), rel=0.25)  # exponential: sd == mean
    assert np.all(gaps >= 0) and times[-1] < duration


@settings(max_examples=20, deadline=None)
@given(rates, seeds, st.sampled_from(["poisson", "uniform"]))
def test_a_seed_reproduces_its_schedule(rate: float, seed: int, kind: str) -> None:
    first = list(ArrivalSchedule(rate, 2.0, kind=kind, seed=seed).times())
    again = list(ArrivalSchedule(rate, 2.0, kind=kind, seed=seed).times())
    assert first == again
    if kind == "poisson" and len(first) > 2:
        assert list(ArrivalSchedule(rate, 2.0, kind=kind, seed=seed + 1).times()) != first


@settings(max_examples=30, deadline=None)
@given(st.floats(min_value=10.0, max_value=2000.0), st.integers(1, 8), seeds)
def test_workers_split_the_rate_and_add_up_to_it(rate: float, workers: int, seed: int) -> None:
    whole = ArrivalSchedule(rate, 3.0, kind="uniform", seed=seed)
    parts = [whole.for_worker(i, workers) for i in range(workers)]
    assert sum(p.rate_per_s for p in parts) == pytest.approx(rate)
    assert len({p.seed for p in parts}) == workers
    merged = sorted(t for p in parts for t in p.times())
    assert abs(len(merged) - rate * 3.0) <= workers  # each worker loses at most one at the end
    if len(merged) > workers:  # interleaved, not stacked: gaps are one whole-rate gap each
        assert np.allclose(np.diff(merged), 1.0 / rate, atol=1e-9)


@given(rates, st.floats(min_value=0.1, max_value=1.0))
def test_a_ramp_rises_to_the_rate(rate: float, ramp_share: float) -> None:
    duration = 4.0
    schedule = ArrivalSchedule(rate, duration, ramp_s=duration * ramp_share, kind="uniform")
    times = np.fromiter(schedule.times(), float)
    assert abs(times.size - schedule.expected_count(duration)) <= 1
    expected = rate * (duration - schedule.ramp_s / 2)
    assert schedule.expected_count(duration) == pytest.approx(expected)
    for t in (0.3, 1.7, 3.9):
        assert schedule.time_of(schedule.expected_count(t)) == pytest.approx(t)


def test_bad_schedules_are_refused() -> None:
    with pytest.raises(ValueError, match="arrivals must be one of"):
        ArrivalSchedule(10.0, 1.0, kind="bursty")
    with pytest.raises(ValueError, match="above zero"):
        ArrivalSchedule(0.0, 1.0)
    with pytest.raises(ValueError, match="worker index"):
        ArrivalSchedule(10.0, 1.0).for_worker(3, 2)


def test_plan_in_flight_defaults_to_rate_times_timeout_and_survives_json() -> None:
    plan = LoadPlan(
        host="http://127.0.0.1:1",
        requests=(RequestSpec(),),
        users=1,
        rate_per_s=50.0,
        timeout_s=2.0,
        seed=7,
    )
    assert plan.open_model and plan.in_flight_cap == 100
    assert LoadPlan.from_json(plan.to_json()) == plan
    assert plan.schedule().seed == 7 and plan.schedule().rate_per_s == 50.0


def test_ledger_to_tally_keeps_counts_by_window_and_the_lag() -> None:
    ledger = ArrivalLedger(measure_start_s=1.0)
    ledger.sent(0.5, 0.5, capped=False)  # warm-up: not measured
    for i in range(100):
        ledger.sent(1.0 + i / 100, 1.0 + i / 100 + 0.001 * (i == 99) * 50, capped=False)
    ledger.sent(2.2, 2.9, capped=True)
    ledger.unsent(2.5)
    tally = ArrivalTally()
    tally.add(ledger.flush())
    assert ledger.flush().windows == ()  # flushed means forgotten
    assert tally.scheduled == {0: 100, 1: 2} and tally.sent == {0: 100, 1: 1}
    assert tally.capped == {1: 1} and tally.unsent == {1: 1}
    assert tally.lag_quantile(0.50) == pytest.approx(1e-6, abs=1e-6)  # on time
    assert tally.lag_max() == pytest.approx(0.05, rel=0.002)  # the one late arrival
    summary = tally.summary(ArrivalSchedule(100.0, 3.0, seed=4))
    assert (summary.scheduled, summary.sent, summary.capped, summary.unsent) == (102, 101, 1, 1)
    assert summary.to_dict()["seed"] == 4


def test_a_short_offer_or_a_late_scheduler_cannot_pass() -> None:
    tally = ArrivalTally()
    ledger = ArrivalLedger(0.0)
    for i in range(98):
        ledger.sent(i / 100, i / 100, capped=False)
    ledger.unsent(0.985)
    ledger.unsent(0.995)
    tally.add(ledger.flush())
    summary = tally.summary(ArrivalSchedule(100.0, 1.0))
    reason = schedule_reason(summary, max_lag_s=0.02)
    assert reason is not None and "98 of the 100" in reason and "fell behind" in reason
    ledger.sent(1.5, 1.6, capped=False)  # 100 ms late
    ledger.sent(1.6, 1.7, capped=False)
    tally = ArrivalTally()
    tally.add(ledger.flush())
    late = schedule_reason(tally.summary(ArrivalSchedule(100.0, 2.0)), max_lag_s=0.02)
    assert late is not None and "max_lag" in late
    assert schedule_reason(tally.summary(ArrivalSchedule(100.0, 2.0)), max_lag_s=0.2) is None
