"""Probes on both sides of a compare: each target's process is sampled for the whole run
(both receive the same alternating load), the candidate's figures are its own values, and
each process metric's change from the baseline is set beside them."""

from __future__ import annotations

import math

from infratest.deltas import Delta
from infratest.measurements import Measurements
from infratest.metrics import CHANGE_METRICS
from infratest.observation import Observation
from infratest.spec.scenario import Assumption
from infratest.stats import Interval

METHOD = "probe-bounds"


def _difference(base: Interval, cand: Interval) -> Interval:
    """candidate − baseline, each end taken at the other's far end (conservative)."""
    low, high = cand.low - base.high, cand.high - base.low
    value = cand.value - base.value
    return Interval(value, min(low, value), max(high, value), cand.confidence, cand.n, METHOD)


def _ratio(base: Interval, cand: Interval) -> Interval:
    """candidate ÷ baseline − 1, bounded the same way; unbounded when the baseline may be 0."""
    c = cand.confidence
    if not base.value > 0 or not math.isfinite(cand.value):
        return Interval(math.nan, -math.inf, math.inf, c, cand.n, METHOD)
    value = cand.value / base.value - 1.0
    low = cand.low / base.high - 1.0 if base.high > 0 and math.isfinite(base.high) else -1.0
    high = cand.high / base.low - 1.0 if base.low > 0 else math.inf
    return Interval(value, min(low, value), max(high, value), c, cand.n, METHOD)


def probe_change(metric: str, base: Interval, cand: Interval) -> Delta:
    """One process metric's change from the baseline's reading."""
    return Delta(metric, base.value, cand.value, _difference(base, cand), _ratio(base, cand))


def compared_probes(
    assumption: Assumption,
    found: Measurements,
    baseline: Observation,
    candidate: Observation,
    confidence: float,
) -> Measurements:
    """The candidate's probe figures, their changes, and the baseline's beside them."""
    base = baseline.finish(assumption, found, confidence)
    cand = candidate.finish(assumption, found, confidence)
    out = Measurements(values=dict(cand.values), notes=[f"candidate: {n}" for n in cand.notes])
    out.notes += [f"baseline: {n}" for n in base.notes]
    out.series["probe"] = cand.series.get("probe", {})
    out.series["probe_baseline"] = base.series.get("probe", {})
    for metric, interval in cand.values.items():
        if metric in CHANGE_METRICS and metric in base.values:
            out.changes[metric] = probe_change(metric, base.values[metric], interval)
    compare = found.series.get("compare")
    if compare is not None:
        compare["baseline"].update({m: iv.to_dict() for m, iv in base.values.items()})
        compare["candidate"].update({m: iv.to_dict() for m, iv in cand.values.items()})
    return out
