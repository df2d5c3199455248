"""Tests of infratest.anytime: known numbers, properties, and coverage by simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infratest.anytime import (
    BETA_METHOD,
    NORMAL_METHOD,
    fail_test_rejects,
    histogram_quantile,
    min_trials_to_pass,
    pass_test_rejects,
    proportion_cs,
    quantile_cs,
    rate_cs,
    ratio_mean_cs,
)
from infratest.stats import proportion_interval, quantile_interval

confidences = st.floats(min_value=0.5, max_value=0.999)
counts = st.integers(min_value=0, max_value=5000)


def assert_ordered(low: float, value: float, high: float) -> None:
    assert low <= high
    if not math.isnan(value):
        assert low <= value <= high


# --- known numbers -------------------------------------------------------------------------


def test_zero_event_pass_needs_88_trials_against_59_for_one_look() -> None:
    assert min_trials_to_pass(0.05, 0.95) == 88
    assert not pass_test_rejects(0, 87, 0.05, 0.95)
    assert pass_test_rejects(0, 88, 0.05, 0.95)
    assert proportion_interval(0, 59, 0.95).high < 0.05  # the fixed-sample rule
    assert proportion_cs(0, 88, 0.95).high < 0.05 <= proportion_cs(0, 87, 0.95).high


@pytest.mark.parametrize(("n", "shown"), [(87, False), (88, True)])
def test_p95_bounded_by_the_max_of_88_clean_samples(n: int, shown: bool) -> None:
    x = np.random.default_rng(n).uniform(0.01, 0.199, size=n)
    values, counts = np.unique(x, return_counts=True)
    iv = quantile_cs(values, counts, 0.95, 0.95)
    assert bool(iv.high == x.max()) is shown
    assert math.isinf(iv.high) is not shown


def test_fail_test_mirrors_the_pass_test() -> None:
    assert fail_test_rejects(88, 88, 0.95, 0.95) and not fail_test_rejects(87, 87, 0.95, 0.95)
    assert not fail_test_rejects(5, 100, 0.05, 0.95)
    assert fail_test_rejects(20, 100, 0.05, 0.95)
    with pytest.raises(ValueError, match="p0"):
        pass_test_rejects(0, 10, 1.0, 0.95)
    with pytest.raises(ValueError, match="events <= trials"):
        fail_test_rejects(11, 10, 0.5, 0.95)


def test_empty_inputs_are_unknown() -> None:
    iv = proportion_cs(0, 0, 0.95)
    assert (iv.low, iv.high, iv.method) == (0.0, 1.0, BETA_METHOD) and math.isnan(iv.value)
    q = quantile_cs([], [], 0.95, 0.95)
    assert math.isnan(q.value) and q.low == -math.inf and q.high == math.inf
    assert math.isnan(histogram_quantile([], [], 0.5))
    m = ratio_mean_cs([1.0, 2.0], [1.0, 1.0], 0.95)
    assert m.value == 1.5 and math.isinf(m.low) and math.isinf(m.high)


def test_point_estimate_is_numpys_linear_quantile() -> None:
    x = np.round(np.random.default_rng(3).lognormal(0.0, 1.0, 501), 2)
    values, counts = np.unique(x, return_counts=True)
    for q in (0.05, 0.5, 0.95, 0.99):
        assert histogram_quantile(values, counts, q) == pytest.approx(np.quantile(x, q))


def test_design_effect_widens_the_proportion() -> None:
    plain = proportion_cs(60, 1000, 0.95)
    bursty = proportion_cs(60, 1000, 0.95, design_effect=8.0)
    assert bursty.low < plain.low and bursty.high > plain.high
    assert bursty.effective_n == pytest.approx(125.0) and bursty.n == 1000
    assert bursty.to_dict()["effective_n"] == pytest.approx(125.0)
    assert "effective_n" not in proportion_interval(60, 1000, 0.95).to_dict()


def test_normal_mixture_shrinks_like_one_over_root_windows() -> None:
    rng = np.random.default_rng(5)
    short = rate_cs(rng.poisson(100, 10), 1.0, 0.95)
    long = rate_cs(rng.poisson(100, 1000), 1.0, 0.95)
    assert short.method == NORMAL_METHOD and short.n == 10
    ratio = (short.high - short.low) / (long.high - long.low)
    # a fixed-sample interval would shrink 10x (sqrt 100); the mixture, tuned at 10 windows,
    # pays sqrt(log(sqrt(101)/a) / log(sqrt(2)/a)) ~ 1.26 more at 1000: about 11x overall
    assert 9.0 < ratio < 14.0
    assert long.low < 100.0 < long.high


def test_censored_mean_spans_lower_bounds_to_caps() -> None:
    sums, sizes = np.array([1.0, 1.2, 0.9, 1.1]), np.array([10.0, 10.0, 10.0, 10.0])
    plain = ratio_mean_cs(sums, sizes, 0.95)
    capped = ratio_mean_cs(sums, sizes, 0.95, [0.0, 0.5, 0.0, 0.0], [0.0, 30.0, 0.0, 0.0])
    uncapped = ratio_mean_cs(sums, sizes, 0.95, [0.0, 0.5, 0.0, 0.0], [0.0, math.inf, 0, 0])
    assert capped.value == pytest.approx((4.2 + 0.5) / 40)
    assert capped.high > plain.high and math.isinf(uncapped.high)
    assert math.isfinite(uncapped.low)


# --- properties ----------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(counts, counts, confidences)
def test_proportion_cs_contains_clopper_pearson(a: int, b: int, c: float) -> None:
    s, n = min(a, b), max(a, b)
    cs, cp = proportion_cs(s, n, c), proportion_interval(s, n, c)
    assert cs.low <= cp.low + 1e-12 and cs.high >= cp.high - 1e-12
    assert_ordered(cs.low, cs.value, cs.high)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 3000), st.floats(0.0, 1.0), confidences, st.floats(1.0, 50.0))
def test_more_events_raise_both_proportion_bounds(n: int, f: float, c: float, d: float) -> None:
    s = math.floor(f * (n - 1))
    fewer, more = proportion_cs(s, n, c, d), proportion_cs(s + 1, n, c, d)
    # up to float noise: bounds near zero come out of a root finder at about 1e-13
    assert more.low >= fewer.low - 1e-12 and more.high >= fewer.high - 1e-12


latencies = st.lists(st.floats(0.0, 10.0), min_size=1, max_size=400)
quantiles = st.floats(0.01, 0.99)


def histogram(x: list[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    values, counts = np.unique(np.asarray(x, dtype=float), return_counts=True)
    return values, counts


@settings(max_examples=150, deadline=None)
@given(latencies, quantiles, confidences, st.floats(1.0, 20.0))
def test_quantile_cs_is_ordered_and_contains_fixed_sample_bounds(
    x: list[float], q: float, c: float, d: float
) -> None:
    iv = quantile_cs(*histogram(x), q, c, d)
    assert_ordered(iv.low, iv.value, iv.high)
    fixed = quantile_interval(x, q, c)
    assert iv.low <= fixed.low and iv.high >= fixed.high


@settings(max_examples=150, deadline=None)
@given(latencies, quantiles, confidences, st.floats(0.0, 5.0))
def test_slower_requests_raise_quantile_bounds(
    x: list[float], q: float, c: float, shift: float
) -> None:
    arr = np.asarray(x)
    slower = arr.copy()
    slower[arr >= np.median(arr)] += shift  # more samples over any bound
    before, after = quantile_cs(*histogram(arr), q, c), quantile_cs(*histogram(slower), q, c)
    assert after.low >= before.low and after.high >= before.high


@settings(max_examples=150, deadline=None)
@given(latencies, st.data(), quantiles, confidences, st.floats(0.0, 20.0))
def test_censoring_only_widens(
    x: list[float], data: st.DataObject, q: float, c: float, extra_cap: float
) -> None:
    arr = np.asarray(x)
    hidden = np.asarray(data.draw(st.lists(st.booleans(), min_size=arr.size, max_size=arr.size)))
    fraction = data.draw(st.floats(0.0, 1.0))
    cap = float(arr.max()) + extra_cap
    known = quantile_cs(*histogram(arr), q, c)
    seen = quantile_cs(*histogram(arr[~hidden]), q, c, censored=arr[hidden] * fraction, cap=cap)
    assert seen.n == known.n
    assert seen.high >= known.high and seen.low <= known.low
    assert_ordered(seen.low, seen.value, seen.high)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0.0, 100.0), min_size=0, max_size=60), confidences)
def test_rate_cs_is_ordered(x: list[float], c: float) -> None:
    iv = rate_cs(np.floor(x), 1.0, c)
    assert_ordered(iv.low, iv.value, iv.high)
    assert iv.low >= 0.0 or math.isinf(iv.low)
