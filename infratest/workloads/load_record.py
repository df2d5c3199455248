"""The parent's record of one load run, filled from the child's ticks while the load runs.

It holds merged per-window histograms (not requests), so it answers "what is p95 so far,
with what interval" at any second, and its size grows with the number of windows, not
with the number of requests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from infratest.windows import Censored, LatencyWindows
from infratest.workloads.arrival_record import ArrivalSummary, ArrivalTally
from infratest.workloads.arrivals import ArrivalSchedule
from infratest.workloads.histograms import decode_latencies
from infratest.workloads.load_plan import LoadPlan
from infratest.workloads.replay_timeline import RecordedSchedule
from infratest.workloads.wire import Final, Tick, WindowDelta
from infratest.workloads.worker_views import WorkerViews


@dataclass
class OutcomeCounts:
    """Per-window request outcomes: successes, failures, and the failures that timed out."""

    ok: dict[int, int] = field(default_factory=dict)
    failed: dict[int, int] = field(default_factory=dict)
    timeouts: dict[int, int] = field(default_factory=dict)
    kinds: dict[str, int] = field(default_factory=dict)
    names: dict[str, int] = field(default_factory=dict)
    kinds_at: dict[int, dict[str, int]] = field(default_factory=dict)  # per window

    def add(self, delta: WindowDelta) -> None:
        w = delta.window
        self.ok[w] = self.ok.get(w, 0) + delta.ok
        self.failed[w] = self.failed.get(w, 0) + delta.failed
        self.timeouts[w] = self.timeouts.get(w, 0) + delta.timeouts
        at = self.kinds_at.setdefault(w, {})
        for kind, count in delta.kinds.items():
            self.kinds[kind] = self.kinds.get(kind, 0) + count
            at[kind] = at.get(kind, 0) + count
        for name, count in delta.names.items():
            self.names[name] = self.names.get(name, 0) + count

    def per_window(self, windows: int) -> tuple[np.ndarray, np.ndarray]:
        """(ok, failed) for windows 0..windows-1, zeros where nothing finished."""
        ok, failed = np.zeros(windows), np.zeros(windows)
        for w, n in self.ok.items():
            if 0 <= w < windows:
                ok[w] = n
        for w, n in self.failed.items():
            if 0 <= w < windows:
                failed[w] = n
        return ok, failed

    @property
    def total_ok(self) -> int:
        return sum(self.ok.values())

    @property
    def total_failed(self) -> int:
        return sum(self.failed.values())

    @property
    def total_timeouts(self) -> int:
        return sum(self.timeouts.values())


TTFT_ALL = "llm.ttft.all"  # answered and failed requests' TTFT (latency_of: all)
TTFT_PARTS = ("llm.ttft", "llm.ttft.failed")


@dataclass
class LlmTally:
    """An llm load's extras: per-window histograms of TTFT and of inter-token gaps (each gap
    a sample), and per-window counts of tokens, answers meeting the SLO, and answers whose
    tokens the server counted (`usage`)."""

    windows: dict[str, LatencyWindows] = field(default_factory=dict)
    counts: dict[str, dict[int, int]] = field(default_factory=dict)

    def add(self, delta: WindowDelta) -> None:
        for name, encoded in delta.extra.items():
            values, counts = decode_latencies(encoded)
            if not counts.size:
                continue
            self.windows.setdefault(name, LatencyWindows()).add(delta.window, values, counts)
            if name in TTFT_PARTS:  # every answer's TTFT, failed ones at their time to fail
                self.windows.setdefault(TTFT_ALL, LatencyWindows()).add(
                    delta.window, values, counts
                )
        for name, n in delta.counts.items():
            per = self.counts.setdefault(name, {})
            per[delta.window] = per.get(delta.window, 0) + n

    def latencies(self, name: str) -> LatencyWindows:
        """One extra's windows (empty when nothing was recorded)."""
        return self.windows.get(name) or LatencyWindows()

    def per_window(self, name: str, windows: int) -> np.ndarray:
        """One count for windows 0..windows-1, zeros where nothing finished."""
        out = np.zeros(windows)
        for w, n in self.counts.get(name, {}).items():
            if 0 <= w < windows:
                out[w] = n
        return out

    def total(self, name: str) -> int:
        return sum(self.counts.get(name, {}).values())


@dataclass(frozen=True)
class RequestCounts:
    """Requests sent in the measured window, by what became of them."""

    ok: int
    failed: int
    timed_out: int
    unanswered: int

    @property
    def sent(self) -> int:
        return self.ok + self.failed + self.unanswered

    def to_dict(self) -> dict[str, int]:
        """The results file's `series.load.requests`."""
        return {
            "sent": self.sent,
            "ok": self.ok,
            "failed": self.failed,
            "timed_out": self.timed_out,
            "unanswered": self.unanswered,
        }


