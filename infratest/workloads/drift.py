"""Did the target change during the run? A latency level that shifts between the first and
the last third of the measured window makes every interval wide (the shift reads as strong
correlation between windows), so an inconclusive verdict should say that this is why."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from infratest.units import Dimension, format_quantity
from infratest.windows import LatencyWindows

DRIFT_RATIO = 2.0  # one third's p95 at least twice the other's
DRIFT_MIN_S = 0.001  # and at least 1 ms apart, so microsecond jitter is not a shift
DRIFT_MIN_REQUESTS = 20  # per third
DRIFT_MIN_WINDOWS = 4


@dataclass(frozen=True)
class Drift:
    """The p95 of the first and the last third of the measured window."""

    first_p95_s: float
    last_p95_s: float
    first_requests: int
    last_requests: int

    def note(self) -> str:
        return (
            f"latency shifted during the run: p95 {_seconds(self.first_p95_s)} in the "
            f"first third ({self.first_requests} requests), {_seconds(self.last_p95_s)} "
            f"in the last ({self.last_requests}); the target was not steady, so intervals "
            "are wide and another run may see another mix"
        )


def _p95(values: list[np.ndarray], counts: list[np.ndarray]) -> tuple[float, int]:
    v, c = np.concatenate(values), np.concatenate(counts)
    order = np.argsort(v, kind="stable")
    v, cum = v[order], np.cumsum(c[order])
    total = int(cum[-1])
    return float(v[np.searchsorted(cum, 0.95 * total)]), total


def latency_drift(windows: LatencyWindows) -> Drift | None:
    """The first and last thirds' p95 when they differ by a shift (see DRIFT_*), else None."""
    rows = list(windows.per_window())
    if len(rows) < DRIFT_MIN_WINDOWS:
        return None
    third = max(len(rows) // 3, 1)
    parts = rows[:third], rows[-third:]
    (first, n1), (second, n2) = (_p95([r[1] for r in p], [r[2] for r in p]) for p in parts)
    if min(n1, n2) < DRIFT_MIN_REQUESTS:
        return None
    low, high = sorted((first, second))
    if high - low < DRIFT_MIN_S or high < DRIFT_RATIO * low:
        return None
    return Drift(first, second, n1, n2)


def _seconds(s: float) -> str:
    return format_quantity(s, Dimension.DURATION)
