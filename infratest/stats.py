"""Interval estimates behind every verdict.

A check such as ``latency.p95 < 200ms`` passes only when the whole interval satisfies it,
fails when none of it does, and is inconclusive otherwise. Each end of an interval reported
at confidence ``c`` is a *one-sided* bound at level ``c``, so a pass is wrong at most
``1 - c`` of the time, and so is a fail. Everything here is pure computation: no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as sps

__all__ = [
    "Interval",
    "batch_means_interval",
    "exact",
    "mean_interval",
    "proportion_interval",
    "quantile_interval",
    "rate_interval",
    "ratio_interval",
    "slope_interval",
]

INF = math.inf
NAN = math.nan
SLOPE_METHOD = "ols-slope-hac"


@dataclass(frozen=True)
class Interval:
    """A point estimate with one-sided lower/upper bounds, each at level ``confidence``."""

    value: float
    low: float
    high: float
    confidence: float
    n: int
    method: str
    effective_n: float | None = None  # trials after the design effect, for correlated samples

    def to_dict(self) -> dict:
        """JSON-ready form; non-finite numbers (inf, nan) become None since JSON has neither."""
        out = {
            "value": _json_float(self.value),
            "ci_low": _json_float(self.low),
            "ci_high": _json_float(self.high),
            "confidence": self.confidence,
            "n": self.n,
            "method": self.method,
        }
        if self.effective_n is not None:
            out["effective_n"] = _json_float(self.effective_n)
        return out


def _json_float(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _check_confidence(confidence: float) -> float:
    """Bounds below 0.5 would cross the point estimate, so they are a caller bug."""
    if not 0.5 <= confidence < 1.0:
        raise ValueError(f"confidence must be in [0.5, 1), got {confidence!r}")
    return float(confidence)


def _as_1d(x: ArrayLike) -> np.ndarray:
    return np.asarray(x, dtype=float).reshape(-1)


def _finite_pairs(a: ArrayLike, b: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Drop pairs where either member is missing (nan/inf) rather than poisoning the estimate."""
    x, y = _as_1d(a), _as_1d(b)
    if x.shape != y.shape:
        raise ValueError(f"length mismatch: {x.size} vs {y.size}")
    keep = np.isfinite(x) & np.isfinite(y)
    return x[keep], y[keep]


def _t_bounds(value: float, se: float, df: int, confidence: float) -> tuple[float, float]:
    """One-sided t bounds at `confidence` each; unknown spread gives infinite bounds."""
    if df < 1 or not math.isfinite(se) or not math.isfinite(value):
        return -INF, INF
    half = float(sps.t.ppf(confidence, df)) * se
    return value - half, value + half


def exact(value: float, confidence: float, n: int = 1) -> Interval:
    """A value that is counted, not estimated (errors.count, max): low == high == value."""
    v = float(value)
    return Interval(v, v, v, _check_confidence(confidence), int(n), "exact")


def proportion_interval(successes: int, n: int, confidence: float) -> Interval:
    """Clopper-Pearson one-sided bounds; exact, so error rates on few requests stay honest."""
    c = _check_confidence(confidence)
    s, n = int(successes), int(n)
    if n < 0 or not 0 <= s <= max(n, 0):
        raise ValueError(f"need 0 <= successes <= n, got {s} of {n}")
    if n == 0:
        return Interval(NAN, 0.0, 1.0, c, 0, "clopper-pearson")
    low = float(sps.beta.ppf(1.0 - c, s, n - s + 1)) if s > 0 else 0.0
    high = float(sps.beta.ppf(c, s + 1, n - s)) if s < n else 1.0
    value = s / n
    return Interval(value, min(low, value), max(high, value), c, n, "clopper-pearson")


def _binom_ppf(confidence: float, n: int, p: float) -> int:
    """Smallest m with P(Bin(n, p) <= m) >= confidence, guarded against ppf rounding."""
    m = int(sps.binom.ppf(confidence, n, p))
    while m <= n and sps.binom.cdf(m, n, p) < confidence:
        m += 1
    while m > 0 and sps.binom.cdf(m - 1, n, p) >= confidence:
        m -= 1
    return m