class LoadRecord:
    """Everything streamed so far: latencies per window, outcomes, users, lag, in-flight."""

    def __init__(
        self,
        measure_start_s: float,
        duration_s: float,
        timeout_s: float,
        schedule: ArrivalSchedule | RecordedSchedule | None = None,
    ) -> None:
        self.measure_start_s = measure_start_s
        self.schedule = schedule  # the whole arrival schedule (open model), else None
        self.arrivals = ArrivalTally()
        self.duration_s = duration_s
        self.timeout_s = timeout_s
        self.successful = LatencyWindows()
        self.everything = LatencyWindows()
        self.outcomes = OutcomeCounts()
        self.users_at: dict[int, int] = {}
        self.lag_s: list[float] = []
        self.ticks = 0
        self.last_t = 0.0
        self.last_tick_requests = 0
        self.in_flight: tuple[float, ...] = ()
        self.warmup_requests = 0
        self.final: Final | None = None
        self.ended_unexpectedly: str | None = None
        self._censored: Censored | None = None  # derived from the last tick or the final line
        self._pinned: Censored | None = None
        self.workers = WorkerViews(measure_start_s)  # per worker, in a distributed run
        self.llm = LlmTally()  # an llm load's token timings and counts, per window
        self.llm_load: str | None = None  # "stream" or "whole" for an llm load (set by for_plan)

    @classmethod
    def for_plan(cls, plan: LoadPlan) -> LoadRecord:
        """An empty record for `plan` (with its whole arrival schedule in rate mode)."""
        schedule = plan.whole_schedule() if plan.open_model else None
        record = cls(plan.measure_start_s, plan.duration_s, plan.timeout_s, schedule)
        if plan.llm is not None:
            record.llm_load = "stream" if plan.llm.stream else "whole"
        return record

    def add_tick(self, tick: Tick) -> None:
        """Fold one second's news in."""
        for delta in tick.windows:
            self.outcomes.add(delta)
            values, counts = decode_latencies(delta.ok_histogram)
            if counts.size:
                self.successful.add(delta.window, values, counts)
                self.everything.add(delta.window, values, counts)
            values, counts = decode_latencies(delta.failed_histogram)
            if counts.size:
                self.everything.add(delta.window, values, counts)
            self.llm.add(delta)
        if tick.arrivals is not None:
            self.arrivals.add(tick.arrivals)
        if tick.t > self.measure_start_s:
            self.lag_s.extend(tick.lag_s)
        self.ticks += 1
        self.last_tick_requests = sum(d.ok + d.failed for d in tick.windows)
        if tick.worker is not None:
            self._add_worker_tick(tick)
        else:
            self.users_at[max(round(tick.t) - 1, 0)] = tick.users  # read back by users_now
            self.last_t = tick.t
            self.in_flight = tick.in_flight
            self.warmup_requests = tick.warmup_requests
        self._censored = None

    def _add_worker_tick(self, tick: Tick) -> None:
        """A worker's tick: its windows are merged above; the rest is kept per worker and
        summed (each worker's clock starts when it begins spawning)."""
        self.workers.add_tick(tick)
        self.last_t = self.workers.last_t
        self.users_at[max(round(tick.t) - 1, 0)] = self.workers.users
        self.in_flight = self.workers.in_flight
        self.warmup_requests = self.workers.warmup_requests

    def finish(self, final: Final) -> None:
        """The child's last word: the measured window and what never finished (in a
        distributed run, every worker's own, merged)."""
        if final.worker is not None:
            self.workers.add_final(final)
            final = self.workers.merged_final() or final
        self.final = final
        self._censored = None

    def close_unexpectedly(self, reason: str) -> None:
        """The child ended without its last word: what was streamed is all there is."""
        self.ended_unexpectedly = reason

    @property
    def measure_end_s(self) -> float:
        """End of the measured window (s since run start), as far as is known."""
        if self.final is not None:
            return self.final.measure_end
        return min(self.last_t, self.duration_s)

    @property
    def measured_seconds(self) -> float:
        """Length of the measured window so far."""
        return max(self.measure_end_s - self.measure_start_s, 0.0)

    @property
    def complete_windows(self) -> int:
        """Whole seconds measured so far (a partial last second is left out of rates)."""
        return math.floor(self.measured_seconds + 1e-9)

    def censored(self) -> Censored:
        """Requests without an answer (yet): each took at least its elapsed time, and at
        most the timeout. Worked out once per tick, however many figures ask."""
        if self._censored is None:
            self._censored = self._pinned or self._unanswered_now()
        return self._censored

    def counts(self) -> RequestCounts:
        """Requests sent so far in the measured window, by outcome."""
        o = self.outcomes
        unanswered = int(self.censored().windows.size)
        return RequestCounts(o.total_ok, o.total_failed, o.total_timeouts, unanswered)

    @property
    def users_now(self) -> int:
        """Users running during the last whole second reported."""
        return self.users_at.get(max(round(self.last_t) - 1, 0), 0)

    def _unanswered_now(self) -> Censored:
        if self.final is not None:
            starts, now = np.asarray(self.final.unfinished), self.final.ended_at
        else:
            starts, now = np.asarray(self.in_flight), self.last_t
        starts = np.concatenate([starts, self._unsent_starts()])
        windows = np.floor(starts - self.measure_start_s).astype(np.int64)
        elapsed = np.maximum(now - starts, 0.0)
        return Censored(windows=windows, elapsed_s=elapsed, cap_s=max(self.timeout_s, 0.0))

    def pin(self, measured_s: float, censored: Censored) -> None:
        """Fix the measured length and the unanswered requests of a record assembled from
        another (one side of a compare), which gets no ticks or final line of its own."""
        self.last_t = self.duration_s = self.measure_start_s + measured_s
        self._pinned = censored
        self._censored = censored

    def arrival_summary(self) -> ArrivalSummary | None:
        """Open model: what the schedule asked in this run and what became of it."""
        return self.arrivals.summary(self.schedule) if self.schedule is not None else None

    def _unsent_starts(self) -> np.ndarray:
        """Arrivals due but never sent travel as per-window counts; each is taken as due at
        the latest moment its window allows, so its elapsed time is never overstated."""
        latest = [
            min(self.measure_start_s + w + 1.0, self.measure_end_s) - 1e-6
            for w, n in sorted(self.arrivals.unsent.items())
            for _ in range(n)
        ]
        return np.asarray(latest, dtype=np.float64)

    @property
    def started_at(self) -> float | None:
        """Epoch seconds when the load started (for aligning probe series), once known."""
        return self.final.started_at if self.final is not None else None
