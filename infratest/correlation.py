"""How much correlation between requests inflates the variance of a count.

Slow requests and failures come in bursts (a GC pause, a cold cache, a dead replica), so
the requests of one run are not independent trials. Counts are kept per 1-second window;
the long-run variance of the per-window residuals, against the binomial variance, gives a
*design effect* D: n requests carry the information of n/D independent ones. With
independent requests D stays near 1, so nothing is lost when nothing is correlated.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import chi2

__all__ = ["CAUTIOUS_COVERAGE", "bartlett_lags", "bartlett_long_run_variance", "design_effect"]

CAUTIOUS_COVERAGE = 0.9


def bartlett_lags(windows: int) -> int:
    """max(2, floor(W^(1/3))): enough lags to see bursts spilling into neighbouring windows,
    few enough that W windows still estimate each autocovariance."""
    return max(2, math.floor(windows ** (1.0 / 3.0) + 1e-9))


def bartlett_long_run_variance(residuals: np.ndarray) -> float:
    """Newey-West estimate of Var(sum of the series), times the small-sample factor W/(W-1).

    The Bartlett weights 1 - l/(L+1) keep the estimate non-negative; the residuals are
    assumed centred (they are, by construction of every caller's ratio estimator).
    """
    e = np.asarray(residuals, dtype=float).reshape(-1)
    w = int(e.size)
    if w < 2:
        return 0.0
    total = float(np.dot(e, e))
    for lag in range(1, min(bartlett_lags(w), w - 1) + 1):
        weight = 1.0 - lag / (bartlett_lags(w) + 1.0)
        total += 2.0 * weight * float(np.dot(e[lag:], e[:-lag]))
    return max(total, 0.0) * w / (w - 1.0)


def design_effect(trials: ArrayLike, events: ArrayLike, cautious: bool = False) -> float:
    """D = max(1, long-run variance of the window residuals / binomial variance).

    Windows are in time order. D is 1 when there is nothing to learn from (fewer than two
    windows, or no event / all events, where the binomial variance is 0).

    `cautious` takes an upper confidence bound instead (the variance ratio over W windows
    read as chi-square with W-1 degrees of freedom, at CAUTIOUS_COVERAGE): for decisions taken
    while load runs, from few windows, where a quiet first few seconds would otherwise pass
    for independence. It costs little once many windows are in.
    """
    n = np.asarray(trials, dtype=float).reshape(-1)
    x = np.asarray(events, dtype=float).reshape(-1)
    if n.shape != x.shape:
        raise ValueError(f"length mismatch: {n.size} trials vs {x.size} events")
    total = float(n.sum())
    if n.size < 2 or total <= 0.0:
        return 1.0
    p_hat = float(x.sum()) / total
    binomial = p_hat * (1.0 - p_hat) * total
    if binomial <= 0.0:
        return 1.0
    ratio = bartlett_long_run_variance(x - p_hat * n) / binomial
    if cautious:
        windows = n.size
        ratio *= (windows - 1) / float(chi2.ppf(1.0 - CAUTIOUS_COVERAGE, windows - 1))
    return max(1.0, ratio)
