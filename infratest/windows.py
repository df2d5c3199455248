"""Per-second windows of request outcomes, filled while load runs and read every second.

The parent process receives latency histogram deltas per 1-second window (the window is
the second a request started) and re-decides its checks after every window. Keeping the
windows apart, rather than one pooled histogram, is what lets the statistics see bursts:
the design effect (:mod:`infratest.correlation`) compares how counts vary between windows
with how much they would vary for independent requests.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import beta

from infratest.anytime import (
    fail_test_rejects,
    pass_test_rejects,
    proportion_cs,
    quantile_cs,
    rate_cs,
    ratio_mean_cs,
)
from infratest.correlation import design_effect
from infratest.stats import Interval, _check_confidence, exact

__all__ = [
    "Censored",
    "LatencyWindows",
    "merge_histograms",
    "proportion_once_over_windows",
    "proportion_over_windows",
    "rate_over_windows",
]

_INITIAL_ROWS = 1024
INF = math.inf


@dataclass(frozen=True, eq=False)
class Censored:
    """Requests that had not finished: each has a start window and a lower bound."""

    windows: np.ndarray  # start window of each unfinished request
    elapsed_s: np.ndarray  # how long each had been waiting (a lower bound of its latency)
    cap_s: float = INF  # the timeout: none can take longer (inf if unknown)

    def __post_init__(self) -> None:
        w = np.asarray(self.windows, dtype=np.int64).reshape(-1)
        e = np.asarray(self.elapsed_s, dtype=float).reshape(-1)
        if w.shape != e.shape:
            raise ValueError(f"censored: {w.size} windows but {e.size} elapsed times")
        if np.any(~np.isfinite(e)) or np.any(e < 0) or math.isnan(self.cap_s):
            raise ValueError("censored: elapsed times must be finite and >= 0, cap not nan")
        object.__setattr__(self, "windows", w)
        object.__setattr__(self, "elapsed_s", e)


def _no_censored() -> Censored:
    return Censored(np.zeros(0, dtype=np.int64), np.zeros(0))


@dataclass(frozen=True)
class _WindowSeries:
    """The union of the store's and the censored requests' windows, in time order, and
    where each store slot and each censored request falls in it."""

    windows: np.ndarray
    slot_position: np.ndarray  # store slot -> position in `windows`
    censored_position: np.ndarray


def merge_histograms(
    values: np.ndarray, counts: np.ndarray, new_values: np.ndarray, new_counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted histogram plus unsorted rows, without re-sorting what is already sorted: the
    pooled histogram is brought up to date every second, the new rows are few."""
    distinct, inv = np.unique(new_values, return_inverse=True)
    added = np.bincount(inv.reshape(-1), weights=new_counts, minlength=distinct.size)
    added = np.rint(added).astype(np.int64)
    at = np.searchsorted(values, distinct)
    known = at < values.size
    known[known] = values[at[known]] == distinct[known]
    counts = counts.copy()
    counts[at[known]] += added[known]
    fresh = ~known
    return np.insert(values, at[fresh], distinct[fresh]), np.insert(counts, at[fresh], added[fresh])


