"""Simulated baseline/candidate comparisons laid out in ABBA blocks of 1-second windows.

Latencies are lognormal (median 50 ms, sigma 0.5 unless a scenario says), quantised to
0.1 ms as an HdrHistogram would. In the bursty variant a hidden two-state chain puts 10% of
requests in slow runs (mean length `run` requests) that take 3x as long, so slow requests
cluster within windows.
A drift multiplies every latency of both sides from a given window on; a ramp multiplies
them by a factor growing linearly over the timeline instead. In a closed loop (users who wait
for each answer) a window holds fewer requests the slower the targets are: its count is the
rate divided by that window's factor. Shared by tests/unit/test_deltas.py and
benchmarks/compare_power.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from infratest.deltas import SideSample
from infratest.workloads.rounds import RoundLayout

RESOLUTION_S = 1e-4
MEDIAN_S = 0.05
SIGMA = 0.5


@dataclass(frozen=True)
class Layout:
    """Which side each window of the timeline belongs to, and that window's ABBA block."""

    side: np.ndarray  # per window of the timeline: 0 baseline, 1 candidate
    block: np.ndarray  # per window: the block's index within its side (0..2R-1)
    drift_at: int  # first window of the second half of the blocks


def abba(windows: int, rounds: int) -> Layout:
    """4R blocks A B B A ... of whole windows, sizes as equal as possible."""
    blocks = np.array_split(np.arange(windows), 4 * rounds)
    side = np.zeros(windows, dtype=np.int64)
    block = np.zeros(windows, dtype=np.int64)
    seen = [0, 0]
    for i, members in enumerate(blocks):
        s = 0 if i % 4 in (0, 3) else 1
        side[members], block[members] = s, seen[s]
        seen[s] += 1
    return Layout(side, block, int(blocks[2 * rounds][0]))


def alternating(windows: int, rounds: int) -> Layout:
    """2R blocks A B | B A | A B ... as a compare run lays them out (RoundLayout): one block of
    each side per round, numbered on the shared timeline, so round = block // 2 pairs two
    adjacent blocks. (abba() instead puts a whole A B B A in each round of a side.)"""
    blocks = np.array_split(np.arange(windows), 2 * rounds)
    side = np.zeros(windows, dtype=np.int64)
    block = np.zeros(windows, dtype=np.int64)
    for i, members in enumerate(blocks):
        side[members], block[members] = RoundLayout.side_of_block(i), i
    return Layout(side, block, int(blocks[rounds][0]))


def sequential(windows: int) -> Layout:
    """All baseline windows first, then all candidate windows: no interleaving."""
    half = windows // 2
    side = (np.arange(windows) >= half).astype(np.int64)
    return Layout(side, np.zeros(windows, dtype=np.int64), half)


@dataclass(frozen=True)
class Scenario:
    """How the two targets behave: candidate latency factor, error shares, drift, bursts."""

    candidate_factor: float = 1.0
    drift_factor: float = 1.0  # both sides' latencies times this from layout.drift_at on
    baseline_errors: float = 0.0
    candidate_errors: float = 0.0
    run: float = 1.0  # mean slow-run length in requests; 1 = independent requests
    rate: int = 100  # requests per window (at factor 1 in a closed loop)
    ramp_factor: float = 1.0  # both sides' latencies times 1 at the start .. this at the end
    closed_loop: bool = False  # requests per window: rate / that window's latency factor
    sigma: float = SIGMA  # spread of the lognormal latencies


def _slow_flags(rng: np.random.Generator, n: int, run: float, share: float = 0.1) -> np.ndarray:
    fast_run = run * (1.0 - share) / share
    flags: list[np.ndarray] = []
    slow, made = bool(rng.random() < share), 0
    while made < n:
        size = int(rng.geometric(1.0 / (run if slow else fast_run)))
        flags.append(np.full(size, slow))
        made, slow = made + size, not slow
    return np.concatenate(flags)[:n]


def base_latencies(
    rng: np.random.Generator, n: int, run: float, sigma: float = SIGMA
) -> np.ndarray:
    """n consecutive latencies before any factor: iid, or with slow runs of mean `run`."""
    x = rng.lognormal(math.log(MEDIAN_S), sigma, n)
    if run > 1.0:
        x = np.where(_slow_flags(rng, n, run), 3.0 * x, x)
    return x


def _factors(layout: Layout, sc: Scenario, where: np.ndarray) -> np.ndarray:
    """Latency factor both sides share, per window of `where`: step drift times linear ramp."""
    step = np.where(where >= layout.drift_at, sc.drift_factor, 1.0)
    span = max(layout.side.size - 1, 1)
    return step * (1.0 + (sc.ramp_factor - 1.0) * where / span)


def _side(
    rng: np.random.Generator, layout: Layout, which: int, sc: Scenario, factor: float, err: float
) -> SideSample:
    where = np.flatnonzero(layout.side == which)
    shared = _factors(layout, sc, where)
    sizes = np.full(where.size, sc.rate, dtype=np.int64)
    if sc.closed_loop:
        sizes = np.maximum(np.round(sc.rate / (shared * factor)).astype(np.int64), 1)
    x = base_latencies(rng, int(sizes.sum()), sc.run, sc.sigma) * np.repeat(factor * shared, sizes)
    x = np.round(x / RESOLUTION_S) * RESOLUTION_S
    rows = np.split(x, np.cumsum(sizes)[:-1])
    failed = rng.binomial(sizes, err)
    values, counts = zip(*(np.unique(row, return_counts=True) for row in rows), strict=True)
    return SideSample(
        tuple(values), tuple(counts), sizes - failed, failed, layout.block[where].copy()
    )


def simulate_pair(
    rng: np.random.Generator, layout: Layout, sc: Scenario
) -> tuple[SideSample, SideSample]:
    """(baseline, candidate) windows of one simulated comparison."""
    a = _side(rng, layout, 0, sc, 1.0, sc.baseline_errors)
    b = _side(rng, layout, 1, sc, sc.candidate_factor, sc.candidate_errors)
    return a, b
