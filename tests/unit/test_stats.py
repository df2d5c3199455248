"""Tests of infratest.stats: exact small-sample rules, coverage by simulation, properties."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import lfilter

from infratest.stats import (
    Interval,
    batch_means_interval,
    exact,
    mean_interval,
    proportion_interval,
    quantile_interval,
    rate_interval,
    ratio_interval,
    slope_interval,
)
from infratest.usl import UslFit, _usl_least_squares, _usl_refits, fit_usl, usl_peak_intervals

REPS = 2000
MIN_COVERAGE = 0.93
HAC_SMALL_N_COVERAGE = 0.90

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
samples = st.lists(finite, min_size=0, max_size=300)
confidences = st.floats(min_value=0.5, max_value=0.999)
quantiles = st.floats(min_value=0.01, max_value=0.99)


def assert_ordered(iv: Interval) -> None:
    """low <= value <= high wherever the value is known."""
    assert iv.low <= iv.high
    if not math.isnan(iv.value):
        assert iv.low <= iv.value <= iv.high, iv


# --- the 59-sample rule: 0.95**59 < 0.05 <= 0.95**58 -------------------------------------


@pytest.mark.parametrize(("n", "shown"), [(58, False), (59, True), (60, True)])
def test_p95_below_bound_needs_59_clean_samples(n: int, shown: bool) -> None:
    bound = 200.0
    x = np.random.default_rng(n).uniform(10.0, 199.0, size=n)
    iv = quantile_interval(x, 0.95, 0.95)
    assert bool(iv.high < bound) is shown
    assert bool(iv.high == x.max()) is shown
    assert math.isinf(iv.high) is not shown


@pytest.mark.parametrize(("n", "shown"), [(58, False), (59, True)])
def test_zero_over_bound_proportion_needs_59(n: int, shown: bool) -> None:
    assert bool(proportion_interval(0, n, 0.95).high < 0.05) is shown


@pytest.mark.parametrize("n", [20, 59, 100, 500, 3000])
@pytest.mark.parametrize("over", [0, 1, 3, 10])
def test_quantile_bound_agrees_with_clopper_pearson_on_count_over(n: int, over: int) -> None:
    """high < b  iff  the exceedance proportion is shown < 1-q (for continuous data)."""
    bound = 1000.0
    rng = np.random.default_rng(n * 31 + over)
    x = np.concatenate([rng.uniform(0, 999, n - over), rng.uniform(1001, 2000, over)])
    q_shown = quantile_interval(x, 0.95, 0.95).high < bound
    p_shown = proportion_interval(over, n, 0.95).high < 0.05
    assert q_shown == p_shown


# --- coverage by simulation ------------------------------------------------------------


def test_quantile_interval_coverage_exponential() -> None:
    rng = np.random.default_rng(12345)
    true_p95 = -math.log(0.05)
    data = rng.exponential(size=(REPS, 200))
    ivs = [quantile_interval(row, 0.95, 0.95) for row in data]
    assert np.mean([iv.high >= true_p95 for iv in ivs]) >= MIN_COVERAGE
    assert np.mean([iv.low <= true_p95 for iv in ivs]) >= MIN_COVERAGE
    # not absurdly conservative either: each side should miss sometimes
    assert np.mean([iv.high >= true_p95 for iv in ivs]) < 0.995


def test_mean_interval_coverage_normal() -> None:
    rng = np.random.default_rng(7)
    data = rng.normal(10.0, 3.0, size=(REPS, 15))
    ivs = [mean_interval(row, 0.95) for row in data]
    high_cov = np.mean([iv.high >= 10.0 for iv in ivs])
    low_cov = np.mean([iv.low <= 10.0 for iv in ivs])
    assert MIN_COVERAGE <= high_cov < 0.975
    assert MIN_COVERAGE <= low_cov < 0.975


def test_slope_interval_coverage_noisy_lines() -> None:
    rng = np.random.default_rng(99)
    t = np.linspace(0.0, 60.0, 25)
    true_slope = 2.5e4  # bytes/s
    noise = rng.normal(0.0, 3e5, size=(REPS, t.size))
    ivs = [slope_interval(t, 1e8 + true_slope * t + row, 0.95) for row in noise]
    # Newey-West errors are a little short on 25 independent points (about 92% per side
    # at 95%): the price of staying honest when the noise is autocorrelated.
    assert np.mean([iv.high >= true_slope for iv in ivs]) >= HAC_SMALL_N_COVERAGE
    assert np.mean([iv.low <= true_slope for iv in ivs]) >= HAC_SMALL_N_COVERAGE
    assert all(iv.method == "ols-slope-hac" and iv.n == t.size for iv in ivs[:5])


def test_proportion_interval_coverage() -> None:
    rng = np.random.default_rng(3)
    p, n = 0.02, 400
    counts = rng.binomial(n, p, size=REPS)
    ivs = [proportion_interval(int(k), n, 0.95) for k in counts]
    assert np.mean([iv.high >= p for iv in ivs]) >= 0.95  # exact, so never below nominal
    assert np.mean([iv.low <= p for iv in ivs]) >= 0.95


def test_batch_means_covers_autocorrelated_latency_where_naive_t_does_not() -> None:
    """Why batch means: AR(1) latencies make a per-request t-interval far too narrow."""
    rng = np.random.default_rng(2024)
    reps, per_s, seconds, phi = 400, 50, 60, 0.9
    times = np.arange(per_s * seconds) / per_s
    noise = lfilter([1.0], [1.0, -phi], rng.normal(size=(reps, times.size)), axis=1)
    lat = 100.0 + 5.0 * noise
    batch = [batch_means_interval(times, row, 0.95) for row in lat]
    naive = [mean_interval(row, 0.95) for row in lat]
    assert np.mean([iv.low <= 100.0 <= iv.high for iv in batch]) >= 0.85
    assert np.mean([iv.low <= 100.0 <= iv.high for iv in naive]) < 0.7
    assert batch[0].n == seconds


# --- individual estimators --------------------------------------------------------------


def test_exact_is_a_point_and_serialises() -> None:
    iv = exact(3, 0.95)
    assert (iv.value, iv.low, iv.high, iv.method) == (3.0, 3.0, 3.0, "exact")
    assert exact(7.0, 0.9, n=250).n == 250


def test_to_dict_encodes_infinities_as_none() -> None:
    d = quantile_interval([1.0, 2.0, 3.0], 0.5, 0.95).to_dict()
    assert set(d) == {"value", "ci_low", "ci_high", "confidence", "n", "method"}
    assert d["ci_high"] is None
    assert d["value"] == 2.0 and d["n"] == 3 and d["method"] == "order-statistic"
    assert json.loads(json.dumps(d, allow_nan=False)) == d
    assert quantile_interval([], 0.5, 0.95).to_dict()["value"] is None


def test_interval_is_frozen() -> None:
    iv = exact(1.0, 0.95)
    with pytest.raises(AttributeError):
        iv.value = 2.0  # type: ignore[misc]


def test_quantile_interval_empty_and_large() -> None:
    empty = quantile_interval([], 0.95, 0.95)
    assert math.isnan(empty.value) and empty.low == -math.inf and empty.high == math.inf
    x = np.random.default_rng(0).exponential(size=1_000_000)
    iv = quantile_interval(x, 0.95, 0.95)
    assert iv.n == 1_000_000
    assert iv.value == pytest.approx(np.quantile(x, 0.95))
    assert iv.low < -math.log(0.05) < iv.high
    assert iv.high - iv.low < 0.03


def test_quantile_interval_ignores_nan_and_rejects_bad_q() -> None:
    iv = quantile_interval([1.0, math.nan, 3.0], 0.5, 0.9)
    assert iv.n == 2 and iv.value == 2.0
    for q in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError):
            quantile_interval([1.0, 2.0], q, 0.95)
    with pytest.raises(ValueError):
        quantile_interval([1.0, 2.0], 0.5, 1.0)


def test_proportion_interval_edges() -> None:
    empty = proportion_interval(0, 0, 0.95)
    assert math.isnan(empty.value) and (empty.low, empty.high) == (0.0, 1.0)
    assert proportion_interval(0, 10, 0.95).low == 0.0
    assert proportion_interval(10, 10, 0.95).high == 1.0
    # one-sided 95% CP lower bound for 10/10 is 0.05**(1/10)
    assert proportion_interval(10, 10, 0.95).low == pytest.approx(0.05**0.1)
    with pytest.raises(ValueError):
        proportion_interval(5, 3, 0.95)


def test_mean_interval_small_inputs() -> None:
    assert math.isnan(mean_interval([], 0.95).value)
    one = mean_interval([4.0], 0.95)
    assert one.value == 4.0 and math.isinf(one.low) and math.isinf(one.high)
    same = mean_interval([2.0] * 10, 0.95)
    assert same.low == same.value == same.high == 2.0
    # mean 2, sd sqrt(2/3), n 4 -> half-width t(0.95, df=3) * sd / sqrt(4)
    iv = mean_interval([1.0, 2.0, 2.0, 3.0], 0.95)
    assert iv.high - iv.value == pytest.approx(2.353363 * math.sqrt(2 / 3) / 2, rel=1e-5)


def test_batch_means_value_is_overall_mean_with_uneven_windows() -> None:
    times = [0.1, 0.2, 0.3, 1.5, 2.2, 2.4]
    values = [1.0, 1.0, 1.0, 10.0, 4.0, 4.0]
    iv = batch_means_interval(times, values, 0.95)
    assert iv.value == pytest.approx(np.mean(values))
    assert iv.n == 3 and iv.method == "batch-means-t"
    assert iv.low < iv.value < iv.high
    gap = batch_means_interval([0.0, 0.5, 10.0], [1.0, 2.0, 3.0], 0.95)
    assert gap.n == 2  # empty windows between are skipped
    single = batch_means_interval([0.0, 0.1], [1.0, 3.0], 0.95)
    assert single.value == 2.0 and math.isinf(single.high)


def test_rate_interval_even_events() -> None:
    events = np.linspace(0.0, 10.0, 1000, endpoint=False)
    iv = rate_interval(events, 0.0, 10.0, 0.95)
    assert iv.value == pytest.approx(100.0)
    assert 99.0 <= iv.low <= 100.0 <= iv.high <= 101.0
    assert iv.n == 10


def test_rate_interval_poisson_and_partial_windows() -> None:
    rng = np.random.default_rng(5)
    events = np.sort(rng.uniform(0.0, 30.5, size=1525))
    iv = rate_interval(events, 0.0, 30.5, 0.95)
    assert iv.value == pytest.approx(1525 / 30.5)
    assert iv.n == 30  # partial last half-second window dropped from the spread
    assert iv.low < 50.0 < iv.high
    only = rate_interval([0.1, 0.2, 0.3], 0.0, 0.5, 0.95)
    assert only.value == pytest.approx(6.0) and math.isinf(only.high)
    outside = rate_interval([-1.0, 0.5, 1.5, 5.0], 0.0, 2.0, 0.95)
    assert outside.value == pytest.approx(1.0)


def test_slope_interval_covers_under_autocorrelated_noise() -> None:
    """AR(1) noise (phi 0.5) fakes trends: the iid error covers ~80% per side, HAC ~90%."""
    rng = np.random.default_rng(7)
    t = np.arange(120.0)
    noise = lfilter([1.0], [1.0, -0.5], rng.normal(0.0, 1e5, size=(400, t.size)), axis=1)
    ivs = [slope_interval(t, 1e8 + row, 0.95) for row in noise]
    assert np.mean([iv.high >= 0.0 for iv in ivs]) >= 0.87
    assert np.mean([iv.low <= 0.0 for iv in ivs]) >= 0.87


def test_slope_interval_exact_line_and_small_n() -> None:
    iv = slope_interval([0, 1, 2, 3, 4], [5, 7, 9, 11, 13], 0.95)
    assert iv.value == pytest.approx(2.0) and iv.high - iv.low == pytest.approx(0.0, abs=1e-9)
    two = slope_interval([0, 1], [0, 3], 0.95)
    assert two.value == pytest.approx(3.0) and math.isinf(two.low) and math.isinf(two.high)
    flat_t = slope_interval([1, 1, 1], [1, 2, 3], 0.95)
    assert math.isnan(flat_t.value) and math.isinf(flat_t.high)


def test_ratio_interval_delta_method() -> None:
    num = Interval(10.0, 8.0, 12.0, 0.95, 30, "batch-means-t")
    den = Interval(5.0, 4.5, 5.5, 0.95, 20, "batch-means-t")
    iv = ratio_interval(num, den, 0.95)
    z = 1.6448536269514722
    se = math.sqrt((2.0 / z) ** 2 + 4.0 * (0.5 / z) ** 2) / 5.0
    assert iv.value == 2.0 and iv.n == 20 and iv.method == "delta-ratio"
    assert iv.high - iv.value == pytest.approx(z * se)
    assert iv.low < 2.0 < iv.high
    pts = ratio_interval(exact(6.0, 0.95), exact(3.0, 0.95), 0.95)
    assert pts.low == pts.value == pts.high == 2.0


def test_ratio_interval_unknown_denominator() -> None:
    num = Interval(10.0, 8.0, 12.0, 0.95, 30, "x")
    around_zero = ratio_interval(num, Interval(1.0, -0.5, 2.5, 0.95, 5, "x"), 0.95)
    assert math.isinf(around_zero.low) and math.isinf(around_zero.high)
    unbounded = ratio_interval(num, Interval(4.0, 3.0, math.inf, 0.95, 5, "x"), 0.95)
    assert unbounded.value == 2.5 and math.isinf(unbounded.high)
    zero = ratio_interval(num, exact(0.0, 0.95), 0.95)
    assert math.isnan(zero.value) and math.isinf(zero.high)


# --- Universal Scalability Law ------------------------------------------------------------

USERS = np.array([1, 2, 4, 8, 16, 32, 48, 64], dtype=float)
TRUE_USL = UslFit(0.05, 0.002, 100.0, 1.0, math.sqrt(0.95 / 0.002), 0.0, True, "")


@pytest.mark.parametrize("noise", [0.0, 0.03])
def test_fit_usl_recovers_known_parameters(noise: float) -> None:
    rng = np.random.default_rng(11)
    x = TRUE_USL.predict(USERS) * (1.0 + noise * rng.standard_normal(USERS.size))
    fit = fit_usl(USERS, x)
    assert fit.ok and fit.reason == ""
    assert fit.r2 > 0.95
    assert fit.peak_users == pytest.approx(TRUE_USL.peak_users, rel=0.15)
    assert fit.sigma == pytest.approx(0.05, rel=0.5, abs=0.02)
    assert fit.kappa == pytest.approx(0.002, rel=0.3)
    assert fit.lam == pytest.approx(100.0, rel=0.15)
    peak = float(TRUE_USL.predict([TRUE_USL.peak_users])[0])
    assert fit.peak_throughput == pytest.approx(peak, rel=0.15)
    assert fit.predict(USERS).shape == USERS.shape


def test_fit_usl_needs_four_levels() -> None:
    fit = fit_usl(USERS[:3], TRUE_USL.predict(USERS[:3]))
    assert not fit.ok and "at least 4" in fit.reason and "3" in fit.reason
    repeated = fit_usl([1, 1, 2, 2, 4, 4], [100, 101, 190, 192, 350, 352])
    assert not repeated.ok and "at least 4" in repeated.reason
    empty = fit_usl([], [])
    assert not empty.ok and empty.reason
    dead = fit_usl(USERS, np.zeros(USERS.size))
    assert not dead.ok and "no throughput" in dead.reason


def test_fit_usl_rejects_noise() -> None:
    x = np.random.default_rng(1).uniform(50.0, 500.0, USERS.size)
    fit = fit_usl(USERS, x)
    assert not fit.ok
    assert fit.reason.startswith("poor fit: R²") and fit.r2 < 0.9


def test_fit_usl_linear_scaling_has_no_peak() -> None:
    fit = fit_usl(USERS, 50.0 * USERS)
    assert fit.kappa == pytest.approx(0.0, abs=1e-6)
    assert fit.peak_users == math.inf or fit.peak_users > 1e3
    # a peak far beyond the measured range is a guess, and is reported as one
    assert fit.ok == math.isinf(fit.peak_users)
    assert fit.ok or "no peak in sight" in fit.reason


TRUE_PEAK_THROUGHPUT = float(TRUE_USL.predict([TRUE_USL.peak_users])[0])
Z95 = 1.6448536269514722


def _usl_steps(rel_se: float, seed: int) -> tuple[UslFit, list[Interval]]:
    """USL throughput with relative noise `rel_se`, each step's interval saying so."""
    true = TRUE_USL.predict(USERS)
    x = true * (1.0 + rel_se * np.random.default_rng(seed).standard_normal(USERS.size))
    half = Z95 * rel_se * true
    pairs = zip(x, half, strict=True)
    steps = [Interval(v, v - h, v + h, 0.95, 10, "batch-means-t") for v, h in pairs]
    return fit_usl(USERS, x), steps


