"""Probes on both sides of a compare: each target's process is sampled for the whole run
(both receive the same alternating load), the candidate's figures are its own values, and
each process metric's change from the baseline is set beside them."""

from __future__ import annotations

from infratest.deltas import Delta, change_from_bounds
from infratest.measurements import Measurements
from infratest.metrics import CHANGE_METRICS
from infratest.observation import Observation
from infratest.spec.scenario import Assumption
from infratest.stats import Interval


def probe_change(metric: str, base: Interval, cand: Interval) -> Delta:
    """One process metric's change from the baseline's reading."""
    return change_from_bounds(metric, base, cand, "probe-bounds")


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
