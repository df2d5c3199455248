"""Delta intervals of a candidate against a baseline, checked by simulation.

Each simulated comparison is 30 s at 100 req/s laid out in ABBA blocks (15 windows a side),
as tests/support/abba.py builds it (the closed-loop drift test: 32 s in a compare run's
A B | B A rounds instead). Runs are seeded, so the shares below repeat; the bounds
leave simulation slack of about three standard errors of a share over the runs made. The
simulations use 600 resamples (not the default 2000) to fit the file in ~40 s: the 5% and
95% percentiles of 600 draws are noisier, not biased, so the error rates are unchanged.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infratest import deltas
from infratest.deltas import DELTA_METRICS, SideSample, delta_intervals
from tests.support.abba import Layout, Scenario, abba, alternating, sequential, simulate_pair

CONFIDENCE = 0.95
RESAMPLES = 600
WINDOWS = 30


def _p95_runs(layout: Layout, scenario: Scenario, runs: int, seed: int) -> np.ndarray:
    """(runs x 3): relative p95 delta value, low, high."""
    rng = np.random.default_rng(seed)
    out = np.empty((runs, 3))
    for i in range(runs):
        a, b = simulate_pair(rng, layout, scenario)
        d = delta_intervals(a, b, CONFIDENCE, ("latency.p95",), RESAMPLES, seed=i)
        rel = d["latency.p95"].relative
        out[i] = rel.value, rel.low, rel.high
    return out


@pytest.mark.parametrize(
    ("rounds", "run", "runs", "bound"),
    [(4, 1.0, 300, 0.085), (1, 1.0, 200, 0.095), (4, 10.0, 300, 0.085)],
    ids=["iid-R4", "iid-R1", "bursts10-R4"],
)
def test_identical_targets_rarely_show_a_regression(
    rounds: int, run: float, runs: int, bound: float
) -> None:
    got = _p95_runs(abba(WINDOWS, rounds), Scenario(run=run), runs, seed=100 + rounds)
    false_regressions = float(np.mean(got[:, 1] > 0.0))
    assert false_regressions <= bound, f"{false_regressions:.1%} of runs saw p95 regress"
    # and the interval is not useless: the other end misses about as often, not never
    assert float(np.mean(got[:, 2] < 0.0)) <= bound


def test_a_twenty_percent_regression_is_covered_and_clears_ten_percent() -> None:
    got = _p95_runs(abba(WINDOWS, 4), Scenario(candidate_factor=1.2), 200, seed=7)
    covered = float(np.mean((got[:, 1] <= 0.2) & (got[:, 2] >= 0.2)))
    assert covered >= 0.87, f"+20% covered in {covered:.1%} of runs"
    assert float(np.mean(got[:, 1] > 0.10)) > 0.5
    assert abs(float(np.median(got[:, 0])) - 0.2) < 0.03


def test_interleaving_cancels_a_drift_both_sides_share() -> None:
    got = _p95_runs(abba(WINDOWS, 4), Scenario(drift_factor=2.0), 200, seed=11)
    assert float(np.mean(got[:, 1] > 0.0)) <= 0.095
    assert float(np.mean(got[:, 2] < 0.0)) <= 0.095
    # stratified by round, the interval stays about as narrow as without any drift
    assert float(np.median(got[:, 2] - got[:, 1])) < 0.3


CLOSED_LOOP_METRICS = ("latency.p50", "latency.p95", "latency.mean")


def _pooled_deltas(a: SideSample, b: SideSample, seed: int) -> dict[str, deltas.Delta]:
    """The estimator before per-round figures: the same round-stratified resampling, but
    each side's figure pooled over all its requests (one figure stratum)."""
    grid = deltas._Grid.of((a, b))
    labels = deltas._strata((a.block, b.block))
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2)]
    est = [
        deltas._side_estimates(
            side,
            np.zeros(side.windows, dtype=np.int64),
            grid,
            deltas._weights(lab, RESAMPLES, rng),
            CLOSED_LOOP_METRICS,
        )
        for side, lab, rng in zip((a, b), labels, rngs, strict=True)
    ]
    widen = max(
        deltas._widening(side, lab, CONFIDENCE) for side, lab in zip((a, b), labels, strict=True)
    )
    return {
        m: deltas._delta(m, est[0][m], est[1][m], CONFIDENCE, widen, 0) for m in CLOSED_LOOP_METRICS
    }


