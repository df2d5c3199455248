"""The Universal Scalability Law: where a sweep's throughput would peak, and how sure that is.

X(N) = lam*N / (1 + sigma*(N-1) + kappa*N*(N-1)) is fitted to a sweep's steps; its peak is a
model's extrapolation, so it is reported only when the fit is good and the peak near the
steps, and it gets a parametric-bootstrap interval rather than passing for a measurement.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize

from infratest.stats import (
    INF,
    NAN,
    Interval,
    _as_1d,
    _check_confidence,
    _finite_pairs,
    _implied_se,
)

__all__ = ["UslFit", "UslPeakIntervals", "fit_usl", "usl_peak_intervals"]

USL_MIN_LEVELS = 4
USL_MIN_R2 = 0.9
USL_MAX_EXTRAPOLATION = 4.0  # a peak further out than this is the fit's guess, not a finding
USL_LOWER = np.array([0.0, 0.0, 1e-12])  # sigma, kappa >= 0; lam > 0
USL_BOOTSTRAP_DRAWS = 200  # refits behind a peak interval: percentiles to ~1%, well under 1 s
USL_BOOTSTRAP_SEED = 20240601  # fixed, so one set of step figures always gives one interval
USL_BOOTSTRAP_METHOD = "usl-bootstrap"


@dataclass(frozen=True)
class UslFit:
    """Universal Scalability Law fit X(N) = lam*N / (1 + sigma*(N-1) + kappa*N*(N-1))."""

    sigma: float
    kappa: float
    lam: float
    r2: float
    peak_users: float
    peak_throughput: float
    ok: bool
    reason: str

    def predict(self, users: ArrayLike) -> np.ndarray:
        """Modelled throughput at the given concurrency levels."""
        return _usl(_as_1d(users), self.sigma, self.kappa, self.lam)


def _usl(n: np.ndarray, sigma: float, kappa: float, lam: float) -> np.ndarray:
    return lam * n / (1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0))


def _usl_start(n: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Start values: lam from the smallest step, sigma/kappa from the linearised law.

    lam*N/X - 1 = sigma*(N-1) + kappa*N*(N-1) is linear in (sigma, kappa).
    """
    i = int(np.argmin(n))
    lam = max(float(x[i] / n[i]), 1e-12)
    a = np.column_stack([n - 1.0, n * (n - 1.0)])
    coef, *_ = np.linalg.lstsq(a, lam * n / np.maximum(x, 1e-12) - 1.0, rcond=None)
    return np.array([max(float(coef[0]), 0.0), max(float(coef[1]), 0.0), lam])


def _r2(x: np.ndarray, pred: np.ndarray) -> float:
    ss_res = float(np.sum((x - pred) ** 2))
    ss_tot = float(np.sum((x - x.mean()) ** 2))
    if ss_tot <= 0.0:
        return 1.0 if ss_res <= 1e-12 * max(float(np.sum(x**2)), 1.0) else 0.0
    return 1.0 - ss_res / ss_tot


def _usl_peak(sigma: float, kappa: float, lam: float) -> tuple[float, float]:
    """Concurrency of maximum throughput and that throughput (asymptote when kappa is 0)."""
    if kappa > 0:
        users = max(math.sqrt(max(1.0 - sigma, 0.0) / kappa), 1.0)
        return users, float(_usl(np.array([users]), sigma, kappa, lam)[0])
    return INF, (lam / sigma if sigma > 0 else INF)


def _usl_least_squares(n: np.ndarray, x: np.ndarray, start: np.ndarray) -> tuple[float, ...]:
    """(sigma, kappa, lam) minimising squared throughput error, all kept non-negative."""
    res = optimize.least_squares(
        lambda p: _usl(n, *p) - x,
        start,
        bounds=(USL_LOWER, [np.inf, np.inf, np.inf]),
        x_scale="jac",
    )
    return tuple(float(v) for v in res.x)


def fit_usl(users: ArrayLike, throughput: ArrayLike) -> UslFit:
    """Fit the USL to a load ramp, to say where throughput peaks; ok=False when not trustworthy.

    Needs at least 4 distinct user levels (3 parameters plus one to judge fit) and R² >= 0.9.
    """
    n, x = _finite_pairs(users, throughput)
    keep = n > 0
    n, x = n[keep], x[keep]
    levels = int(np.unique(n).size)
    if n.size == 0:
        return UslFit(NAN, NAN, NAN, NAN, NAN, NAN, False, "no steps: USL needs at least 4")
    sigma, kappa, lam = _usl_least_squares(n, x, _usl_start(n, x))
    r2 = _r2(x, _usl(n, sigma, kappa, lam))
    peak_users, peak_x = _usl_peak(sigma, kappa, lam)
    reason = ""
    if levels < USL_MIN_LEVELS:
        steps = "step" if levels == 1 else "steps"
        reason = f"only {levels} {steps}: USL needs at least {USL_MIN_LEVELS}"
    elif not np.any(x > 0):
        reason = "no throughput at any step"
    elif r2 < USL_MIN_R2:
        reason = f"poor fit: R² {r2:.2f} < {USL_MIN_R2}"
    elif math.isfinite(peak_users) and peak_users > USL_MAX_EXTRAPOLATION * float(n.max()):
        reason = (
            f"no peak in sight: throughput still scales at {n.max():g} users; a peak "
            f"beyond {USL_MAX_EXTRAPOLATION:g}x the largest step would be a guess"
        )
    return UslFit(sigma, kappa, lam, r2, peak_users, peak_x, reason == "", reason)


