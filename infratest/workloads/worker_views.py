"""What the parent knows of each Locust worker of a distributed run: its own clock, users,
requests in flight, event-loop lag and CPU, how it ended, and whether it was lost.

The record merges every worker's windows into one set of histograms (exact to the histogram
resolution); what cannot be merged meaningfully (in-flight start times, lag, CPU) is kept
here per worker, so saturation is judged per worker and a lost one can be named.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from infratest.traces import TraceLists
from infratest.workloads.sent_sizes import merge_sizes
from infratest.workloads.wire import Final, Tick


@dataclass
class WorkerView:
    """One worker as its ticks describe it (times on its own clock)."""

    name: str
    last_t: float = 0.0
    users: int = 0
    in_flight: tuple[float, ...] = ()
    warmup_requests: int = 0
    requests: int = 0  # finished requests in the measured window
    lag_s: list[float] = field(default_factory=list)
    cpu_cores: list[float] = field(default_factory=list)
    final: Final | None = None
    lost: str | None = None

    @property
    def cpu_peak(self) -> float:
        """Its busiest second, in cores (each sample already averages one second)."""
        return max(self.cpu_cores, default=0.0)


class WorkerViews:
    """Every worker seen so far, by name, and their merged end."""

    def __init__(self, measure_start_s: float) -> None:
        self.measure_start_s = measure_start_s
        self.by_name: dict[str, WorkerView] = {}

    def __bool__(self) -> bool:
        return bool(self.by_name)

    def view(self, name: str) -> WorkerView:
        found = self.by_name.get(name)
        if found is None:
            found = self.by_name[name] = WorkerView(name)
        return found

    def add_tick(self, tick: Tick) -> None:
        assert tick.worker is not None
        view = self.view(tick.worker)
        view.last_t, view.users = tick.t, tick.users
        view.in_flight, view.warmup_requests = tick.in_flight, tick.warmup_requests
        view.requests += sum(d.ok + d.failed for d in tick.windows)
        if tick.t > self.measure_start_s:
            view.lag_s.extend(tick.lag_s)
            if tick.cpu_cores is not None:
                view.cpu_cores.append(tick.cpu_cores)

    def add_final(self, final: Final) -> None:
        assert final.worker is not None
        self.view(final.worker).final = final

    def mark_lost(self, name: str, why: str) -> None:
        view = self.view(name)
        if view.final is None and view.lost is None:
            view.lost = why

    @property
    def last_t(self) -> float:
        return max((v.last_t for v in self.by_name.values()), default=0.0)

    @property
    def users(self) -> int:
        return sum(v.users for v in self.by_name.values() if v.lost is None)

    @property
    def in_flight(self) -> tuple[float, ...]:
        return tuple(s for v in self.by_name.values() for s in v.in_flight)

    @property
    def warmup_requests(self) -> int:
        return sum(v.warmup_requests for v in self.by_name.values())

    @property
    def lost(self) -> dict[str, str]:
        return {v.name: v.lost for v in self.by_name.values() if v.lost is not None}

    def merged_final(self) -> Final | None:
        """One end for the run from every worker's own (None until one has ended)."""
        finals = [v.final for v in self.by_name.values() if v.final is not None]
        if not finals:
            return None
        examples: dict[str, list[str]] = {}
        for final in finals:
            for kind, texts in final.examples.items():
                kept = examples.setdefault(kind, [])
                kept.extend(t for t in texts if t not in kept)
        reasons = list(dict.fromkeys(f"{f.worker}: {f.reason}" for f in finals))
        return Final(
            started_at=min(f.started_at for f in finals),
            measure_start=finals[0].measure_start,
            measure_end=max(f.measure_end for f in finals),
            ended_at=max(f.ended_at for f in finals),
            unfinished=tuple(s for f in finals for s in f.unfinished),
            examples={k: v[:3] for k, v in examples.items()},
            request_names=finals[0].request_names,
            signalled=next((f.signalled for f in finals if f.signalled), None),
            reason="; ".join(reasons),
            traces=TraceLists.merged(TraceLists.from_dict(f.traces) for f in finals).to_dict(),
            body_sizes=merge_sizes(f.body_sizes for f in finals),
            user_errors=sum(f.user_errors for f in finals),
            first_user_error=next((f.first_user_error for f in finals if f.user_errors), ""),
        )
