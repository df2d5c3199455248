"""The child's tally of an open-model schedule: per window, how many arrivals were due, sent,
sent late for want of a slot, or never sent; and a histogram of how late the scheduler was.

Pure (no Locust), so it is unit-tested directly; handed to the parent once a second like the
request windows, then forgotten.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hdrh.histogram import HdrHistogram

from infratest.workloads.recorder import to_us
from infratest.workloads.wire import (
    HISTOGRAM_DIGITS,
    HISTOGRAM_HIGHEST_US,
    HISTOGRAM_LOWEST_US,
    ArrivalsDelta,
    ArrivalWindow,
)


@dataclass
class _Tally:
    scheduled: int = 0
    sent: int = 0
    capped: int = 0
    unsent: int = 0


class ArrivalLedger:
    """Counts the schedule's arrivals by the measured window they were *due* in."""

    def __init__(self, measure_start_s: float) -> None:
        self.measure_start_s = measure_start_s
        self._tallies: dict[int, _Tally] = {}
        self._lags: HdrHistogram | None = None

    def _tally(self, scheduled_s: float) -> _Tally | None:
        index = math.floor(scheduled_s - self.measure_start_s)
        if index < 0:
            return None  # ramp or warm-up: not measured
        tally = self._tallies.get(index)
        if tally is None:
            tally = self._tallies[index] = _Tally()
        return tally

    def sent(self, scheduled_s: float, sent_s: float, capped: bool) -> None:
        """One arrival went out at `sent_s`; `capped` when it had to wait for a slot (its lag
        is then the target's doing, already in its latency, and not the scheduler's)."""
        tally = self._tally(scheduled_s)
        if tally is None:
            return
        tally.scheduled += 1
        tally.sent += 1
        if capped:
            tally.capped += 1
            return
        if self._lags is None:
            self._lags = HdrHistogram(HISTOGRAM_LOWEST_US, HISTOGRAM_HIGHEST_US, HISTOGRAM_DIGITS)
        self._lags.record_value(to_us(max(sent_s - scheduled_s, 0.0)))

    def unsent(self, scheduled_s: float) -> None:
        """One arrival was due before the run stopped but was never sent."""
        tally = self._tally(scheduled_s)
        if tally is not None:
            tally.scheduled += 1
            tally.unsent += 1

    def flush(self) -> ArrivalsDelta:
        """The news since the last flush; the ledger then holds nothing."""
        windows = tuple(
            ArrivalWindow(i, t.scheduled, t.sent, t.capped, t.unsent)
            for i, t in sorted(self._tallies.items())
        )
        lags = self._lags.encode().decode("ascii") if self._lags is not None else None
        self._tallies, self._lags = {}, None
        return ArrivalsDelta(windows=windows, lag_histogram=lags)
