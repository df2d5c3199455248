"""How much a candidate differs from a baseline, as intervals of the delta.

A ``compare:`` runs the same load against a baseline (A) and a candidate (B) interleaved in
ABBA blocks, and decides conditions like ``latency.p95: <= +10%`` on the interval of the
delta. Requests are not independent (slow ones and failures come in bursts) but 1-second
windows nearly are, so the intervals come from a bootstrap over windows: each side's windows
are resampled with replacement, the sides independently, and every statistic is recomputed
from the resampled windows, all resamples at once (a weights matrix times per-window
cumulative counts on a common value grid).

Resampling is stratified by ABBA round: each side keeps its windows' share of every round.
The block schedule is fixed by design, not drawn at random, so a drift (both targets slow
down halfway) moves both sides alike and cancels in the point delta; resampling across
rounds would re-mix early and late windows and add that drift's spread to each side, making
the interval as wide as the drift. Within a round a side's windows (one block in a compare
run; two in the test simulator's A B B A rounds) are pooled, so drift inside a round and
block-to-block noise stay in the spread. A bootstrap from m windows per stratum
underestimates the variance by (m-1)/m, and its quantiles are normal-like where a t would be
right; with 15 windows in 4 strata both matter, so each end is widened about the estimate
by sqrt(n/(n-H)) * t_{n-H}(c) / z(c) (n windows, H strata), which tends to 1 as windows
accumulate.

A side's latency figure (quantiles, mean) is the mean over strata of the stratum's pooled
figure, in the point value and in every resample, not the figure of all its requests pooled.
In a closed loop (users wait for each answer) a window holds fewer requests the slower the
targets are, so under a steady drift pooling weights a side's early, fast, busy blocks most,
and the two sides, whose blocks sit at different times, get different weights: a same-speed
candidate then looks faster or slower by more than its interval. With every round counting
once, a linear drift cancels whatever the request counts: the rounds alternate A B and B A,
so each round's step from one side's block to the other's is undone by the next (exactly
with an even number of rounds; an odd number leaves one step / R, so a compare refuses
odd counts above 1). Strata are common to both
sides (a round too small on either side is merged on both), so both average over the same
rounds. Throughput and error rate stay pooled ratios: their per-window counts are what they
measure. With one round (A then B) nothing differs from pooling.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from infratest.metrics import LOAD_CHANGE_METRICS
from infratest.stats import Interval

__all__ = ["DELTA_METRICS", "Delta", "SideSample", "change_from_bounds", "delta_intervals"]

DELTA_METRICS = LOAD_CHANGE_METRICS
METHOD = "window-bootstrap"
QUANTILES = {"latency.p50": 0.5, "latency.p90": 0.9, "latency.p95": 0.95, "latency.p99": 0.99}
MAX_EXACT_GRID = 1024  # distinct values kept as they are; more are rebinned to a log grid
LOG_BIN_WIDTH = 0.002  # relative width of a rebinned cell: 0.2%
CHUNK = 256  # resamples per matrix product, to keep the (chunk x grid) block in cache
NAN = math.nan
INF = math.inf


@dataclass(frozen=True)
class SideSample:
    """One side of a comparison, per 1-second window of its blocks, in time order."""

    latency_values: tuple[np.ndarray, ...]  # per window: distinct latencies (s), ascending
    latency_counts: tuple[np.ndarray, ...]  # per window: their counts (ints)
    ok: np.ndarray  # per window: successful requests
    failed: np.ndarray  # per window: failed requests
    block: np.ndarray  # per window: index of the ABBA block it belongs to (0..2R-1)

    @property
    def windows(self) -> int:
        return int(np.asarray(self.ok).size)


@dataclass(frozen=True)
class Delta:
    """Candidate against baseline for one metric: both point values and the delta's bounds."""

    metric: str
    baseline: float  # the baseline's point value (SI); latency: the mean over rounds
    candidate: float  # the candidate's point value (SI); latency: the mean over rounds
    absolute: Interval  # candidate - baseline, in the metric's SI unit (errors.rate: points)
    relative: Interval  # candidate / baseline - 1; value nan (and low/high nan) when baseline 0


@dataclass(frozen=True)
class _Estimate:
    """One side's metric: exact point value, the same on the grid, and every resample's."""

    exact: float
    reference: float  # the point value as the resamples compute it (rebinned grid)
    draws: np.ndarray  # (resamples,)


