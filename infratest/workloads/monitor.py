"""Watching checks while the load runs, and stopping the run once they are decided.

Every look (once a second) recomputes each monitored check's interval from everything
streamed so far. The intervals are confidence sequences (anytime-valid): they hold at every
look at once, so looking every second does not make a false pass or a false fail any more
likely than the stated confidence allows, whenever the run stops.

- `fail_fast` (default): a check that has failed with confidence ends the run at once.
- `until: decided`: the run also ends once every check is decided, never before
  `min_duration` of measured load; `duration` is then the cap. This assumes the target
  behaves the same after the stop as before it, which is why it is opt-in.
Checks the load cannot decide while it runs (probe figures, the generator's CPU) are
decided at the end, so an assumption holding them runs its whole duration.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from infratest.metrics import METRICS
from infratest.stats import Interval
from infratest.units import Condition
from infratest.verdict import Verdict, condition_text, decide, describe_interval
from infratest.workloads.child_stream import StopRequest
from infratest.workloads.live import LiveCheck, LiveStatus, Progress
from infratest.workloads.load_figures import FIGURES, Reading, load_intervals
from infratest.workloads.load_record import LoadRecord
from infratest.workloads.saturation import DEFAULT_MAX_LAG_S, STANDS_WHEN_SATURATED
from infratest.workloads.trust import untrusted_reason

# Counted figures only ever grow during a run: `errors.count <= 0` can fail early but pass
# only at the end; `requests >= 1000` can pass early but fail only at the end.
GROWING = frozenset({"errors.count", "requests", "latency.max", "arrival.lag.max"})
# Looks are spaced so that computing them takes at most a tenth of the load generator's
# parent-side time: every second for short runs, less often once an hour of windows is held.
LOOK_COST_FACTOR = 10.0


@dataclass(frozen=True)
class DecisionRule:
    """When a look may end the run."""

    fail_fast: bool = True
    until_decided: bool = False
    min_duration_s: float = 5.0
    max_lag_s: float = DEFAULT_MAX_LAG_S  # open model: scheduler lag p99 a run may have


def early_verdict(metric: str, condition: Condition, interval: Interval) -> Verdict:
    """The verdict a look may act on: a growing count is only final in one direction."""
    verdict = decide(interval, condition.op, condition.bound)
    if metric not in GROWING:
        return verdict
    upper_bound = condition.op in ("<", "<=")
    if (verdict == Verdict.PASS and upper_bound) or (verdict == Verdict.FAIL and not upper_bound):
        return Verdict.INCONCLUSIVE
    return verdict


class CheckMonitor:
    """A load runner's watcher: looks at the record after every tick."""

    def __init__(
        self,
        expect: dict[str, Condition],
        rule: DecisionRule,
        confidence: float,
        latency_of: str,
        progress: Progress | None = None,
    ) -> None:
        self.expect, self.rule = expect, rule
        self.confidence, self.latency_of = confidence, latency_of
        self.monitored = {m: c for m, c in expect.items() if m in FIGURES}
        # Looks decide from few windows, where a quiet start can pass for independence:
        # they take the design effect's upper bound (the final figures take the estimate).
        self.reading = Reading(confidence, latency_of, cautious=True)
        self.progress = progress
        # the look since which every check has stayed decided (None while any is open)
        self.decided_after_s: float | None = None
        self._last_look_s = -math.inf
        self._look_cost_s = 0.0

    @property
    def decides_everything(self) -> bool:
        """Whether every check can be decided while the load runs."""
        return len(self.monitored) == len(self.expect)

    def __call__(self, record: LoadRecord, cpu_peak: float) -> StopRequest | None:
        measured = record.measured_seconds
        if measured <= 0 or not self.monitored:
            self._show(record, {})
            return None
        if measured - self._last_look_s < LOOK_COST_FACTOR * self._look_cost_s:
            return None  # a long run's looks cost more: look less often (as valid, just later)
        began = time.perf_counter()
        intervals = load_intervals(record, self.reading, self.monitored)
        self._look_cost_s = time.perf_counter() - began
        self._last_look_s = measured
        verdicts = {m: early_verdict(m, c, intervals[m]) for m, c in self.monitored.items()}
        saturated = untrusted_reason(record, cpu_peak, self.rule.max_lag_s) is not None
        if saturated:  # latency figures describe the generator: only error checks stand
            verdicts = {
                m: v if m in STANDS_WHEN_SATURATED else Verdict.INCONCLUSIVE
                for m, v in verdicts.items()
            }
        self._show(record, {m: (intervals[m], verdicts[m]) for m in self.monitored})
        return self._stop(measured, verdicts)

    def _stop(self, measured: float, verdicts: dict[str, Verdict]) -> StopRequest | None:
        failed = [m for m, v in verdicts.items() if v == Verdict.FAIL]
        all_decided = self.decides_everything and Verdict.INCONCLUSIVE not in verdicts.values()
        if not all_decided:
            self.decided_after_s = None  # a later look undid it: decided means decided since
        elif self.decided_after_s is None:
            self.decided_after_s = measured
        if failed and self.rule.fail_fast:
            return StopRequest("failed", measured, f"{', '.join(failed)} failed with confidence")
        if all_decided and self.rule.until_decided and measured >= self.rule.min_duration_s:
            return StopRequest("decided", measured, "every check decided")
        return None

    def _show(self, record: LoadRecord, checks: dict[str, tuple[Interval, Verdict]]) -> None:
        if self.progress is None:
            return
        live = tuple(
            LiveCheck(
                metric,
                condition_text(metric, self.expect[metric]),
                _measured(interval, metric),
                verdict,
            )
            for metric, (interval, verdict) in checks.items()
        )
        status = LiveStatus(
            t=record.last_t,
            total_s=record.duration_s,
            users=record.users_now,
            rps=float(record.last_tick_requests),
            errors=record.outcomes.total_failed,
            checks=live,
        )
        self.progress(status)


def _measured(interval: Interval, metric: str) -> str:
    if math.isnan(interval.value):
        return "n/a"
    return describe_interval(interval, METRICS[metric].dimension)