def test_a_closed_loop_drift_cancels_with_every_round_counting_once() -> None:
    """Users who wait for answers send fewer requests per window as both targets slow down
    (x3 over the run, linearly): pooled over requests, a side's figure leans on its fast,
    busy blocks, and the same-speed candidate looks faster or slower; averaged per round
    (A B, B A, ... as a compare run lays them out) the drift cancels."""
    layout, runs = alternating(32, 4), 150
    scenario = Scenario(ramp_factor=3.0, closed_loop=True, sigma=0.1, rate=60)
    rng = np.random.default_rng(29)
    new = {m: np.empty((runs, 3)) for m in CLOSED_LOOP_METRICS}
    old = {m: np.empty((runs, 3)) for m in CLOSED_LOOP_METRICS}
    for i in range(runs):
        a, b = simulate_pair(rng, layout, scenario)
        got = delta_intervals(a, b, CONFIDENCE, CLOSED_LOOP_METRICS, RESAMPLES, seed=i)
        pooled = _pooled_deltas(a, b, seed=i)
        for m in CLOSED_LOOP_METRICS:
            for out, d in ((new, got), (old, pooled)):
                r = d[m].relative
                out[m][i] = r.value, r.low, r.high
    for m in CLOSED_LOOP_METRICS:
        g = new[m]
        assert float(np.mean(g[:, 1] > 0.0)) <= 0.085, m
        assert float(np.mean(g[:, 2] < 0.0)) <= 0.085, m
        assert abs(float(np.median(g[:, 0]))) < 0.01, m
    # the regression fixed: pooled figures excluded 0 in most runs of identical targets
    for m in CLOSED_LOOP_METRICS:
        g = old[m]
        excluded = float(np.mean((g[:, 1] > 0.0) | (g[:, 2] < 0.0)))
        assert excluded >= 0.5, f"{m}: pooled excluded 0 in only {excluded:.0%}"


def test_a_round_too_small_on_either_side_is_merged_on_both() -> None:
    """A small round joins the next one (the last joins the one before), judged on both
    sides at once, so both average their figures over the same rounds."""
    a_blocks = np.array([0, 0, 2, 4, 4, 6, 6])  # round 1 holds one baseline window
    b_blocks = np.array([1, 1, 3, 3, 5, 5, 7])  # round 3 holds one candidate window
    a, b = deltas._strata((a_blocks, b_blocks))
    assert a.tolist() == [0, 0, 1, 1, 1, 1, 1]
    assert b.tolist() == [0, 0, 1, 1, 1, 1, 1]
    (alone,) = deltas._strata((a_blocks,))  # the baseline alone keeps its last round
    assert alone.tolist() == [0, 0, 1, 1, 1, 2, 2]


def test_a_sequential_layout_reads_the_drift_as_a_regression() -> None:
    got = _p95_runs(sequential(WINDOWS), Scenario(drift_factor=2.0), 40, seed=13)
    assert float(np.mean(got[:, 1] > 0.5)) >= 0.95  # "p95 doubled", of identical targets


def test_error_rate_delta_is_in_points() -> None:
    rng = np.random.default_rng(17)
    scenario = Scenario(baseline_errors=0.01, candidate_errors=0.06)
    hits = 0
    for i in range(30):
        a, b = simulate_pair(rng, abba(WINDOWS, 4), scenario)
        err = delta_intervals(a, b, CONFIDENCE, ("errors.rate",), RESAMPLES, seed=i)["errors.rate"]
        assert abs(err.absolute.value - 0.05) < 0.025
        assert err.absolute.low <= err.absolute.value <= err.absolute.high
        hits += err.absolute.low > 0.01
    assert hits == 30


def test_sixty_windows_of_three_thousand_values_give_every_change_metric() -> None:
    rng = np.random.default_rng(3)

    def side() -> SideSample:
        values = tuple(
            np.sort(rng.choice(np.arange(1, 20_000) * 1e-5, 3000, False)) for _ in range(60)
        )
        counts = tuple(rng.integers(1, 4, 3000) for _ in range(60))
        ok = np.array([int(c.sum()) for c in counts])
        return SideSample(
            values, counts, ok, rng.integers(0, 10, 60), np.repeat(np.arange(8), 8)[:60]
        )

    a, b = side(), side()
    got = delta_intervals(a, b, CONFIDENCE)  # its speed is benchmarks/compare_power.py's
    assert set(got) == set(DELTA_METRICS)
    assert all(d.absolute.low <= d.absolute.high for d in got.values())


def _empty() -> SideSample:
    return SideSample((), (), np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64))


def test_degenerate_sides_give_nan_not_errors() -> None:
    rng = np.random.default_rng(5)
    a, _ = simulate_pair(rng, abba(WINDOWS, 4), Scenario())
    no_latency = SideSample(
        tuple(np.zeros(0) for _ in range(4)),
        tuple(np.zeros(0, dtype=np.int64) for _ in range(4)),
        np.zeros(4),
        np.full(4, 3.0),
        np.arange(4),
    )
    for base, cand in ((a, _empty()), (_empty(), a), (_empty(), _empty()), (no_latency, a)):
        got = delta_intervals(base, cand, CONFIDENCE, resamples=50)
        p95 = got["latency.p95"]
        assert math.isnan(p95.absolute.value) and math.isnan(p95.absolute.low)
        assert math.isnan(p95.relative.value) and math.isnan(p95.relative.high)
    zero_errors = delta_intervals(no_latency, no_latency, CONFIDENCE, resamples=50)
    assert zero_errors["throughput"].absolute.value == 0.0
    assert math.isnan(zero_errors["throughput"].relative.value)  # baseline throughput 0


