"""When the load generator itself is the bottleneck, its latency figures describe its own
queueing, not the target: detect that from its CPU and from its event loop's lateness, and
(open model) from a schedule it could not keep."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from infratest.metrics import PREDICTION_METRICS
from infratest.workloads.arrival_record import ArrivalSummary

# One Locust process drives about one core; beyond this share its own queueing shows up as
# target latency.
GENERATOR_SATURATION_CORES = 0.9
# The event loop is asked to wake every 50 ms; when it is late by more than this in more
# than LAG_SHARE of the samples, requests are sent (and timed) late.
LAG_LIMIT_S = 0.020
LAG_SHARE = 0.10
LAG_MIN_SAMPLES = 20

# Metrics that stand even when the generator was saturated: what the target answered is
# still what it answered; how fast, and how much it could carry, is not known.
# The generator's own figures (what it sent, how late) stand too: they are about it.
STANDS_WHEN_SATURATED = frozenset(
    {
        "errors.rate",
        "errors.count",
        "requests",
        "generator.cpu.peak",
        "requests.rate",
        "arrival.lag.p50",
        "arrival.lag.p99",
        "arrival.lag.max",
        *PREDICTION_METRICS,  # a compare's answers do not depend on how the generator kept up
    }
)

# Open model: below this share of the arrivals its own schedule asked for, a run did not offer
# the load its checks are about.
MIN_OFFERED = 0.99
# Default `max_lag`: measured on a slow 2-core box (benchmarks/open_loop.py), the scheduler's
# lag p99 is 2-3 ms at 100/s and 5-8 ms at 1000/s while it keeps up, and jumps past 100 ms once
# it cannot; 20 ms lies between, and is small against the latencies checks are about.
DEFAULT_MAX_LAG_S = 0.020


def lag_share(lag_s: Sequence[float]) -> float:
    """Share of event-loop wake-ups that came later than LAG_LIMIT_S."""
    lags = np.asarray(lag_s, dtype=float)
    return float((lags > LAG_LIMIT_S).mean()) if lags.size else 0.0


def saturation_reason(cpu_peak: float, lag_s: Sequence[float]) -> str | None:
    """Why the generator's latency and throughput figures cannot be trusted, or None."""
    advice = "use fewer users or add think time (`wait`)"
    if cpu_peak >= GENERATOR_SATURATION_CORES:
        return (
            f"the load generator was saturated ({cpu_peak:.2f} cores, limit "
            f"{GENERATOR_SATURATION_CORES}): its own queueing is in the figures; {advice}"
        )
    share = lag_share(lag_s)
    if len(lag_s) >= LAG_MIN_SAMPLES and share > LAG_SHARE:
        return (
            f"the load generator fell behind its schedule ({share:.0%} of its event-loop "
            f"wake-ups were over {LAG_LIMIT_S * 1000:.0f} ms late): requests were sent and "
            f"timed late; {advice}"
        )
    return None


def schedule_reason(arrivals: ArrivalSummary | None, max_lag_s: float) -> str | None:
    """Why an open-model run's figures describe a smaller or later load than asked, or None.
    Judged against what the schedule asked in this run, not the nominal rate × seconds; one
    arrival due as the run stopped may go unsent without counting as a shortfall (so the
    tolerance is 1% or one arrival, whichever is more)."""
    if arrivals is None or not arrivals.scheduled:
        return None
    missing = arrivals.scheduled - arrivals.sent
    if missing > max((1 - MIN_OFFERED) * arrivals.scheduled, 1):
        why = (
            f"max_in_flight was full at {arrivals.capped} arrivals (the target did not keep up)"
            if arrivals.capped
            else "the load generator fell behind"
        )
        return (
            f"only {arrivals.sent} of the {arrivals.scheduled} scheduled arrivals were sent "
            f"({arrivals.offered_share:.1%} < {MIN_OFFERED:.0%}): {why}; the asked rate "
            f"was not offered"
        )
    lag = arrivals.lag_p99_s
    if lag is not None and lag > max_lag_s:
        return (
            f"the arrival scheduler sent late (lag p99 {lag * 1000:.1f} ms > max_lag "
            f"{max_lag_s * 1000:.0f} ms): the load generator could not keep the schedule; "
            f"use a lower rate or more workers"
        )
    return None
