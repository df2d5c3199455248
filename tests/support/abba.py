"""Simulated baseline/candidate comparisons laid out in ABBA blocks of 1-second windows.

Latencies are lognormal (median 50 ms, sigma 0.5), quantised to 0.1 ms as an HdrHistogram
would. In the bursty variant a hidden two-state chain puts 10% of requests in slow runs
(mean length `run` requests) that take 3x as long, so slow requests cluster within windows.
A drift multiplies every latency of both sides from a given window on. Shared by
tests/unit/test_deltas.py and benchmarks/compare_power.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from infratest.deltas import SideSample

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
    rate: int = 100  # requests per window


def _slow_flags(rng: np.random.Generator, n: int, run: float, share: float = 0.1) -> np.ndarray:
    fast_run = run * (1.0 - share) / share
    flags: list[np.ndarray] = []
    slow, made = bool(rng.random() < share), 0
    while made < n:
        size = int(rng.geometric(1.0 / (run if slow else fast_run)))
        flags.append(np.full(size, slow))
        made, slow = made + size, not slow
    return np.concatenate(flags)[:n]


def base_latencies(rng: np.random.Generator, n: int, run: float) -> np.ndarray:
    """n consecutive latencies before any factor: iid, or with slow runs of mean `run`."""
    x = rng.lognormal(math.log(MEDIAN_S), SIGMA, n)
    if run > 1.0:
        x = np.where(_slow_flags(rng, n, run), 3.0 * x, x)
    return x


def _side(
    rng: np.random.Generator, layout: Layout, which: int, sc: Scenario, factor: float, err: float
) -> SideSample:
    where = np.flatnonzero(layout.side == which)
    x = base_latencies(rng, where.size * sc.rate, sc.run).reshape(where.size, sc.rate)
    drift = np.where(where >= layout.drift_at, sc.drift_factor, 1.0)
    x = np.round(x * factor * drift[:, None] / RESOLUTION_S) * RESOLUTION_S
    failed = rng.binomial(sc.rate, err, where.size)
    values, counts = zip(*(np.unique(row, return_counts=True) for row in x), strict=True)
    return SideSample(
        tuple(values), tuple(counts), sc.rate - failed, failed, layout.block[where].copy()
    )


def simulate_pair(
    rng: np.random.Generator, layout: Layout, sc: Scenario
) -> tuple[SideSample, SideSample]:
    """(baseline, candidate) windows of one simulated comparison."""
    a = _side(rng, layout, 0, sc, 1.0, sc.baseline_errors)
    b = _side(rng, layout, 1, sc, sc.candidate_factor, sc.candidate_errors)
    return a, b
