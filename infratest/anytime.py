"""Anytime-valid confidence sequences: bounds that may be looked at after every window.

A load check is re-decided every second and the run stops as soon as it is decided. A
fixed-sample interval re-checked that often is wrong far more than ``1 - c`` of the time
(each look is another chance for noise to cross the bound). The bounds here come from
test martingales, so by Ville's inequality P(ever wrong, at any look) <= alpha = 1 - c for
each end, whatever the stopping rule. Each end of an interval at confidence ``c`` is a
one-sided bound at level ``alpha``, as everywhere in :mod:`infratest.stats`.

Proportions and quantiles use a uniform-prior binomial mixture martingale; means and
rates a normal-mixture boundary (Robbins 1970; Howard et al. 2021) with a long-run
(Bartlett) variance. Correlated requests enter through a design effect D (see
:mod:`infratest.correlation`): counts are divided by D, so bursts widen the bounds and
independent requests keep the binomial width. Everything here is pure computation.
"""

from __future__ import annotations

import math
from dataclasses import replace
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize
from scipy import special as spf

from infratest.correlation import bartlett_long_run_variance
from infratest.stats import Interval, _check_confidence

__all__ = [
    "BETA_METHOD",
    "NORMAL_METHOD",
    "fail_test_rejects",
    "histogram_quantile",
    "min_trials_to_pass",
    "pass_test_rejects",
    "proportion_cs",
    "quantile_cs",
    "rate_cs",
    "ratio_mean_cs",
]

BETA_METHOD = "anytime-beta-mixture"
NORMAL_METHOD = "anytime-normal-mixture"
INF = math.inf
NAN = math.nan
MIXTURE_TUNED_WINDOWS = 10.0  # the normal mixture is tightest near this many windows
MIN_MEAN_WINDOWS = 3
_TINY_P = 1e-300  # stands in for p0 = 0, where the logs below are undefined
_XTOL = 1e-13
# event thresholds are compared with whole counts (over D), and every candidate is
# confirmed on its own count, so a millionth of an event is precision enough
_EVENTS_XTOL = 1e-6


def _log(x: float) -> float:
    """log that maps 0 (an underflowed mixture) to -inf, i.e. no evidence, never an error."""
    return math.log(x) if x > 0.0 else -INF


def _betaln(a: float, b: float) -> float:
    """log B(a, b) by math.lgamma: several times faster than scipy on scalars, and these
    run a dozen times per bound, every second, per check."""
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _log_pass_martingale(s: float, n: float, p0: float) -> float:
    """log M of the test of H0: p >= p0 with a uniform mixture over q in [0, p0).

    M = (1/p0) ∫_0^p0 (q/p0)^s ((1-q)/(1-p0))^(n-s) dq. Under any p >= p0 each integrand is
    a nonnegative supermartingale, so their average is too.
    """
    a, b = s + 1.0, n - s + 1.0
    return (
        _log(float(spf.betainc(a, b, p0)))
        + _betaln(a, b)
        - math.log(p0)
        - s * math.log(p0)
        - (n - s) * math.log1p(-p0)
    )


def _log_fail_martingale(s: float, n: float, p0: float) -> float:
    """log M of the test of H0: p <= p0, the uniform mixture over q in (p0, 1]."""
    a, b = s + 1.0, n - s + 1.0
    return (
        _log(float(spf.betaincc(a, b, p0)))
        + _betaln(a, b)
        - math.log1p(-p0)
        - s * math.log(p0)
        - (n - s) * math.log1p(-p0)
    )


def _alpha_level(confidence: float) -> float:
    """log(1/alpha): the height a test martingale must reach to reject."""
    return -math.log1p(-_check_confidence(confidence))


def _check_counts(events: float, trials: float) -> tuple[float, float]:
    s, n = float(events), float(trials)
    if not (0.0 <= s <= n and math.isfinite(n)):
        raise ValueError(f"need 0 <= events <= trials, got {s:g} of {n:g}")
    return s, n


def _check_p0(p0: float) -> float:
    if not 0.0 < p0 < 1.0:
        raise ValueError(f"p0 must be in (0, 1), got {p0!r}")
    return float(p0)


def pass_test_rejects(events: float, trials: float, p0: float, confidence: float) -> bool:
    """True when the data show p < p0 at level 1 - confidence, valid at every look.

    Counts may be real (effective counts n/D, s/D).
    """
    s, n = _check_counts(events, trials)
    return _log_pass_martingale(s, n, _check_p0(p0)) >= _alpha_level(confidence)