def _width(iv: Interval) -> float:
    return iv.high - iv.low


def test_usl_bootstrap_contains_the_true_peak_and_widens_with_noise() -> None:
    quiet_fit, quiet = _usl_steps(0.003, seed=5)
    noisy_fit, noisy = _usl_steps(0.05, seed=5)
    tight = usl_peak_intervals(USERS, quiet, quiet_fit, 0.95)
    loose = usl_peak_intervals(USERS, noisy, noisy_fit, 0.95)
    for peaks in (tight, loose):
        assert peaks.users.low <= TRUE_USL.peak_users <= peaks.users.high
        assert peaks.throughput.low <= TRUE_PEAK_THROUGHPUT <= peaks.throughput.high
        for iv in (peaks.users, peaks.throughput):
            assert iv.method == "usl-bootstrap" and iv.n == USERS.size
            assert iv.low < iv.value < iv.high and math.isfinite(iv.high)
    assert tight.users.value == quiet_fit.peak_users
    assert _width(tight.users) < 0.05 * TRUE_USL.peak_users
    assert _width(loose.users) > 5 * _width(tight.users)
    assert _width(loose.throughput) > 5 * _width(tight.throughput)


def test_usl_bootstrap_is_seeded_and_its_ends_are_one_sided() -> None:
    fit, steps = _usl_steps(0.03, seed=2)
    first = usl_peak_intervals(USERS, steps, fit, 0.95)
    assert usl_peak_intervals(USERS, steps, fit, 0.95) == first
    at_80 = usl_peak_intervals(USERS, steps, fit, 0.8)
    assert first.users.low < at_80.users.low and at_80.users.high < first.users.high