@dataclass(frozen=True)
class UslPeakIntervals:
    """Intervals of a USL fit's peak concurrency and peak throughput."""

    users: Interval
    throughput: Interval


def _percentile_bounds(draws: np.ndarray, confidence: float) -> tuple[float, float]:
    """One-sided percentile ends; picks actual draws, so draws without a peak (inf) are fine."""
    finite_or_inf = draws[~np.isnan(draws)]
    if finite_or_inf.size < 2:
        return -INF, INF
    low = float(np.quantile(finite_or_inf, 1.0 - confidence, method="lower"))
    high = float(np.quantile(finite_or_inf, confidence, method="higher"))
    return low, high


def _usl_jacobian(n: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Predictions (draws, steps) and their derivatives (draws, steps, 3) for each row of p."""
    sigma, kappa, lam = (p[:, j : j + 1] for j in range(3))
    den = 1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0)
    pred = lam * n / den
    jac = np.stack([-pred * (n - 1.0) / den, -pred * n * (n - 1.0) / den, n / den], axis=-1)
    return pred, jac


def _usl_step(n: np.ndarray, xs: np.ndarray, p: np.ndarray, damping: np.ndarray) -> np.ndarray:
    """One Levenberg-Marquardt step per row; a parameter held at its 0 bound stays there."""
    pred, jac = _usl_jacobian(n, p)
    grad = np.einsum("dmk,dm->dk", jac, pred - xs)
    jtj = np.einsum("dmk,dml->dkl", jac, jac)
    held = np.zeros_like(p, dtype=bool)
    held[:, :2] = (p[:, :2] <= 0.0) & (grad[:, :2] > 0.0)
    free = ~held
    a = jtj * (free[:, :, None] & free[:, None, :])
    diag = np.einsum("dkk->dk", jtj)
    a[:, range(3), range(3)] = np.where(free, diag * (1.0 + damping[:, None]) + 1e-300, 1.0)
    step = np.linalg.solve(a, -np.where(free, grad, 0.0)[..., None])[..., 0]
    return np.maximum(p + step, USL_LOWER)


def _usl_refits(
    n: np.ndarray, xs: np.ndarray, start: np.ndarray, iterations: int = 60
) -> np.ndarray:
    """USL parameters (draws, 3) fitted to each row of `xs` at once, from a shared start.

    Why not one scipy call per row: its fixed overhead (~3 ms) times 200 draws is most of a
    second, while this batched, bounded Levenberg-Marquardt takes milliseconds. Rows it
    leaves unsettled are refitted with scipy, so the answer is the same.
    """
    p = np.tile(start, (xs.shape[0], 1))
    cost = np.sum((_usl_jacobian(n, p)[0] - xs) ** 2, axis=1)
    damping = np.full(xs.shape[0], 1e-3)
    settled = np.zeros(xs.shape[0], dtype=bool)
    for _ in range(iterations):
        trial = _usl_step(n, xs, p, damping)
        trial_cost = np.sum((_usl_jacobian(n, trial)[0] - xs) ** 2, axis=1)
        better = trial_cost < cost
        gain = np.where(better, cost - trial_cost, 0.0)
        p[better], cost[better] = trial[better], trial_cost[better]
        damping = np.where(better, damping / 3.0, damping * 4.0)
        settled = (better & (gain <= 1e-12 * cost)) | (damping > 1e12) | (cost == 0.0)
        if settled.all():
            break
    for i in np.flatnonzero(~settled):
        p[i] = _usl_least_squares(n, xs[i], p[i])
    return p


def _bootstrap_peaks(
    n: np.ndarray, x: np.ndarray, se: np.ndarray, fit: UslFit, draws: int, seed: int
) -> np.ndarray:
    """(draws, 2) peak users and throughput of refits to throughput redrawn around the fit."""
    rng = np.random.default_rng(seed)
    redrawn = x + se * rng.standard_normal((draws, x.size))
    start = np.maximum(np.array([fit.sigma, fit.kappa, fit.lam]), USL_LOWER)
    return np.array([_usl_peak(*row) for row in _usl_refits(n, redrawn, start)])


def usl_peak_intervals(
    users: ArrayLike,
    throughput: list[Interval],
    fit: UslFit,
    confidence: float,
    draws: int = USL_BOOTSTRAP_DRAWS,
    seed: int = USL_BOOTSTRAP_SEED,
) -> UslPeakIntervals:
    """Parametric bootstrap of the USL peak: the peak is a model extrapolation, not a count.

    Each refit draws every step's throughput from a normal with the standard error its own
    interval implies; the ends are one-sided percentiles of the refitted peaks at
    `confidence`. A step without a finite interval leaves the peaks unbounded.
    """
    c = _check_confidence(confidence)
    n = _as_1d(users)
    if n.size != len(throughput):
        raise ValueError(f"length mismatch: {n.size} users vs {len(throughput)} throughputs")
    x = np.array([iv.value for iv in throughput], dtype=float)
    se = np.array([_implied_se(iv) for iv in throughput], dtype=float)
    steps = int(n.size)
    bounds = [(-INF, INF), (-INF, INF)]
    if steps and np.all(np.isfinite(se)) and np.all(np.isfinite(x)) and draws >= 2:
        peaks = _bootstrap_peaks(n, x, se, fit, int(draws), seed)
        bounds = [_percentile_bounds(peaks[:, j], c) for j in (0, 1)]
    out = []
    for value, (low, high) in zip((fit.peak_users, fit.peak_throughput), bounds, strict=True):
        out.append(
            Interval(value, min(low, value), max(high, value), c, steps, USL_BOOTSTRAP_METHOD)
        )
    return UslPeakIntervals(users=out[0], throughput=out[1])
