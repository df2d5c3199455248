"""Simulated request latencies whose slow requests come in bursts, with known quantiles.

A hidden two-state Markov chain (fast/slow) with a mean slow-run length of `run` requests
switches the chance that a request exceeds `bound_s`. Over-bound latencies are uniform on
(bound, 3 bound), the others on (bound / 10, bound), so the true tail share over the bound
and the true quantiles are known exactly. The slow state raises the exceedance chance
rather than making every slow request exceed: with all-or-nothing bursts a run of 1,600
requests sees no burst at all about one time in ten, and no interval can cover then.
Shared by the unit tests and benchmarks/sequential_verdicts.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from infratest.windows import LatencyWindows

RESOLUTION_S = 1e-4  # latencies are quantised, as an HdrHistogram would


@dataclass(frozen=True)
class BurstModel:
    """Exceedance chance `over_fast` / `over_slow` in each state; `slow_share` of requests
    are in the slow state, in runs of mean length `run`."""

    over_fast: float
    over_slow: float
    slow_share: float = 0.1
    run: float = 1.0
    bound_s: float = 0.2

    @classmethod
    def independent(cls, tail_share: float, bound_s: float = 0.2) -> BurstModel:
        """Every request exceeds the bound with the same chance, independently."""
        return cls(tail_share, tail_share, 0.1, 1.0, bound_s)

    @classmethod
    def bursty(
        cls,
        tail_share: float,
        run: float,
        slow_share: float = 0.2,
        over_slow: float = 0.2,
        bound_s: float = 0.2,
    ) -> BurstModel:
        """Slow runs of mean length `run` (`slow_share` of requests) exceeding `over_slow` of
        the time; the fast state makes up the rest of `tail_share`."""
        over_fast = (tail_share - slow_share * over_slow) / (1.0 - slow_share)
        if not 0.0 <= over_fast <= 1.0:
            raise ValueError(f"no fast-state share gives tail share {tail_share}")
        return cls(over_fast, over_slow, slow_share, run, bound_s)

    @property
    def tail_share(self) -> float:
        """P(latency >= bound)."""
        return (1.0 - self.slow_share) * self.over_fast + self.slow_share * self.over_slow

    def quantile(self, q: float) -> float:
        """The true q-quantile of the latency distribution."""
        p, b = self.tail_share, self.bound_s
        if q >= 1.0 - p:
            return b + 2.0 * b * (q - (1.0 - p)) / p
        return b / 10.0 + 0.9 * b * q / (1.0 - p)

    def slow_states(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Slow flags of n consecutive requests, started from the stationary distribution."""
        if self.run <= 1.0:
            return rng.random(n) < self.slow_share
        fast_run = self.run * (1.0 - self.slow_share) / self.slow_share
        flags: list[np.ndarray] = []
        slow, made = bool(rng.random() < self.slow_share), 0
        while made < n:
            size = int(rng.geometric(1.0 / (self.run if slow else fast_run)))
            flags.append(np.full(size, slow))
            made, slow = made + size, not slow
        return np.concatenate(flags)[:n]

    def latencies(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """n consecutive request latencies in seconds."""
        chance = np.where(self.slow_states(rng, n), self.over_slow, self.over_fast)
        over = rng.random(n) < chance
        b = self.bound_s
        x = np.where(over, rng.uniform(b, 3.0 * b, n), rng.uniform(b / 10.0, b, n))
        return np.round(x / RESOLUTION_S) * RESOLUTION_S


def fill(store: LatencyWindows, window: int, latencies_s: np.ndarray) -> None:
    """Add one window's latencies as a histogram delta."""
    values, counts = np.unique(latencies_s, return_counts=True)
    store.add(window, values, counts)