def _strata(blocks: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Stratum of each window of each side: its ABBA round (block // 2), a round with fewer
    than two windows on either side merged into the one before on both (a lone window would
    carry no spread, and both sides must average their figures over the same rounds)."""
    rounds = [np.asarray(b, dtype=np.int64).reshape(-1) // 2 for b in blocks]
    present = [r for r in rounds if r.size]
    if not present:
        return [np.zeros(r.size, dtype=np.int64) for r in rounds]
    names = np.unique(np.concatenate(present))
    sizes = np.array(
        [np.bincount(np.searchsorted(names, r), minlength=names.size) for r in present]
    )
    labels = np.zeros(names.size, dtype=np.int64)
    current, held = 0, np.zeros(len(present), dtype=np.int64)
    for i in range(names.size):
        if held.min() >= 2:
            current, held = current + 1, np.zeros_like(held)
        labels[i] = current
        held += sizes[:, i]
    if current > 0 and held.min() < 2:
        labels[labels == current] = current - 1
    return [labels[np.searchsorted(names, r)] for r in rounds]


def _weights(strata: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """(resamples x windows) multiplicities: each stratum's windows drawn with replacement."""
    n = strata.size
    picks = np.empty((resamples, n), dtype=np.int64)
    for label in np.unique(strata):
        members = np.flatnonzero(strata == label)
        picks[:, members] = members[rng.integers(0, members.size, (resamples, members.size))]
    flat = (picks + np.arange(resamples)[:, None] * n).reshape(-1)
    return np.bincount(flat, minlength=resamples * n).reshape(resamples, n).astype(float)


def _widening(side: SideSample, strata: np.ndarray, confidence: float) -> float:
    """sqrt(n/(n-H)) * t_{n-H}(c)/z(c): the stratified bootstrap's variance bias and the
    t/normal gap of few windows; inf when there is no spread to resample."""
    n, h = side.windows, int(np.unique(strata).size)
    df = n - h
    if df < 1:
        return INF
    z = float(sps.norm.ppf(confidence))
    return math.sqrt(n / df) * float(sps.t.ppf(confidence, df)) / z


@dataclass(frozen=True)
class _Grid:
    """Common value grid of both sides: cell representatives ascending, and (when rebinned)
    the sorted cell keys, so any latency maps to its cell."""

    values: np.ndarray
    keys: np.ndarray | None  # None: every distinct value is its own cell
    anchor: float = 1.0

    @classmethod
    def of(cls, sides: Sequence[SideSample]) -> _Grid:
        """Beyond MAX_EXACT_GRID distinct values, cells 0.2% wide anchored at the smallest
        positive value (so scaling every latency scales the grid too), each represented by
        its smallest value."""
        parts = [np.asarray(v, dtype=float).reshape(-1) for s in sides for v in s.latency_values]
        distinct = np.unique(np.concatenate(parts)) if parts else np.zeros(0)
        if distinct.size <= MAX_EXACT_GRID:
            return cls(distinct, None)
        positive = distinct[distinct > 0]
        anchor = float(positive[0]) if positive.size else 1.0
        keys = _log_keys(distinct, anchor)
        unique_keys, first = np.unique(keys, return_index=True)
        return cls(distinct[first], unique_keys, anchor)

    def cells(self, x: np.ndarray) -> np.ndarray:
        if self.keys is None:
            return np.searchsorted(self.values, x)
        return np.searchsorted(self.keys, _log_keys(x, self.anchor))


def _log_keys(x: np.ndarray, anchor: float) -> np.ndarray:
    """Index of the 0.2%-wide log cell of each value above `anchor`; -1 for values <= 0."""
    keys = np.full(x.size, -1, dtype=np.int64)
    pos = x > 0
    keys[pos] = np.floor(np.log(x[pos] / anchor) / math.log1p(LOG_BIN_WIDTH) + 1e-9)
    return keys


def _flat(arrays: Sequence[np.ndarray]) -> np.ndarray:
    return np.concatenate([np.asarray(a, dtype=float).reshape(-1) for a in arrays] + [np.zeros(0)])


def _cumulative(side: SideSample, grid: _Grid) -> np.ndarray:
    """(windows x grid) cumulative latency counts of each window on the common grid."""
    n, g = side.windows, grid.values.size
    if g == 0 or n == 0:
        return np.zeros((n, g))
    sizes = [np.asarray(v).size for v in side.latency_values]
    win = np.repeat(np.arange(n), sizes)
    cells = grid.cells(_flat(side.latency_values))
    counts = np.bincount(win * g + cells, weights=_flat(side.latency_counts), minlength=n * g)
    return np.cumsum(counts.reshape(n, g), axis=1)


def _linear_quantile(values: np.ndarray, upto: np.ndarray, q: float) -> float:
    """numpy's 'linear' quantile of the expanded sample, as infratest.anytime computes it."""
    n = float(upto[-1]) if upto.size else 0.0
    if n <= 0:
        return NAN
    h = (n - 1.0) * q
    last = values.size - 1
    below = values[min(int(np.searchsorted(upto, math.floor(h), side="right")), last)]
    above = values[min(int(np.searchsorted(upto, math.ceil(h), side="right")), last)]
    return float(below + (above - below) * (h - math.floor(h)))


def _resampled_quantiles(
    cum: np.ndarray, values: np.ndarray, qs: Sequence[float]
) -> dict[float, np.ndarray]:
    """Linear quantiles of every row of a (resamples x grid) cumulative-count matrix at once:
    rows are offset so the flattened matrix is sorted, then one searchsorted per order
    statistic."""
    b, g = cum.shape
    totals = cum[:, -1]
    step = float(totals.max()) + 1.0
    offset = np.arange(b) * step
    flat = (cum + offset[:, None]).reshape(-1)
    out: dict[float, np.ndarray] = {}
    for q in qs:
        h = np.maximum(totals - 1.0, 0.0) * q
        lo, hi = np.floor(h), np.ceil(h)
        i_lo = np.searchsorted(flat, lo + offset, side="right") - np.arange(b) * g
        i_hi = np.searchsorted(flat, hi + offset, side="right") - np.arange(b) * g
        below = values[np.minimum(i_lo, g - 1)]
        above = values[np.minimum(i_hi, g - 1)]
        out[q] = np.where(totals > 0, below + (above - below) * (h - lo), NAN)
    return out


def _nan_estimate(resamples: int) -> _Estimate:
    return _Estimate(NAN, NAN, np.full(resamples, NAN))


def _over_strata(x: np.ndarray) -> np.ndarray | float:
    """Mean over the last axis (strata) of the finite figures; nan where none is finite (a
    stratum without latencies has no figure and is left out)."""
    x = np.asarray(x, dtype=float)
    finite = np.isfinite(x)
    count = finite.sum(axis=-1)
    with np.errstate(invalid="ignore"):
        mean = np.where(finite, x, 0.0).sum(axis=-1) / count
    return float(mean) if mean.ndim == 0 else mean


def _ratio_estimate(num: np.ndarray, den: np.ndarray, weights: np.ndarray) -> _Estimate:
    """sum(num)/sum(den) and the same for every resample; nan where nothing is counted."""
    total = float(den.sum())
    if total <= 0:
        return _nan_estimate(weights.shape[0])
    value = float(num.sum()) / total
    w_den = weights @ den
    with np.errstate(invalid="ignore", divide="ignore"):
        draws = np.where(w_den > 0, (weights @ num) / w_den, NAN)
    return _Estimate(value, value, draws)


def _stratified_ratio(
    num: np.ndarray, den: np.ndarray, strata: np.ndarray, weights: np.ndarray
) -> _Estimate:
    """Mean over strata of each stratum's sum(num)/sum(den), point and every resample."""
    if float(den.sum()) <= 0:
        return _nan_estimate(weights.shape[0])
    member = (strata[:, None] == np.unique(strata)[None, :]).astype(float)  # windows x H
    nums, dens = num[:, None] * member, den[:, None] * member
    w_den = weights @ dens
    with np.errstate(invalid="ignore", divide="ignore"):
        value = _over_strata(np.where(dens.sum(0) > 0, nums.sum(0) / dens.sum(0), NAN))
        draws = _over_strata(np.where(w_den > 0, (weights @ nums) / w_den, NAN))
    return _Estimate(value, value, draws)


def _quantile_estimates(
    side: SideSample, strata: np.ndarray, grid: _Grid, weights: np.ndarray, qs: Sequence[float]
) -> dict[float, _Estimate]:
    """Linear quantiles, the mean over strata of each stratum's pooled one."""
    if not qs:
        return {}
    if side.windows == 0 or float(_flat(side.latency_counts).sum()) <= 0:
        return {q: _nan_estimate(weights.shape[0]) for q in qs}
    cum = _cumulative(side, grid)
    per = [
        _stratum_quantiles(side, members, cum[members], grid, weights[:, members], qs)
        for members in (np.flatnonzero(strata == label) for label in np.unique(strata))
    ]
    return {
        q: _Estimate(
            _over_strata(np.array([p[q].exact for p in per])),
            _over_strata(np.array([p[q].reference for p in per])),
            _over_strata(np.stack([p[q].draws for p in per], axis=1)),
        )
        for q in qs
    }


def _stratum_quantiles(
    side: SideSample,
    members: np.ndarray,
    cum: np.ndarray,
    grid: _Grid,
    weights: np.ndarray,
    qs: Sequence[float],
) -> dict[float, _Estimate]:
    """Pooled linear quantiles of one stratum's windows: exact from their own distinct
    values, the reference and the resamples on the common grid, CHUNK resamples per matrix
    product. A stratum of m windows has at most C(2m-1, m) distinct resamples (3 for two
    windows), so only those are computed: many small rounds cost no more than a few big."""
    vals = _flat([side.latency_values[i] for i in members])
    cnts = _flat([side.latency_counts[i] for i in members])
    if float(cnts.sum()) <= 0:
        return {q: _nan_estimate(weights.shape[0]) for q in qs}
    distinct, inv = np.unique(vals, return_inverse=True)
    upto = np.cumsum(np.bincount(inv.reshape(-1), weights=cnts, minlength=distinct.size))
    dtype = np.float32 if float(upto[-1]) * members.size < 2.0**24 else np.float64
    cum_t = cum.astype(dtype)
    if math.comb(2 * members.size - 1, members.size) < weights.shape[0]:
        patterns, which = np.unique(weights, axis=0, return_inverse=True)
    else:
        patterns, which = weights, np.arange(weights.shape[0])
    draws = {q: np.empty(patterns.shape[0]) for q in qs}
    for start in range(0, patterns.shape[0], CHUNK):
        block = (patterns[start : start + CHUNK].astype(dtype) @ cum_t).astype(float)
        for q, got in _resampled_quantiles(block, grid.values, qs).items():
            draws[q][start : start + CHUNK] = got
    pooled = cum.sum(axis=0)
    which = which.reshape(-1)
    return {
        q: _Estimate(
            _linear_quantile(distinct, upto, q),
            _linear_quantile(grid.values, pooled, q),
            draws[q][which],
        )
        for q in qs
    }


def _side_estimates(
    side: SideSample,
    strata: np.ndarray,
    grid: _Grid,
    weights: np.ndarray,
    metrics: Sequence[str],
) -> dict[str, _Estimate]:
    """Every requested metric of one side, point and resamples."""
    if side.windows == 0:
        return {m: _nan_estimate(weights.shape[0]) for m in metrics}
    ok = np.asarray(side.ok, dtype=float).reshape(-1)
    failed = np.asarray(side.failed, dtype=float).reshape(-1)
    out: dict[str, _Estimate] = {}
    qs = [QUANTILES[m] for m in metrics if m in QUANTILES]
    by_q = _quantile_estimates(side, strata, grid, weights, qs)
    for m in metrics:
        if m in QUANTILES:
            out[m] = by_q[QUANTILES[m]]
        elif m == "latency.mean":
            sums = np.array([float(np.dot(v, c)) for v, c in zip(*_pairs(side), strict=True)])
            lat_n = np.array([float(np.sum(c)) for c in side.latency_counts])
            out[m] = _stratified_ratio(sums, lat_n, strata, weights)
        elif m == "throughput":
            out[m] = _ratio_estimate(ok, np.ones_like(ok), weights)
        elif m == "errors.rate":
            out[m] = _ratio_estimate(failed, ok + failed, weights)
        else:
            raise ValueError(f"unknown delta metric {m!r}; known: {', '.join(DELTA_METRICS)}")
    return out


def _pairs(side: SideSample) -> tuple[list[np.ndarray], list[np.ndarray]]:
    vals = [np.asarray(v, dtype=float).reshape(-1) for v in side.latency_values]
    cnts = [np.asarray(c, dtype=float).reshape(-1) for c in side.latency_counts]
    return vals, cnts


def _bounds(
    value: float, reference: float, draws: np.ndarray, confidence: float, widen: float
) -> tuple[float, float]:
    """Percentile bounds of the resamples about their own reference, widened by `widen`,
    moved onto the exact point value (the grid differs from it by at most one 0.2% cell)."""
    finite = draws[~np.isnan(draws)]
    if not math.isfinite(value) or finite.size == 0 or not math.isfinite(reference):
        return NAN, NAN
    if not math.isfinite(widen):
        return -INF, INF
    with np.errstate(invalid="ignore"):  # inf draws (a resampled baseline of 0)
        lo_q, hi_q = np.quantile(finite, [1.0 - confidence, confidence])
    below = max(reference - float(lo_q), 0.0)
    above = max(float(hi_q) - reference, 0.0)
    low = value - widen * below if below > 0 else value
    high = value + widen * above if above > 0 else value
    return low, high


def _delta(
    metric: str,
    a: _Estimate,
    b: _Estimate,
    confidence: float,
    widen: float,
    n: int,
) -> Delta:
    """Absolute and relative delta of one metric, each from its own resampled distribution."""
    abs_value = b.exact - a.exact
    abs_low, abs_high = _bounds(
        abs_value, b.reference - a.reference, b.draws - a.draws, confidence, widen
    )
    absolute = Interval(abs_value, abs_low, abs_high, confidence, n, METHOD)
    if not (math.isfinite(a.exact) and a.exact != 0 and math.isfinite(b.exact)):
        relative = Interval(NAN, NAN, NAN, confidence, n, METHOD)
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            ratios = b.draws / a.draws - 1.0
        ratios = np.where(np.isnan(ratios) & ~np.isnan(b.draws) & ~np.isnan(a.draws), INF, ratios)
        rel_value = b.exact / a.exact - 1.0
        rel_ref = b.reference / a.reference - 1.0 if a.reference != 0 else NAN
        rel_low, rel_high = _bounds(rel_value, rel_ref, ratios, confidence, widen)
        relative = Interval(rel_value, rel_low, rel_high, confidence, n, METHOD)
    return Delta(metric, a.exact, b.exact, absolute, relative)


def _requests(side: SideSample, metric: str) -> int:
    if metric.startswith("latency."):
        return round(float(_flat(side.latency_counts).sum()))
    return int(np.sum(side.ok) + np.sum(side.failed))


def delta_intervals(
    baseline: SideSample,
    candidate: SideSample,
    confidence: float,
    metrics: Sequence[str] = DELTA_METRICS,
    resamples: int = 2000,
    seed: int = 0,
) -> dict[str, Delta]:
    """Candidate minus baseline (and candidate / baseline - 1) for each metric, with
    one-sided bounds at `confidence` each from a round-stratified bootstrap over windows."""
    if not 0.5 <= confidence < 1.0:
        raise ValueError(f"confidence must be in [0.5, 1), got {confidence!r}")
    unknown = [m for m in metrics if m not in DELTA_METRICS]
    if unknown:
        raise ValueError(f"unknown delta metric {unknown[0]!r}; known: {', '.join(DELTA_METRICS)}")
    grid = _Grid.of((baseline, candidate))
    rng_a, rng_b = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    estimates, widen = [], 1.0
    strata = _strata((baseline.block, candidate.block))
    for side, labels, rng in zip((baseline, candidate), strata, (rng_a, rng_b), strict=True):
        weights = _weights(labels, resamples, rng)
        estimates.append(_side_estimates(side, labels, grid, weights, metrics))
        widen = max(widen, _widening(side, labels, confidence) if side.windows else 1.0)
    return {
        m: _delta(
            m,
            estimates[0][m],
            estimates[1][m],
            confidence,
            widen,
            _requests(baseline, m) + _requests(candidate, m),
        )
        for m in metrics
    }


def change_from_bounds(
    metric: str, base: Interval, cand: Interval, method: str, confidence: float | None = None
) -> Delta:
    """A change from two separate intervals, each end taken at the other's far end. Its level
    is `confidence` when each was made at 1 − (1 − confidence)/2 (Bonferroni); by default the
    inputs' own. For figures a resampling cannot serve: probe readings, rare failures."""
    c, n = confidence or cand.confidence, cand.n + base.n
    value = cand.value - base.value
    low, high = cand.low - base.high, cand.high - base.low
    absolute = Interval(value, min(low, value), max(high, value), c, n, method)
    if not base.value > 0 or not math.isfinite(cand.value):
        relative = Interval(NAN, -INF, INF, c, n, method)
    else:
        value = cand.value / base.value - 1.0
        low = cand.low / base.high - 1.0 if base.high > 0 and math.isfinite(base.high) else -1.0
        high = cand.high / base.low - 1.0 if base.low > 0 else INF
        relative = Interval(value, min(low, value), max(high, value), c, n, method)
    return Delta(metric, base.value, cand.value, absolute, relative)