@lru_cache(maxsize=4096)
def _order_ranks(n: int, q: float, confidence: float) -> tuple[int | None, int | None]:
    """1-based ranks (low, high) of the order statistics bounding the q-quantile, or None.

    P(X_(k) >= x_q) = P(Bin(n, q) <= k-1), so the upper rank is the smallest k making that
    >= confidence; the lower rank mirrors it through Bin(n, 1-q).
    """
    k_high = _binom_ppf(confidence, n, q) + 1
    k_low = n - _binom_ppf(confidence, n, 1.0 - q)
    return (k_low if k_low >= 1 else None), (k_high if k_high <= n else None)


def quantile_interval(samples: ArrayLike, q: float, confidence: float) -> Interval:
    """Distribution-free order-statistic bounds: latencies are skewed, so no normal theory.

    ``high < b`` holds exactly when few enough samples exceed ``b`` (Clopper-Pearson on that
    count); at 95% with no sample over ``b`` that takes 59 samples. NaN samples are ignored.
    """
    c = _check_confidence(confidence)
    if not 0.0 < q < 1.0:
        raise ValueError(f"q must be in (0, 1), got {q!r}")
    x = _as_1d(samples)
    x = x[~np.isnan(x)]
    n = int(x.size)
    if n == 0:
        return Interval(NAN, -INF, INF, c, 0, "order-statistic")
    k_low, k_high = _order_ranks(n, float(q), c)
    pos = (n - 1) * q
    idx = {math.floor(pos), math.ceil(pos)}
    idx |= {k - 1 for k in (k_low, k_high) if k is not None}
    part = np.partition(x, sorted(idx))
    lo_v, hi_v = part[math.floor(pos)], part[math.ceil(pos)]
    value = float(lo_v + (hi_v - lo_v) * (pos - math.floor(pos))) if hi_v != lo_v else float(lo_v)
    low = min(float(part[k_low - 1]), value) if k_low is not None else -INF
    high = max(float(part[k_high - 1]), value) if k_high is not None else INF
    return Interval(value, low, high, c, n, "order-statistic")


def mean_interval(values: ArrayLike, confidence: float) -> Interval:
    """t-interval of a mean of roughly independent values (e.g. per-window throughput)."""
    c = _check_confidence(confidence)
    x = _as_1d(values)
    x = x[~np.isnan(x)]
    n = int(x.size)
    if n == 0:
        return Interval(NAN, -INF, INF, c, 0, "batch-means-t")
    value = float(np.mean(x))
    se = float(np.std(x, ddof=1) / math.sqrt(n)) if n >= 2 else INF
    low, high = _t_bounds(value, se, n - 1, c)
    return Interval(value, min(low, value), max(high, value), c, n, "batch-means-t")


def _ratio_batches(sums: np.ndarray, sizes: np.ndarray, confidence: float) -> Interval:
    """Overall mean sum/size with a ratio-estimator standard error across batches.

    With equal batch sizes this is plain batch means; with unequal ones it stays centred on
    the overall mean instead of the mean of batch means.
    """
    b = int(sums.size)
    value = float(sums.sum() / sizes.sum())
    if b < 2:
        return Interval(value, -INF, INF, confidence, b, "batch-means-t")
    resid = sums - value * sizes
    se = math.sqrt(float(np.sum(resid**2)) / (b * (b - 1))) / float(np.mean(sizes))
    low, high = _t_bounds(value, se, b - 1, confidence)
    return Interval(value, min(low, value), max(high, value), confidence, b, "batch-means-t")


def batch_means_interval(
    times: ArrayLike, values: ArrayLike, confidence: float, window: float = 1.0
) -> Interval:
    """Mean of `values`, interval from `window`-second batches (``n`` counts non-empty windows).

    Why: consecutive request latencies are autocorrelated, window means are close to
    independent, so a naive per-request t-interval would be too narrow.
    """
    c = _check_confidence(confidence)
    if not window > 0:
        raise ValueError(f"window must be > 0, got {window!r}")
    t, v = _finite_pairs(times, values)
    if t.size == 0:
        return Interval(NAN, -INF, INF, c, 0, "batch-means-t")
    ids = np.floor((t - t.min()) / window).astype(np.int64)
    _, inv = np.unique(ids, return_inverse=True)
    sums = np.bincount(inv, weights=v)
    sizes = np.bincount(inv).astype(float)
    return _ratio_batches(sums, sizes, c)


