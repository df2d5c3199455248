"""The parent's tally of an open-model schedule, folded in from the child's ticks: how many
arrivals were due, sent, sent late for want of a slot (`capped`) or never sent, per measured
window, and how late the scheduler sent the rest.

"Offered" is judged against what the schedule asked *in this run*: Poisson counts vary by
about ±√n, so the nominal rate × seconds would call a healthy run short by chance.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from infratest.workloads.arrivals import ArrivalSchedule
from infratest.workloads.histograms import decode_latencies
from infratest.workloads.replay_timeline import RecordedSchedule
from infratest.workloads.wire import ArrivalsDelta


@dataclass(frozen=True)
class ArrivalSummary:
    """The results file's `series.load.arrivals`."""

    asked_rate_per_s: float
    kind: str
    seed: int
    scheduled: int
    sent: int
    capped: int
    unsent: int
    lag_p99_s: float | None

    @property
    def offered_share(self) -> float:
        """Sent ÷ scheduled in this run (1.0 when nothing was due)."""
        return self.sent / self.scheduled if self.scheduled else 1.0

    def to_dict(self) -> dict[str, float | int | str | None]:
        return {
            "asked_rate_per_s": self.asked_rate_per_s,
            "arrivals": self.kind,
            "seed": self.seed,
            "scheduled": self.scheduled,
            "sent": self.sent,
            "capped": self.capped,
            "unsent": self.unsent,
            "offered": round(self.offered_share, 6),
            "lag_p99_s": self.lag_p99_s,
        }


@dataclass
class ArrivalTally:
    """Per-window arrival counts and the merged lag histogram (values at bucket tops)."""

    scheduled: dict[int, int] = field(default_factory=dict)
    sent: dict[int, int] = field(default_factory=dict)
    capped: dict[int, int] = field(default_factory=dict)
    unsent: dict[int, int] = field(default_factory=dict)
    lag_counts: dict[float, int] = field(default_factory=dict)

    def add(self, delta: ArrivalsDelta) -> None:
        """Fold one tick's news in."""
        for w in delta.windows:
            for table, n in (
                (self.scheduled, w.scheduled),
                (self.sent, w.sent),
                (self.capped, w.capped),
                (self.unsent, w.unsent),
            ):
                if n:
                    table[w.window] = table.get(w.window, 0) + n
        values, counts = decode_latencies(delta.lag_histogram)
        for value, count in zip(values.tolist(), counts.tolist(), strict=True):
            self.lag_counts[value] = self.lag_counts.get(value, 0) + count

    @property
    def seen(self) -> bool:
        """Whether any arrival was tallied (rate mode, measured window)."""
        return bool(self.scheduled)

    def sent_per_window(self, windows: int) -> np.ndarray:
        """Requests actually sent in each of windows 0..windows-1 (by scheduled second)."""
        out = np.zeros(windows)
        for w, n in self.sent.items():
            if 0 <= w < windows:
                out[w] = n
        return out

    def lag_quantile(self, q: float) -> float | None:
        """The scheduler's lag at quantile `q` (None before any arrival was sent on its own)."""
        if not self.lag_counts:
            return None
        values = np.asarray(sorted(self.lag_counts))
        counts = np.asarray([self.lag_counts[v] for v in values.tolist()])
        rank = q * counts.sum()
        index = int(np.searchsorted(np.cumsum(counts), rank, side="left"))
        return float(values[min(index, values.size - 1)])

    def lag_max(self) -> float | None:
        return max(self.lag_counts) if self.lag_counts else None

    def summary(self, schedule: ArrivalSchedule | RecordedSchedule) -> ArrivalSummary:
        """The whole run's counts for the results file and notes."""
        lag = self.lag_quantile(0.99)
        return ArrivalSummary(
            asked_rate_per_s=schedule.rate_per_s,
            kind=schedule.kind,
            seed=schedule.seed,
            scheduled=sum(self.scheduled.values()),
            sent=sum(self.sent.values()),
            capped=sum(self.capped.values()),
            unsent=sum(self.unsent.values()),
            lag_p99_s=round(lag, 6) if lag is not None else None,
        )