def test_usl_bootstrap_without_step_intervals_is_unbounded() -> None:
    fit, steps = _usl_steps(0.01, seed=3)
    steps[2] = Interval(steps[2].value, -math.inf, math.inf, 0.95, 1, "batch-means-t")
    peaks = usl_peak_intervals(USERS, steps, fit, 0.95)
    assert peaks.users.value == fit.peak_users
    assert peaks.users.low == -math.inf and peaks.users.high == math.inf
    assert peaks.throughput.low == -math.inf and peaks.throughput.high == math.inf


def test_usl_bootstrap_level_off_has_an_open_peak_users_end() -> None:
    # sigma > 0, kappa = 0: throughput levels off at lam / sigma; some refits find no peak
    x = 100.0 * USERS / (1.0 + 0.2 * (USERS - 1.0))
    steps = [Interval(v, 0.97 * v, 1.03 * v, 0.95, 10, "t") for v in x]
    fit = fit_usl(USERS, x)
    peaks = usl_peak_intervals(USERS, steps, fit, 0.95)
    assert peaks.users.high == math.inf
    assert peaks.throughput.low <= 500.0 <= peaks.throughput.high


@pytest.mark.parametrize(("truth", "rel"), [((0.05, 0.002, 100.0), 0.1), ((0.1, 0.0, 50.0), 0.05)])
def test_batched_usl_refits_match_scipy(truth: tuple[float, float, float], rel: float) -> None:
    true = UslFit(*truth, 1.0, 0.0, 0.0, True, "").predict(USERS)
    xs = true * (1.0 + rel * np.random.default_rng(9).standard_normal((40, USERS.size)))
    start = np.array(truth)
    batched = _usl_refits(USERS, xs, start)
    for row, x in zip(batched, xs, strict=True):
        reference = np.array(_usl_least_squares(USERS, x, start))
        cost = [
            float(np.sum((UslFit(*p, 1, 0, 0, True, "").predict(USERS) - x) ** 2))
            for p in (row, reference)
        ]
        assert cost[0] <= cost[1] * (1.0 + 1e-6)
        assert np.all(row >= 0.0)


