"""errors.rate's change in a compare. A bootstrap of windows with no failure on either side
would say "+0pp exactly"; instead each side's share gets its fixed-sample interval over
windows (the design effect, so bursts of failures widen it) at 1 − α/2, decided once at the
end, and the two are combined (Bonferroni)."""

from __future__ import annotations

from infratest.deltas import Delta, change_from_bounds
from infratest.workloads.load_figures import Reading, load_intervals
from infratest.workloads.load_record import LoadRecord
from infratest.workloads.rounds import BASELINE, CANDIDATE


def errors_change(records: dict[int, LoadRecord], confidence: float, latency_of: str) -> Delta:
    """The candidate's errors.rate change from the baseline's, valid at `confidence`."""
    each = Reading(1.0 - (1.0 - confidence) / 2.0, latency_of, once=True)
    base, cand = (
        load_intervals(records[side], each, ["errors.rate"])["errors.rate"]
        for side in (BASELINE, CANDIDATE)
    )
    return change_from_bounds("errors.rate", base, cand, "bonferroni-windows", confidence)