class LatencyWindows:
    """Per-1s-window latency histograms of one request population, filled incrementally.

    Columnar rows (window slot, value, count) grown by doubling: an hour at 300 distinct
    values a window is ~1M rows, ~20 MB. The pooled histogram is cached and brought up to
    date from the rows added since, so reading it every second stays cheap.
    """

    def __init__(self) -> None:
        self._slot_of: dict[int, int] = {}
        self._slot_window = np.zeros(0, dtype=np.int64)
        self._slot_trials = np.zeros(0, dtype=np.int64)
        self._row_slot = np.zeros(_INITIAL_ROWS, dtype=np.int32)
        self._row_value = np.zeros(_INITIAL_ROWS, dtype=float)
        self._row_count = np.zeros(_INITIAL_ROWS, dtype=np.int64)
        self._rows = 0
        self._pool = (np.zeros(0), np.zeros(0, dtype=np.int64))
        self._pooled_rows = 0

    def _slot(self, window: int) -> int:
        slot = self._slot_of.get(window)
        if slot is None:
            slot = len(self._slot_of)
            self._slot_of[window] = slot
            self._slot_window = np.append(self._slot_window, window)
            self._slot_trials = np.append(self._slot_trials, 0)
        return slot

    def _reserve(self, extra: int) -> None:
        need = self._rows + extra
        if need <= self._row_slot.size:
            return
        size = max(need, 2 * self._row_slot.size)
        for name in ("_row_slot", "_row_value", "_row_count"):
            old = getattr(self, name)
            grown = np.zeros(size, dtype=old.dtype)
            grown[: self._rows] = old[: self._rows]
            setattr(self, name, grown)

    def add(self, window: int, values_s: ArrayLike, counts: ArrayLike) -> None:
        """Add a histogram delta for one window (may repeat for the same window)."""
        v = np.asarray(values_s, dtype=float).reshape(-1)
        k = np.asarray(counts).reshape(-1)
        if v.shape != k.shape:
            raise ValueError(f"window {window}: {v.size} values but {k.size} counts")
        if np.any(~np.isfinite(v)) or np.any(v < 0):
            raise ValueError(f"window {window}: latencies must be finite and >= 0 seconds")
        if np.any(k < 0) or np.any(k != np.round(k)):
            raise ValueError(f"window {window}: counts must be whole numbers >= 0")
        keep = k > 0
        v, k = v[keep], k[keep].astype(np.int64)
        if v.size == 0:
            return
        slot = self._slot(int(window))
        self._reserve(v.size)
        end = self._rows + v.size
        self._row_slot[self._rows : end] = slot
        self._row_value[self._rows : end] = v
        self._row_count[self._rows : end] = k
        self._rows = end
        self._slot_trials[slot] += int(k.sum())

    def merge(self, other: LatencyWindows) -> None:
        """Add everything another store holds (e.g. from another load worker)."""
        if other._rows == 0:
            return
        rows = slice(0, other._rows)
        order = np.argsort(other._row_slot[rows], kind="stable")
        slots = other._row_slot[rows][order]
        starts = np.flatnonzero(np.r_[True, slots[1:] != slots[:-1]])
        ends = np.r_[starts[1:], slots.size]
        for start, end in zip(starts, ends, strict=True):
            pick = order[start:end]
            window = int(other._slot_window[slots[start]])
            self.add(window, other._row_value[pick], other._row_count[pick])

    def trials(self) -> int:
        """Finished requests recorded."""
        return int(self._slot_trials.sum())

    def windows(self) -> np.ndarray:
        """Window indices with data, ascending."""
        return np.sort(self._slot_window)

    def pooled(self) -> tuple[np.ndarray, np.ndarray]:
        """All windows as one histogram: distinct values ascending, their counts."""
        if self._pooled_rows < self._rows:
            new = slice(self._pooled_rows, self._rows)
            self._pool = merge_histograms(*self._pool, self._row_value[new], self._row_count[new])
            self._pooled_rows = self._rows
        return self._pool[0].copy(), self._pool[1].copy()

    def _per_slot(self, weights: np.ndarray | None, mask: np.ndarray | None) -> np.ndarray:
        """Per slot: sum of counts (times `weights` per row), over the rows in `mask`."""
        rows = slice(0, self._rows)
        slot, w = self._row_slot[rows], self._row_count[rows].astype(float)
        if weights is not None:
            w = w * weights[rows]
        if mask is not None:
            slot, w = slot[mask], w[mask]
        return np.bincount(slot, weights=w, minlength=self._slot_window.size)

    def _series(self, censored: Censored) -> _WindowSeries:
        both = np.concatenate([self._slot_window, censored.windows])
        windows, inv = np.unique(both, return_inverse=True)
        inv = inv.reshape(-1)
        n_slots = self._slot_window.size
        return _WindowSeries(windows, inv[:n_slots], inv[n_slots:])

    def _spread(self, positions: np.ndarray, per: np.ndarray, size: int) -> np.ndarray:
        # float even when empty (bincount of nothing is an int array)
        return np.bincount(positions, weights=per, minlength=size).astype(float)

    def per_window(self) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """Each window's own histogram (window, distinct values ascending, counts), in window
        order: for per-second plots. One sort of the rows, then one pass."""
        rows = slice(0, self._rows)
        order = np.argsort(self._row_slot[rows], kind="stable")
        slots = self._row_slot[rows][order]
        cuts = np.flatnonzero(np.diff(slots)) + 1
        groups = (
            {int(self._row_slot[idx[0]]): idx for idx in np.split(order, cuts) if idx.size}
            if slots.size
            else {}
        )
        for slot in np.argsort(self._slot_window):
            idx = groups.get(int(slot))
            if idx is None:
                continue
            distinct, inv = np.unique(self._row_value[idx], return_inverse=True)
            summed = np.bincount(
                inv.reshape(-1), weights=self._row_count[idx], minlength=distinct.size
            )
            yield int(self._slot_window[slot]), distinct, np.rint(summed).astype(np.int64)

    def exceedances(self, bound_s: float) -> tuple[np.ndarray, np.ndarray]:
        """Per window (ascending): trials, and how many took >= bound_s."""
        order = np.argsort(self._slot_window)
        over = self._per_slot(None, self._row_value[: self._rows] >= bound_s)
        return self._slot_trials[order].copy(), np.rint(over[order]).astype(np.int64)

    def _design_effect_at(
        self, bound_s: float, censored: Censored, cautious: bool = False, above: bool = False
    ) -> float:
        """D of the exceedance counts at `bound_s`: of requests >= bound_s with unfinished
        ones at their wait (the events a fail test counts), or with `above` of requests
        > bound_s with unfinished ones at their cap (what a pass test counts). D must be
        that of the events the test counts: a pass bound at the slowest request seen has no
        event above it, so nothing there to be correlated."""
        series = self._series(censored)
        size = series.windows.size
        values = self._row_value[: self._rows]
        over = self._per_slot(None, values > bound_s if above else values >= bound_s)
        trials = self._spread(series.slot_position, self._slot_trials.astype(float), size)
        events = self._spread(series.slot_position, over, size)
        c_pos = series.censored_position
        trials += np.bincount(c_pos, minlength=size)
        waited = np.maximum(censored.elapsed_s, censored.cap_s) if above else censored.elapsed_s
        hit = waited > bound_s if above else waited >= bound_s
        events += np.bincount(c_pos, weights=hit, minlength=size)
        return design_effect(trials, events, cautious)

    def quantile(
        self, q: float, confidence: float, censored: Censored | None = None, cautious: bool = False
    ) -> Interval:
        """Anytime-valid q-quantile. Each candidate bound b is tested with the design effect
        of the exceedance counts *at b*: bursts of slow requests widen the bounds they reach,
        while a tail no window reaches (D = 1 there) keeps the binomial width. (The design
        effect at the point estimate alone would let any drift of the median between windows
        widen a p95 bound far out in the tail.) `cautious`: the design effect's upper bound,
        for decisions taken while load runs."""
        cens = censored or _no_censored()
        values, counts = self.pooled()
        first = quantile_cs(values, counts, q, confidence, censored=cens.elapsed_s, cap=cens.cap_s)
        if math.isnan(first.value):
            return first
        tails = _Tails(values, counts, cens)
        test = _BoundTest(self, cens, tails, 1.0 - q, confidence, cautious)
        high = test.upper(first.high)
        low = test.lower(first.low)
        d = self._design_effect_at(first.value, cens, cautious)
        return replace(
            first, low=min(low, first.value), high=max(high, first.value), effective_n=tails.n / d
        )

    def mean(self, confidence: float, censored: Censored | None = None) -> Interval:
        """Anytime-valid mean latency from per-window sums; ``n`` counts requests."""
        cens = censored or _no_censored()
        series = self._series(cens)
        size, c_pos = series.windows.size, series.censored_position
        sums = self._spread(series.slot_position, self._per_slot(self._row_value, None), size)
        sizes = self._spread(series.slot_position, self._slot_trials.astype(float), size)
        sizes += np.bincount(c_pos, minlength=size)
        low_extra = np.bincount(c_pos, weights=cens.elapsed_s, minlength=size)
        cap = np.maximum(cens.elapsed_s, cens.cap_s)
        high_extra = np.zeros(size)
        np.add.at(high_extra, c_pos, cap)
        iv = ratio_mean_cs(sums, sizes, confidence, low_extra, high_extra)
        return replace(iv, n=round(float(sizes.sum())))

    def max(self, confidence: float, censored: Censored | None = None) -> Interval:
        """The observed maximum: exact when every request finished, otherwise between the
        longest wait seen and the cap."""
        c = _check_confidence(confidence)
        cens = censored or _no_censored()
        values, _ = self.pooled()
        seen = float(values[-1]) if values.size else -INF
        n = self.trials() + int(cens.elapsed_s.size)
        if cens.elapsed_s.size == 0:
            if n == 0:
                return Interval(math.nan, -INF, INF, c, 0, "exact")
            return exact(seen, c, n)
        low = max(seen, float(cens.elapsed_s.max()))
        return Interval(low, low, max(float(cens.cap_s), low), c, n, "censored-max")