def test_usl_bootstrap_covers_the_true_peak_in_simulation() -> None:
    """Each one-sided end misses the truth about 5% of the time at 95%; 60 repetitions
    allow up to 12% so Monte Carlo noise does not fail a correct method."""
    misses = np.zeros(4)
    reps = 60
    for seed in range(reps):
        fit, steps = _usl_steps(0.05, seed=100 + seed)
        peaks = usl_peak_intervals(USERS, steps, fit, 0.95)
        misses += [
            peaks.users.low > TRUE_USL.peak_users,
            peaks.users.high < TRUE_USL.peak_users,
            peaks.throughput.low > TRUE_PEAK_THROUGHPUT,
            peaks.throughput.high < TRUE_PEAK_THROUGHPUT,
        ]
    assert np.all(misses / reps <= 0.12), misses / reps


# --- properties ------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(samples, quantiles, confidences)
def test_quantile_interval_ordered(x: list[float], q: float, c: float) -> None:
    iv = quantile_interval(x, q, c)
    assert iv.n == len(x)
    assert_ordered(iv)


@settings(max_examples=150, deadline=None)
@given(samples, quantiles, confidences, confidences)
def test_quantile_bounds_widen_with_confidence(x: list[float], q: float, a: float, b: float):
    lo_c, hi_c = sorted((a, b))
    narrow, wide = quantile_interval(x, q, lo_c), quantile_interval(x, q, hi_c)
    assert wide.low <= narrow.low
    assert wide.high >= narrow.high


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 10_000), confidences)
def test_proportion_interval_contains_rate(a: int, b: int, c: float) -> None:
    successes, n = min(a, b), max(a, b)
    iv = proportion_interval(successes, n, c)
    assert 0.0 <= iv.low <= iv.high <= 1.0
    if n:
        assert iv.low <= successes / n <= iv.high


