"""The arrival schedule of an open-model (arrival-rate) load: when each request is due.

Pure and seeded, so a run is reproducible and tests can check the schedule without a
server. Times are seconds from the start of the run. A ramp raises the rate linearly from
0 to the full rate over `ramp_s`; arrivals are placed by inverting the cumulative expected
count Λ(t) = ∫ rate(u) du, so Poisson arrivals stay Poisson and uniform ones stay evenly
spaced in expected count.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

ARRIVAL_KINDS: Final = ("poisson", "uniform")


@dataclass(frozen=True)
class ArrivalSchedule:
    """Arrivals at `rate_per_s` (after a linear ramp) from 0 to `duration_s`.

    `share` and `phase` split one schedule across generator processes: each runs at
    rate × share, uniform ones offset by `phase` (a fraction of one gap) so they interleave.
    """

    rate_per_s: float
    duration_s: float
    ramp_s: float = 0.0
    kind: str = "poisson"
    seed: int = 0
    phase: float = 0.5

    def __post_init__(self) -> None:
        if self.rate_per_s <= 0 or self.duration_s <= 0:
            raise ValueError("an arrival schedule needs a rate and a duration above zero")
        if self.kind not in ARRIVAL_KINDS:
            raise ValueError(f"arrivals must be one of {ARRIVAL_KINDS}, got {self.kind!r}")
        if not 0 <= self.ramp_s <= self.duration_s:
            raise ValueError("ramp_s must be within [0, duration_s]")

    def for_worker(self, index: int, workers: int) -> ArrivalSchedule:
        """Worker `index`'s part of a schedule split over `workers` processes: the rates sum
        to this one's, and each worker draws its own random stream (seed + index)."""
        if not 0 <= index < workers:
            raise ValueError(f"worker index {index} is not within 0..{workers - 1}")
        return ArrivalSchedule(
            rate_per_s=self.rate_per_s / workers,
            duration_s=self.duration_s,
            ramp_s=self.ramp_s,
            kind=self.kind,
            seed=self.seed + index,
            phase=(index + 0.5) / workers,
        )

    def expected_count(self, t: float) -> float:
        """Λ(t): arrivals expected between 0 and `t`."""
        t = min(max(t, 0.0), self.duration_s)
        if self.ramp_s > 0 and t < self.ramp_s:
            return self.rate_per_s * t * t / (2 * self.ramp_s)
        return self.rate_per_s * (t - self.ramp_s / 2)

    def time_of(self, count: float) -> float:
        """Λ⁻¹: the time by which `count` arrivals are expected."""
        ramp_count = self.rate_per_s * self.ramp_s / 2
        if self.ramp_s > 0 and count < ramp_count:
            return math.sqrt(2 * self.ramp_s * count / self.rate_per_s)
        return count / self.rate_per_s + self.ramp_s / 2

    def times(self) -> Iterator[float]:
        """Every arrival time in [0, duration_s), ascending (lazily: a long run holds none)."""
        total = self.expected_count(self.duration_s)
        rng = random.Random(self.seed)
        count = self.phase if self.kind == "uniform" else rng.expovariate(1.0)
        while count < total:
            yield self.time_of(count)
            count += 1.0 if self.kind == "uniform" else rng.expovariate(1.0)
