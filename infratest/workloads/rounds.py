"""How a compared load alternates between the baseline (side 0) and the candidate (side 1).

The measured window is cut into `2 × rounds` blocks of whole seconds, in ABBA order
(A B, B A, A B, ...): a drift in the environment (a noisy neighbour, a warming cache) then
falls on both sides alike instead of on whichever ran second. Warm-up alternates every
second, so both are warm. Pure arithmetic, shared by the Locust process that picks each
request's host and the parent that splits the record by side: both must agree exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

BASELINE, CANDIDATE = 0, 1
SIDES = ("baseline", "candidate")


@dataclass(frozen=True)
class RoundLayout:
    """Blocks of `block_s` whole seconds after `measure_start_s`, two per round."""

    rounds: int
    block_s: int
    measure_start_s: float

    @classmethod
    def fitted(cls, rounds: int, measure_start_s: float, duration_s: float) -> RoundLayout:
        """The longest whole-second blocks that fit the measured window."""
        block = math.floor((duration_s - measure_start_s) / (2 * rounds) + 1e-9)
        if block < 1:
            raise ValueError(f"{2 * rounds} blocks of at least 1s do not fit the measured window")
        return cls(rounds, block, measure_start_s)

    @property
    def blocks(self) -> int:
        return 2 * self.rounds

    @property
    def measured_s(self) -> int:
        """Seconds the blocks cover (the load's measured window)."""
        return self.blocks * self.block_s

    @staticmethod
    def side_of_block(block: int) -> int:
        """ABBA: round r's first block is the baseline when r is even, else the candidate."""
        first = BASELINE if (block // 2) % 2 == 0 else CANDIDATE
        return first if block % 2 == 0 else 1 - first

    def block_of_window(self, window: int) -> int:
        """The block a measured 1-s window (0 = first measured second) belongs to."""
        return min(max(window, 0) // self.block_s, self.blocks - 1)

    def side_of_window(self, window: int) -> int:
        return self.side_of_block(self.block_of_window(window))

    def side_at(self, t_s: float) -> int:
        """Which side a request sent `t_s` seconds after the run started goes to."""
        if t_s < self.measure_start_s:
            return math.floor(t_s) % 2  # warm-up: both sides, a second each
        window = math.floor(t_s - self.measure_start_s)
        return self.side_of_window(window)

    def windows_of(self, side: int) -> list[int]:
        """The measured windows of one side, in time order."""
        return [w for w in range(self.measured_s) if self.side_of_window(w) == side]