@settings(max_examples=100, deadline=None)
@given(samples, confidences)
def test_mean_interval_ordered(x: list[float], c: float) -> None:
    assert_ordered(mean_interval(x, c))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 100), finite), max_size=200), confidences)
def test_batch_means_and_slope_ordered(pairs: list[tuple[float, float]], c: float) -> None:
    t = [p[0] for p in pairs]
    y = [p[1] for p in pairs]
    assert_ordered(batch_means_interval(t, y, c))
    assert_ordered(slope_interval(t, y, c))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(-5, 40), max_size=300), st.floats(0.1, 30), confidences)
def test_rate_interval_ordered(events: list[float], span: float, c: float) -> None:
    iv = rate_interval(events, 0.0, span, c)
    assert iv.value >= 0.0
    assert_ordered(iv)


EDGE_INPUTS = [[], [1.0], [3.0] * 50, list(np.random.default_rng(0).normal(size=100_000))]


@pytest.mark.parametrize("x", EDGE_INPUTS, ids=["empty", "one", "all-equal", "1e5"])
@pytest.mark.parametrize("c", [0.5, 0.9, 0.99])
def test_never_raises_on_edge_input(x: list[float], c: float) -> None:
    t = np.arange(len(x)) / 1000.0
    ivs = [
        quantile_interval(x, 0.99, c),
        quantile_interval(x, 0.5, c),
        mean_interval(x, c),
        batch_means_interval(t, x, c),
        slope_interval(t, x, c),
        rate_interval(t, 0.0, max(len(x) / 1000.0, 1e-3), c),
        proportion_interval(len(x) // 3, len(x), c),
    ]
    ivs.append(ratio_interval(ivs[2], ivs[3], c))
    for iv in ivs:
        assert iv.n >= 0 and iv.confidence == c
        assert_ordered(iv)
    if len(x) == 50:  # all equal: every estimator agrees on the value exactly
        assert ivs[0].value == ivs[1].value == ivs[2].value == 3.0