def fail_test_rejects(events: float, trials: float, p0: float, confidence: float) -> bool:
    """True when the data show p > p0 at level 1 - confidence, valid at every look."""
    s, n = _check_counts(events, trials)
    return _log_fail_martingale(s, n, _check_p0(p0)) >= _alpha_level(confidence)


def _root(f, lo: float, hi: float, xtol: float = _XTOL) -> float:
    return float(optimize.brentq(f, lo, hi, xtol=xtol, rtol=1e-12))


def _proportion_bounds(s: float, n: float, level: float) -> tuple[float, float]:
    """(sup p0 the fail test rejects, inf p0 the pass test rejects), by root finding.

    Both martingales are <= 1 at p0 = s/n (the likelihood ratio against the maximum
    likelihood is at most 1), and grow monotonically as p0 moves away from it.
    """
    p_hat = s / n
    high_edge = 1.0 - 1e-15
    high = 1.0
    start = max(p_hat, _TINY_P)
    if s < n and _log_pass_martingale(s, n, high_edge) >= level:
        high = _root(lambda p: _log_pass_martingale(s, n, p) - level, start, high_edge)
    low = 0.0
    if s > 0 and _log_fail_martingale(s, n, _TINY_P) >= level and p_hat > _TINY_P:
        low = _root(lambda p: _log_fail_martingale(s, n, p) - level, _TINY_P, min(p_hat, high_edge))
    return low, high


def proportion_cs(
    events: float, trials: float, confidence: float, design_effect: float = 1.0
) -> Interval:
    """Confidence sequence for a proportion (error rate): every look may be acted upon.

    The counts are divided by ``design_effect`` (>= 1) before testing. It is wider than
    Clopper-Pearson at one look; that is the price of looking every second.
    """
    c = _check_confidence(confidence)
    s, n = _check_counts(events, trials)
    d = max(1.0, float(design_effect))
    if n <= 0.0:
        return Interval(NAN, 0.0, 1.0, c, 0, BETA_METHOD, 0.0)
    low, high = _proportion_bounds(s / d, n / d, _alpha_level(c))
    value = s / n
    return Interval(value, min(low, value), max(high, value), c, round(n), BETA_METHOD, n / d)


@lru_cache(maxsize=4096)
def _largest_passing_events(n: float, p0: float, level: float) -> float | None:
    """s*: the most (real) events with which the pass test still rejects, None if even 0 fails.

    The pass martingale falls as events grow and is <= 1 at s = n p0.
    """
    f = lambda s: _log_pass_martingale(s, n, p0) - level  # noqa: E731
    if n <= 0.0 or f(0.0) < 0.0:
        return None
    return _root(f, 0.0, n * p0, _EVENTS_XTOL)


@lru_cache(maxsize=4096)
def _smallest_failing_events(n: float, p0: float, level: float) -> float | None:
    """The fewest (real) events with which the fail test rejects, None if even n do not."""
    f = lambda s: _log_fail_martingale(s, n, p0) - level  # noqa: E731
    if n <= 0.0 or f(n) < 0.0:
        return None
    return _root(f, n * p0, n, _EVENTS_XTOL)


def min_trials_to_pass(p0: float, confidence: float) -> int:
    """Fewest clean trials (no event) that show p < p0: 88 for p0 = 5% at 95%, against 59
    for a single fixed-sample look. The zero-event martingale rises monotonically once it
    exceeds 1, so doubling and bisection find the first crossing."""
    p = _check_p0(p0)
    level = _alpha_level(confidence)
    hi = 1
    while _log_pass_martingale(0.0, float(hi), p) < level:
        hi *= 2
    lo = hi // 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _log_pass_martingale(0.0, float(mid), p) >= level:
            hi = mid
        else:
            lo = mid
    return hi


