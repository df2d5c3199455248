"""Tests of infratest.correlation: the design effect is ~1 for independent requests and
grows with bursts; the Bartlett long-run variance matches its definition."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infratest.correlation import bartlett_lags, bartlett_long_run_variance, design_effect
from tests.support.bursty_latency import BurstModel

SEED = 20240611


def markov_slow_flags(rng: np.random.Generator, n: int, share: float, run: float) -> np.ndarray:
    """Slow/fast states with stationary slow `share` and mean slow-run length `run`."""
    leave = 1.0 / run
    enter = share * leave / (1.0 - share)
    flags = np.empty(n, dtype=bool)
    state = rng.random() < share
    u = rng.random(n)
    for i in range(n):
        flags[i] = state
        state = u[i] >= leave if state else u[i] < enter
    return flags


def test_bartlett_matches_the_definition() -> None:
    e = np.array([1.0, -2.0, 0.5, 3.0, -1.5, -1.0])
    lags = bartlett_lags(e.size)
    assert lags == 2
    gamma = [float(np.dot(e[k:], e[: e.size - k])) for k in range(lags + 1)]
    expected = gamma[0] + 2 * sum((1 - k / (lags + 1)) * gamma[k] for k in (1, 2))
    # centring on the mean of 6 windows hides (6 - 1) - 2 * (2/3 * 5/6 + 1/3 * 4/6) of 6
    centred = 5 - 2 * (2 / 3 * 5 / 6 + 1 / 3 * 4 / 6)
    assert bartlett_long_run_variance(e) == pytest.approx(expected * 6 / centred)
    assert bartlett_long_run_variance(np.array([4.0])) == 0.0


@pytest.mark.parametrize("windows", [2, 3, 5, 10, 30])
def test_the_long_run_variance_is_unbiased_for_independent_windows(windows: int) -> None:
    rng = np.random.default_rng(SEED + windows)
    draws = rng.normal(size=(20_000, windows))
    centred = draws - draws.mean(axis=1, keepdims=True)
    mean = np.mean([bartlett_long_run_variance(row) for row in centred])
    assert mean / windows == pytest.approx(1.0, abs=0.04)  # W/(W-1) alone gives 0.66 at W=5


@pytest.fixture(scope="module")
def bursty_windows() -> tuple[np.ndarray, float]:
    """Exceedance counts of 100-request windows, slow bursts of ~50 requests (p = 5%),
    and their true design effect from the variance of 100-window sums."""
    model = BurstModel.bursty(0.05, 50.0)
    x = model.latencies(np.random.default_rng(SEED), 100 * 100_000)
    counts = (x >= model.bound_s).reshape(-1, 100).sum(axis=1).astype(float)
    sums = counts.reshape(-1, 100).sum(axis=1)
    p = model.tail_share
    return counts, float(sums.var() / 100 / (100 * p * (1 - p)))


@pytest.mark.parametrize("windows", [5, 10, 30])
def test_the_cautious_design_effect_is_rarely_below_the_truth(
    bursty_windows: tuple[np.ndarray, float], windows: int
) -> None:
    """What the monitor relies on to pass early: its D is an upper bound at each look.
    (With W - 1 degrees of freedom and no centring correction it was below half the time.)"""
    counts, true = bursty_windows
    assert 8.0 < true < 13.0
    segments = counts[: 400 * windows].reshape(400, windows)
    trials = np.full(windows, 100.0)
    below = np.mean([design_effect(trials, seg, cautious=True) < true for seg in segments])
    assert below <= 0.10


def test_lags_grow_as_the_cube_root() -> None:
    assert [bartlett_lags(w) for w in (2, 8, 27, 64, 3600)] == [2, 2, 3, 4, 15]


def test_independent_requests_have_design_effect_near_one() -> None:
    rng = np.random.default_rng(SEED)
    effects = [design_effect(np.full(60, 100), rng.binomial(100, 0.05, 60)) for _ in range(200)]
    assert 0.95 <= float(np.median(effects)) <= 1.2
    assert min(effects) >= 1.0


@pytest.mark.parametrize("run", [10.0, 50.0])
def test_bursts_give_a_large_design_effect(run: float) -> None:
    rng = np.random.default_rng(SEED)
    flags = markov_slow_flags(rng, 6000, 0.065, run)
    events = flags.reshape(60, 100).sum(axis=1)
    assert design_effect(np.full(60, 100), events) > run / 2


def test_degenerate_counts_have_no_design_effect() -> None:
    assert design_effect([100, 100, 100], [0, 0, 0]) == 1.0
    assert design_effect([100, 100], [100, 100]) == 1.0
    assert design_effect([100], [7]) == 1.0
    assert design_effect([], []) == 1.0
    with pytest.raises(ValueError, match="length mismatch"):
        design_effect([1, 2], [1])


window_counts = st.lists(
    st.tuples(st.integers(0, 200), st.floats(0.0, 1.0)), min_size=0, max_size=80
)


@settings(max_examples=200, deadline=None)
@given(window_counts)
def test_design_effect_is_at_least_one(rows: list[tuple[int, float]]) -> None:
    trials = np.array([n for n, _ in rows], dtype=float)
    events = np.array([np.floor(n * f) for n, f in rows], dtype=float)
    d = design_effect(trials, events)
    assert d >= 1.0 and np.isfinite(d)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=0, max_size=60))
def test_long_run_variance_is_nonnegative(values: list[float]) -> None:
    e = np.array(values) - (np.mean(values) if values else 0.0)
    assert bartlett_long_run_variance(e) >= 0.0


def test_the_cautious_design_effect_asks_more_of_few_windows_than_of_many() -> None:
    rng = np.random.default_rng(7)
    few = rng.binomial(100, 0.05, size=5).astype(float)
    many = rng.binomial(100, 0.05, size=200).astype(float)
    assert design_effect(np.full(5, 100.0), few, cautious=True) >= 2.0
    plain = design_effect(np.full(200, 100.0), many)
    cautious = design_effect(np.full(200, 100.0), many, cautious=True)
    assert plain <= cautious <= max(plain, 1.0) * 1.5
    # nothing to learn from (no event anywhere) stays 1 either way
    assert design_effect(np.full(5, 100.0), np.zeros(5), cautious=True) == 1.0
