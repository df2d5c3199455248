"""What a workload hands to the verdict: interval estimates per metric, plus the series that
reports plot, notes on how things were measured, and reasons a result cannot be trusted."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from infratest.stats import Interval
from infratest.traces import TraceLists

if TYPE_CHECKING:
    from infratest.deltas import Delta


@dataclass(frozen=True)
class Stopping:
    """How a monitored run ended: at its `duration`, once every check was `decided`, or as
    soon as a check had `failed` (or `interrupted` by a signal)."""

    stopped: str
    planned_s: float  # measured seconds the run would have taken to its duration
    measured_s: float  # measured seconds it took
    decided_after_s: float | None  # first look at which every check was decided

    @classmethod
    def of_steps(cls, steps: list[Stopping]) -> Stopping | None:
        """A multi-step workload's stopping: its steps' times added up; `decided` when any
        step ended once its checks were decided."""
        if not steps:
            return None
        early = [s.stopped for s in steps if s.stopped in ("decided", "failed")]
        return cls(
            stopped="decided" if early else "duration",
            planned_s=sum(s.planned_s for s in steps),
            measured_s=sum(s.measured_s for s in steps),
            decided_after_s=None,
        )

    @property
    def saved_s(self) -> float:
        """Measured seconds not spent thanks to stopping early."""
        return max(self.planned_s - self.measured_s, 0.0)

    def to_dict(self) -> dict[str, Any]:
        """The results-file fields."""
        decided = self.decided_after_s
        return {
            "stopped": self.stopped,
            "decided_after_s": None if decided is None else round(decided, 3),
            "planned_s": round(self.planned_s, 3),
            "measured_s": round(self.measured_s, 3),
        }


class MeasurementError(Exception):
    """The assumption could not be measured at all (target down, bad credentials, missing
    path): the verdict is `error`, with this message as the reason."""


@dataclass
class Measurements:
    """Everything one assumption measured; JSON-ready except the Interval values."""

    values: dict[str, Interval] = field(default_factory=dict)
    # compare: the candidate's change from the baseline per metric (values hold its own)
    changes: dict[str, Delta] = field(default_factory=dict)
    details: dict[str, str] = field(default_factory=dict)  # said after a check's reason
    series: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    untrusted: str | None = None  # why no check may pass (e.g. the load generator saturated)
    untrusted_except: frozenset[str] = frozenset()  # metrics that stand even when untrusted
    # The load was held back by the target itself (open model: every in-flight slot busy),
    # so the figures are lower bounds of what the full load would show: a fail still fails.
    untrusted_fails_stand: bool = False
    error: str | None = None  # set when measuring failed part-way; the verdict is `error`
    stopping: Stopping | None = None  # how a monitored run ended, and when it was decided
    traces: TraceLists | None = None  # load: the failed and slowest requests, by trace id

    def add(self, metric: str, interval: Interval) -> None:
        """Record one metric's estimate."""
        self.values[metric] = interval

    def merge(self, other: Measurements) -> None:
        """Fold another workload's or probe's results into these."""
        self.values.update(other.values)
        self.changes.update(other.changes)
        self.details.update(other.details)
        self.series.update(other.series)
        self.notes += other.notes
        if other.untrusted and not self.untrusted:
            self.untrusted, self.untrusted_except = other.untrusted, other.untrusted_except
            self.untrusted_fails_stand = other.untrusted_fails_stand
        self.error = self.error or other.error
        self.stopping = self.stopping or other.stopping
        self.traces = self.traces or other.traces

    def trusted(self, metric: str) -> bool:
        """Whether this metric's figure can be acted on (see `untrusted`)."""
        return self.untrusted is None or metric in self.untrusted_except

    def may_fail(self, metric: str) -> bool:
        """Whether a failing figure of this metric fails its check (a pass may still not)."""
        return self.trusted(metric) or self.untrusted_fails_stand