@dataclass(frozen=True, eq=False)
class _Tails:
    """The pooled sample seen two ways: censored requests at their cap (pessimistic, for
    upper bounds) and at their elapsed time (optimistic, for lower bounds)."""

    values: np.ndarray
    counts: np.ndarray
    censored: Censored

    @property
    def n(self) -> float:
        return float(self.counts.sum()) + float(self.censored.elapsed_s.size)

    def above(self, b: float) -> float:
        """Pessimistic count of samples strictly above b."""
        capped = np.maximum(self.censored.elapsed_s, self.censored.cap_s)
        return float(self.counts[self.values > b].sum() + (capped > b).sum())

    def at_least(self, b: float) -> float:
        """Optimistic count of samples >= b."""
        return float(self.counts[self.values >= b].sum() + (self.censored.elapsed_s >= b).sum())

    def upper_candidates(self) -> np.ndarray:
        capped = np.maximum(self.censored.elapsed_s, self.censored.cap_s)
        return np.unique(np.concatenate([self.values, capped]))

    def lower_candidates(self) -> np.ndarray:
        return np.unique(np.concatenate([self.values, self.censored.elapsed_s]))


class _BoundTest:
    """Bounds of a quantile found by testing candidate values, each with its own design
    effect; a bisection over the distinct values (the tests are monotone in b)."""

    def __init__(
        self,
        store: LatencyWindows,
        cens: Censored,
        tails: _Tails,
        p0: float,
        confidence: float,
        cautious: bool,
    ) -> None:
        self.store, self.cens, self.tails = store, cens, tails
        self.p0, self.confidence, self.cautious = p0, confidence, cautious

    def _effect(self, b: float, above: bool) -> float:
        return self.store._design_effect_at(b, self.cens, self.cautious, above)

    def passes_below(self, b: float) -> bool:
        """The q-quantile is shown to be at most b."""
        d, n = self._effect(b, above=True), self.tails.n
        return pass_test_rejects(self.tails.above(b) / d, n / d, self.p0, self.confidence)

    def fails_above(self, b: float) -> bool:
        """The q-quantile is shown to be at least b."""
        d, n = self._effect(b, above=False), self.tails.n
        return fail_test_rejects(self.tails.at_least(b) / d, n / d, self.p0, self.confidence)

    def upper(self, start: float) -> float:
        """Smallest candidate >= start (the bound without correlation) that passes."""
        if not math.isfinite(start) or self.passes_below(start):
            return start
        candidates = self.tails.upper_candidates()
        lo, hi = int(np.searchsorted(candidates, start, side="right")), candidates.size - 1
        if lo > hi or not self.passes_below(float(candidates[hi])):
            return INF
        while lo < hi:
            mid = (lo + hi) // 2
            if self.passes_below(float(candidates[mid])):
                hi = mid
            else:
                lo = mid + 1
        return float(candidates[lo])

    def lower(self, start: float) -> float:
        """Largest candidate <= start (the bound without correlation) that fails."""
        if not math.isfinite(start) or self.fails_above(start):
            return start
        candidates = self.tails.lower_candidates()
        lo, hi = 0, int(np.searchsorted(candidates, start, side="left")) - 1
        if hi < lo or not self.fails_above(float(candidates[lo])):
            return -INF
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.fails_above(float(candidates[mid])):
                lo = mid
            else:
                hi = mid - 1
        return float(candidates[lo])


