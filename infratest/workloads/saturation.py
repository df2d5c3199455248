"""When the load generator itself is the bottleneck, its latency figures describe its own
queueing, not the target: detect that from its CPU and from its event loop's lateness."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

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
STANDS_WHEN_SATURATED = frozenset({"errors.rate", "errors.count", "requests", "generator.cpu.peak"})


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