def rate_interval(
    event_times: ArrayLike, start: float, end: float, confidence: float, window: float = 1.0
) -> Interval:
    """Events per second over [start, end), spread from per-window counts (``n`` = windows).

    Value is total events / duration; the interval is centred on it with the standard error
    of the full-window rates (a partial last window is dropped from the spread).
    """
    c = _check_confidence(confidence)
    if not window > 0:
        raise ValueError(f"window must be > 0, got {window!r}")
    duration = float(end) - float(start)
    if not duration > 0:
        return Interval(NAN, -INF, INF, c, 0, "batch-means-t")
    t = _as_1d(event_times)
    t = t[(t >= start) & (t < end)]
    value = t.size / duration
    k = math.floor(duration / window + 1e-9)
    if k < 2:
        return Interval(value, -INF, INF, c, 1 if k < 1 else k, "batch-means-t")
    ids = np.floor((t - start) / window).astype(np.int64)
    counts = np.bincount(ids[ids < k], minlength=k) / window
    se = float(np.std(counts, ddof=1)) / math.sqrt(k)
    low, high = _t_bounds(value, se, k - 1, c)
    return Interval(value, low, high, c, k, "batch-means-t")


def _hac_maxlags(n: int) -> int:
    """Newey-West's rule of thumb floor(4 (n/100)^(2/9)), at least one lag."""
    return max(1, math.floor(4.0 * (n / 100.0) ** (2.0 / 9.0)))


def _hac_slope_se(x: np.ndarray, v: np.ndarray) -> float:
    """Newey-West standard error of the slope: memory samples drift in autocorrelated swings
    (allocator arenas, GC cycles), and the iid error would call such a swing a trend."""
    import statsmodels.api as sm  # deferred: statsmodels is slow to import

    design = sm.add_constant(x - x.mean(), has_constant="add")
    fit = sm.OLS(v, design).fit(
        cov_type="HAC", cov_kwds={"maxlags": _hac_maxlags(x.size), "use_correction": True}
    )
    return float(fit.bse[1])


def slope_interval(t: ArrayLike, y: ArrayLike, confidence: float) -> Interval:
    """OLS slope of y over t with HAC (Newey-West) t bounds on n-2 df: memory growth in
    bytes per second."""
    c = _check_confidence(confidence)
    x, v = _finite_pairs(t, y)
    n = int(x.size)
    dx = x - x.mean() if n else x
    sxx = float(np.sum(dx**2))
    if n < 2 or sxx <= 0.0:
        return Interval(NAN, -INF, INF, c, n, SLOPE_METHOD)
    slope = float(np.sum(dx * (v - v.mean())) / sxx)
    if n < 3:
        return Interval(slope, -INF, INF, c, n, SLOPE_METHOD)
    low, high = _t_bounds(slope, _hac_slope_se(x, v), n - 2, c)
    return Interval(slope, min(low, slope), max(high, slope), c, n, SLOPE_METHOD)


def _implied_se(iv: Interval) -> float:
    """Standard error implied by an interval's half-width, read as a normal bound."""
    z = float(sps.norm.ppf(iv.confidence))
    return (iv.high - iv.low) / 2.0 / z if z > 0 else INF


def ratio_interval(num: Interval, den: Interval, confidence: float) -> Interval:
    """Ratio of two independent estimates (e.g. cost per request) by the delta method."""
    c = _check_confidence(confidence)
    n = min(num.n, den.n)
    if den.value == 0 or not (math.isfinite(num.value) and math.isfinite(den.value)):
        return Interval(NAN, -INF, INF, c, n, "delta-ratio")
    value = num.value / den.value
    bounds = (num.low, num.high, den.low, den.high)
    if den.low <= 0.0 <= den.high or not all(math.isfinite(b) for b in bounds):
        return Interval(value, -INF, INF, c, n, "delta-ratio")
    var = (_implied_se(num) / den.value) ** 2 + (value * _implied_se(den) / den.value) ** 2
    if not math.isfinite(var):  # inputs at confidence 0.5 carry no spread information
        return Interval(value, -INF, INF, c, n, "delta-ratio")
    half = float(sps.norm.ppf(c)) * math.sqrt(var)
    return Interval(value, value - half, value + half, c, n, "delta-ratio")