Windows = tuple[ArrayLike, ArrayLike]  # per-window (trials, events), in time order


def proportion_over_windows(
    trials: ArrayLike,
    events: ArrayLike,
    confidence: float,
    cautious: bool = False,
    effect_of: Windows | None = None,
) -> Interval:
    """Anytime-valid share of events (e.g. errors) from per-window counts in time order;
    `cautious` as for the design effect, which comes from `effect_of` when given (other
    windows' counts whose correlation stands for these), else from these counts."""
    n = np.asarray(trials, dtype=float).reshape(-1)
    x = np.asarray(events, dtype=float).reshape(-1)
    d = design_effect(*(effect_of or (n, x)), cautious)
    return proportion_cs(float(x.sum()), float(n.sum()), confidence, d)


def proportion_once_over_windows(
    trials: ArrayLike, events: ArrayLike, confidence: float, effect_of: Windows | None = None
) -> Interval:
    """Share of events decided once, at the end (a compare, never watched while it runs):
    Clopper-Pearson one-sided bounds on the effective counts k/D of n/D, the design effect D
    from the per-window counts (or `effect_of`'s), so bursts widen it and independent
    requests do not."""
    c = _check_confidence(confidence)
    n = np.asarray(trials, dtype=float).reshape(-1)
    x = np.asarray(events, dtype=float).reshape(-1)
    total, hits = float(n.sum()), float(x.sum())
    if total <= 0:
        return Interval(math.nan, 0.0, 1.0, c, 0, "clopper-pearson-windows")
    d = design_effect(*(effect_of or (n, x)))
    size, k = total / d, hits / d
    low = float(beta.ppf(1.0 - c, k, size - k + 1.0)) if k > 0 else 0.0
    high = float(beta.ppf(c, k + 1.0, size - k)) if k < size else 1.0
    value = hits / total
    return Interval(
        value, min(low, value), max(high, value), c, int(total), "clopper-pearson-windows", size
    )


def rate_over_windows(counts: ArrayLike, confidence: float, window_s: float = 1.0) -> Interval:
    """Anytime-valid events per second from per-window counts (empty windows as 0)."""
    return rate_cs(counts, window_s, confidence)
