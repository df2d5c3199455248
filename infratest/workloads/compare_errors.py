"""errors.rate's change in a compare. A bootstrap of windows with no failure on either side
would say "+0pp exactly"; instead each side's share gets a Clopper-Pearson bound on its
effective counts (the design effect over windows, so bursts of failures widen it), decided
once at the end, and the two are combined."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from infratest.deltas import Delta
from infratest.stats import Interval
from infratest.windows import proportion_once_over_windows
from infratest.workloads.load_record import LoadRecord
from infratest.workloads.rounds import BASELINE, CANDIDATE


def side_errors(record: LoadRecord, confidence: float) -> Interval:
    """One side's failed share, decided once at the end; an unanswered request counts as a
    failure for the upper bound and a success for the lower (it could still go either way)."""
    windows = record.complete_windows
    ok, failed = record.outcomes.per_window(windows)
    censored = record.censored().windows
    unanswered = np.bincount(censored[(censored >= 0) & (censored < windows)], minlength=windows)
    known = proportion_once_over_windows(ok + failed, failed, confidence)
    if not unanswered.any():
        return known
    sent = ok + failed + unanswered
    worst = proportion_once_over_windows(sent, failed + unanswered, confidence)
    best = proportion_once_over_windows(sent, failed, confidence)
    return dataclasses.replace(known, low=best.low, high=worst.high)


def errors_change(records: dict[int, LoadRecord], confidence: float) -> Delta:
    """errors.rate's change from each side's own interval at 1 − α/2 (over windows, so bursts
    count), ends combined: valid at `confidence` by Bonferroni, and never zero-width when
    neither side failed (a bootstrap of no failures would say "+0pp exactly")."""
    each = 1.0 - (1.0 - confidence) / 2.0
    base, cand = (side_errors(records[s], each) for s in (BASELINE, CANDIDATE))
    n, method = cand.n + base.n, "bonferroni-windows"
    absolute = Interval(
        cand.value - base.value, cand.low - base.high, cand.high - base.low, confidence, n, method
    )
    relative = Interval(math.nan, -math.inf, math.inf, confidence, n, method)
    if base.value > 0 and base.low > 0:
        ratio = (cand.value / base.value, cand.low / base.high, cand.high / base.low)
        relative = Interval(*(x - 1.0 for x in ratio), confidence, n, method)
    return Delta("errors.rate", base.value, cand.value, absolute, relative)