def _histogram(values: ArrayLike, counts: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    v = np.asarray(values, dtype=float).reshape(-1)
    k = np.asarray(counts, dtype=float).reshape(-1)
    if v.shape != k.shape:
        raise ValueError(f"length mismatch: {v.size} values vs {k.size} counts")
    if np.isnan(v).any() or (k < 0).any():
        raise ValueError("histogram values must not be nan and counts must be >= 0")
    if v.size > 1 and not np.all(v[1:] > v[:-1]):
        v, inv = np.unique(v, return_inverse=True)
        k = np.bincount(inv.reshape(-1), weights=k, minlength=v.size)
    return v, k


def _with_points(
    values: np.ndarray, counts: np.ndarray, extra: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The histogram with each of `extra` added once (censored requests at a position)."""
    if extra.size == 0:
        return values, counts
    return _histogram(
        np.concatenate([values, extra]), np.concatenate([counts, np.ones(extra.size)])
    )


def _tail_counts(counts: np.ndarray) -> np.ndarray:
    """s(v_j) = how many samples are >= v_j, for each distinct value v_j."""
    return counts[::-1].cumsum()[::-1]


def histogram_quantile(values: ArrayLike, counts: ArrayLike, q: float) -> float:
    """numpy's default ('linear') quantile of the sample a histogram expands to; nan if empty.

    This is the point estimate of :func:`quantile_cs` (censored requests already added).
    """
    v, k = _histogram(values, counts)
    keep = k > 0
    if not np.any(keep):
        return NAN
    return _linear_quantile(v[keep], k[keep], float(q))


def _linear_quantile(values: np.ndarray, counts: np.ndarray, q: float) -> float:
    n = float(counts.sum())
    upto = counts.cumsum()
    h = (n - 1.0) * q
    below = values[min(int(np.searchsorted(upto, math.floor(h), side="right")), values.size - 1)]
    above = values[min(int(np.searchsorted(upto, math.ceil(h), side="right")), values.size - 1)]
    if below == above:
        return float(below)
    return float(below + (above - below) * (h - math.floor(h)))


def _quantile_upper(
    values: np.ndarray, counts: np.ndarray, p0: float, d: float, level: float
) -> float:
    """Smallest value v_j such that the pass test, on the count of samples *above* v_j,
    shows that share to be < p0.

    Why strictly above: if the q-quantile x_q exceeded v_j, every sample >= x_q would be
    above v_j, so the count of samples >= x_q (a share >= p0) would make the pass test
    reject too, which happens with probability <= alpha, at any look. Counting ">=" instead
    would cost one distinct value: 88 clean samples would not bound p95 by their maximum.
    Censored requests sit at their cap here, so the count can only be overstated.
    """
    n = float(counts.sum())
    s_star = _largest_passing_events(n / d, p0, level)
    if s_star is None:
        return INF
    above = np.r_[_tail_counts(counts)[1:], 0.0]
    j = int(np.searchsorted(-above, -s_star * d, side="left"))
    while j < values.size and _log_pass_martingale(above[j] / d, n / d, p0) < level:
        j += 1  # root-finding tolerance: confirm the threshold on the count itself
    return float(values[j]) if j < values.size else INF


def _quantile_lower(
    values: np.ndarray, counts: np.ndarray, p0: float, d: float, level: float
) -> float:
    """Largest value b whose count of samples >= b lets the fail test show P(X >= b) > p0,
    so F(b-) < q and the q-quantile is at least b; -inf while no value is supported.

    Censored requests sit at their lower bound here, so the count can only be understated.
    """
    n = float(counts.sum())
    s_low = _smallest_failing_events(n / d, p0, level)
    if s_low is None:
        return -INF
    tail = _tail_counts(counts)
    j = int(np.searchsorted(-tail, -s_low * d, side="right")) - 1
    while j >= 0 and _log_fail_martingale(tail[j] / d, n / d, p0) < level:
        j -= 1
    return float(values[j]) if j >= 0 else -INF


def quantile_cs(
    values: ArrayLike,
    counts: ArrayLike,
    q: float,
    confidence: float,
    design_effect: float = 1.0,
    censored: ArrayLike | None = None,
    cap: float = INF,
) -> Interval:
    """Confidence sequence for the q-quantile of a latency histogram (distinct values, counts).

    ``censored`` are lower bounds of requests that never finished (their elapsed time) and
    ``cap`` the most they could take (the timeout). They count as trials; the upper bound
    puts them at ``cap``, the lower bound and the point estimate at their lower bound, so
    not knowing can only widen the interval. The point estimate is numpy's 'linear'
    quantile of the expanded sample.
    """
    c = _check_confidence(confidence)
    if not 0.0 < q < 1.0:
        raise ValueError(f"q must be in (0, 1), got {q!r}")
    v, k = _histogram(values, counts)
    cens = np.asarray([] if censored is None else censored, dtype=float).reshape(-1)
    opt_v, opt_k = _with_points(v, k, cens)
    n = float(opt_k.sum())
    if n <= 0.0:
        return Interval(NAN, -INF, INF, c, 0, BETA_METHOD, 0.0)
    d = max(1.0, float(design_effect))
    pess_v, pess_k = _with_points(v, k, np.maximum(cens, float(cap)))
    keep_o, keep_p = opt_k > 0, pess_k > 0
    level, p0 = _alpha_level(c), 1.0 - float(q)
    value = _linear_quantile(opt_v[keep_o], opt_k[keep_o], float(q))
    # the bounds never cross the estimate; the high end is kept above the pessimistic
    # estimate, so that not knowing a latency can never narrow the interval
    high_floor = _linear_quantile(pess_v[keep_p], pess_k[keep_p], float(q)) if cens.size else value
    high = _quantile_upper(pess_v[keep_p], pess_k[keep_p], p0, d, level)
    low = _quantile_lower(opt_v[keep_o], opt_k[keep_o], p0, d, level)
    return Interval(value, min(low, value), max(high, high_floor), c, round(n), BETA_METHOD, n / d)


def _mixture_radius(sum_variance: float, windows: int, alpha: float) -> float:
    """Half-width, on the sum over k windows, of the one-sided normal-mixture boundary.

    radius = sqrt((V + rho) * 2 log(sqrt((V + rho) / rho) / alpha)) with V = k sigma^2 the
    variance of the sum and rho = sigma^2 * m: the mixture is tightest near m windows.
    """
    if sum_variance <= 0.0:
        return 0.0
    rho = sum_variance / windows * MIXTURE_TUNED_WINDOWS
    total = sum_variance + rho
    return math.sqrt(total * 2.0 * math.log(math.sqrt(total / rho) / alpha))


def _mean_end(sums: np.ndarray, sizes: np.ndarray, alpha: float) -> tuple[float, float]:
    """(ratio estimate sum(S)/sum(m), its anytime radius) from per-window sums and sizes."""
    if not np.all(np.isfinite(sums)):
        return INF, INF
    total = float(sizes.sum())
    mu = float(sums.sum()) / total
    lrv = bartlett_long_run_variance(sums - mu * sizes)
    return mu, _mixture_radius(lrv, int(sums.size), alpha) / total


def _window_array(x: ArrayLike | None, like: np.ndarray, name: str) -> np.ndarray:
    if x is None:
        return np.zeros_like(like)
    a = np.asarray(x, dtype=float).reshape(-1)
    if a.shape != like.shape:
        raise ValueError(f"{name} has {a.size} windows, expected {like.size}")
    return a


def ratio_mean_cs(
    sums: ArrayLike,
    sizes: ArrayLike,
    confidence: float,
    censored_low_sums: ArrayLike | None = None,
    censored_high_sums: ArrayLike | None = None,
) -> Interval:
    """Confidence sequence for sum(S)/sum(m) from per-window sums S_i and sizes m_i.

    Windows are in time order; their long-run variance absorbs correlation between
    neighbouring windows. Censored requests are counted in ``sizes``; their latencies are
    unknown, so the low end adds ``censored_low_sums`` (their lower bounds) to the sums and
    the high end ``censored_high_sums`` (their caps; inf when uncapped). The value uses the
    lower bounds. ``n`` is the number of windows; fewer than 3 give (-inf, inf).
    """
    c = _check_confidence(confidence)
    s = np.asarray(sums, dtype=float).reshape(-1)
    m = _window_array(sizes, s, "sizes")
    lo_s = s + _window_array(censored_low_sums, s, "censored_low_sums")
    hi_s = s + _window_array(censored_high_sums, s, "censored_high_sums")
    w = int(s.size)
    if w == 0 or float(m.sum()) <= 0.0:
        return Interval(NAN, -INF, INF, c, w, NORMAL_METHOD)
    alpha = 1.0 - c
    value, r_low = _mean_end(lo_s, m, alpha)
    if w < MIN_MEAN_WINDOWS:
        return Interval(value, -INF, INF, c, w, NORMAL_METHOD)
    mu_high, r_high = _mean_end(hi_s, m, alpha)
    return Interval(value, value - r_low, max(mu_high + r_high, value), c, w, NORMAL_METHOD)


def rate_cs(window_counts: ArrayLike, window_s: float, confidence: float) -> Interval:
    """Confidence sequence for events per second from counts per window of ``window_s``
    seconds (empty windows included, as 0): throughput checked while load runs."""
    if not window_s > 0:
        raise ValueError(f"window_s must be > 0, got {window_s!r}")
    counts = np.asarray(window_counts, dtype=float).reshape(-1)
    iv = ratio_mean_cs(counts, np.full(counts.size, float(window_s)), confidence)
    return replace(iv, low=max(iv.low, 0.0) if math.isfinite(iv.low) else iv.low)