@st.composite
def _pairs(draw: st.DrawFn) -> tuple[SideSample, SideSample]:
    def side() -> SideSample:
        n = draw(st.integers(2, 8))
        values, counts = [], []
        for _ in range(n):
            k = draw(st.integers(1, 6))
            v = draw(st.lists(st.integers(1, 5000), min_size=k, max_size=k, unique=True))
            values.append(np.sort(np.array(v, dtype=float)) * 1e-4)
            counts.append(np.array(draw(st.lists(st.integers(1, 5), min_size=k, max_size=k))))
        ok = np.array([int(c.sum()) for c in counts])
        failed = np.array(draw(st.lists(st.integers(0, 5), min_size=n, max_size=n)))
        block = np.sort(np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))))
        return SideSample(tuple(values), tuple(counts), ok, failed, block)

    return side(), side()


def _scaled(s: SideSample, c: float) -> SideSample:
    return SideSample(
        tuple(v * c for v in s.latency_values), s.latency_counts, s.ok, s.failed, s.block
    )


@settings(max_examples=60, deadline=None)
@given(_pairs(), st.integers(0, 99))
def test_swapping_sides_negates_the_absolute_delta(pair: tuple, seed: int) -> None:
    a, b = pair
    ab = delta_intervals(a, b, CONFIDENCE, resamples=100, seed=seed)
    ba = delta_intervals(b, a, CONFIDENCE, resamples=100, seed=seed)
    for m in DELTA_METRICS:
        assert ab[m].absolute.value == pytest.approx(-ba[m].absolute.value, abs=1e-12)
        assert ab[m].baseline == ba[m].candidate


@settings(max_examples=60, deadline=None)
@given(_pairs(), st.sampled_from([0.001, 0.37, 3.0, 1000.0]), st.integers(0, 99))
def test_scaling_latencies_leaves_relative_latency_deltas(pair: tuple, c: float, seed: int) -> None:
    a, b = pair
    plain = delta_intervals(a, b, CONFIDENCE, resamples=100, seed=seed)
    scaled = delta_intervals(_scaled(a, c), _scaled(b, c), CONFIDENCE, resamples=100, seed=seed)
    for m in DELTA_METRICS[:5]:
        for end in ("value", "low", "high"):
            want, got = getattr(plain[m].relative, end), getattr(scaled[m].relative, end)
            assert got == pytest.approx(want, rel=1e-9, abs=1e-9), (m, end)


@settings(max_examples=60, deadline=None)
@given(_pairs(), st.sampled_from([0.8, 0.95]), st.integers(0, 99))
def test_intervals_contain_the_point_value(pair: tuple, confidence: float, seed: int) -> None:
    got = delta_intervals(*pair, confidence, resamples=100, seed=seed)
    for d in got.values():
        for iv in (d.absolute, d.relative):
            if not math.isnan(iv.value):
                assert iv.low <= iv.value <= iv.high
                assert iv.method == "window-bootstrap" and iv.confidence == confidence


def test_point_values_match_the_windows_quantile_and_rebinning_moves_bounds_little(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Point quantiles are the mean over ABBA rounds of numpy's 'linear' quantile of each
    round's expanded sample (as infratest.anytime computes it for LatencyWindows); past
    MAX_EXACT_GRID distinct values the resamples run on 0.2% log cells, which may move a
    bound by about one cell."""
    rng = np.random.default_rng(23)
    a, b = simulate_pair(rng, abba(WINDOWS, 4), Scenario(candidate_factor=1.1))
    assert deltas._Grid.of((a, b)).keys is not None  # both sides' values: the log grid
    rebinned = delta_intervals(a, b, CONFIDENCE, resamples=400)
    for side, point in ((a, "baseline"), (b, "candidate")):
        for m, q in deltas.QUANTILES.items():
            want = np.mean([np.quantile(s, q) for s in _round_samples(side)])
            assert getattr(rebinned[m], point) == pytest.approx(want, rel=1e-12)
    monkeypatch.setattr(deltas, "MAX_EXACT_GRID", 10**9)
    exact = delta_intervals(a, b, CONFIDENCE, resamples=400)
    for m in deltas.QUANTILES:
        for end in ("low", "high"):
            got, want = getattr(rebinned[m].relative, end), getattr(exact[m].relative, end)
            assert got == pytest.approx(want, abs=0.005), (m, end)


def _round_samples(side: SideSample) -> list[np.ndarray]:
    """Each ABBA round's latencies, expanded from the windows' histograms."""
    rounds = np.asarray(side.block) // 2
    return [
        np.repeat(
            np.concatenate([side.latency_values[i] for i in np.flatnonzero(rounds == r)]),
            np.concatenate([side.latency_counts[i] for i in np.flatnonzero(rounds == r)]),
        )
        for r in np.unique(rounds)
    ]
