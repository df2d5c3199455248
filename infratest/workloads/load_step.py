"""One fresh load step of a multi-step workload (sweep, capacity): at a user level (closed
model) or an arrival rate (open model), in one process or on Locust workers, as `load` runs."""

from __future__ import annotations

import dataclasses
import math
import random
from dataclasses import dataclass

from infratest.measurements import MeasurementError, Measurements
from infratest.spec.load_sections import SteppedTraffic
from infratest.stats import exact
from infratest.units import Condition, Dimension, format_quantity
from infratest.workloads.answering import stopped_answering_reason
from infratest.workloads.context import WorkloadContext
from infratest.workloads.fleet import fleet_settings
from infratest.workloads.load import build_plan, no_answer_reason, shifted, watched_run
from infratest.workloads.load_plan import LoadPlan
from infratest.workloads.monitor import DecisionRule

MAX_RAMP_S = 1.0


@dataclass(frozen=True)
class Level:
    """What one step offers: `amount` users, or (`by_rate`) arrivals per second."""

    amount: float
    by_rate: bool = False

    @property
    def key(self) -> str:
        """The level's name in series rows: `users` or `rate`."""
        return "rate" if self.by_rate else "users"

    @property
    def label(self) -> str:
        """`8 users` or `50/s`, for notes."""
        if self.by_rate:
            return format_quantity(self.amount, Dimension.RATE)
        return f"{self.amount:g} users"

    def row_value(self) -> float | int:
        """The level as a results file shows it (a user count stays whole)."""
        return float(self.amount) if self.by_rate else int(self.amount)


def json_float(x: float | None) -> float | None:
    """Plain float for results files; JSON has no inf or nan, so those become None."""
    return float(x) if x is not None and math.isfinite(x) else None


@dataclass(frozen=True)
class Step:
    """One load step: its level, everything it measured, and its measured seconds."""

    level: Level
    found: Measurements
    seconds: float
    ended_at_s: float  # seconds since the workload's first step started, when this one ended

    @property
    def amount(self) -> float:
        """The level's users or arrivals per second."""
        return self.level.amount

    def value(self, metric: str) -> float:
        """A metric's point estimate, NaN when it was not measured."""
        interval = self.found.values.get(metric)
        return interval.value if interval is not None else math.nan

    @property
    def locust_workers(self) -> int:
        """Locust worker processes the step ran on (0: the one generator process)."""
        return len(self.found.series.get("load", {}).get("workers") or [])

    def window(self) -> list[float] | None:
        """The measured window as wall-clock [start, end], so probe figures can be cut per step."""
        load = self.found.series.get("load", {})
        started = load.get("started_at")
        if started is None:
            return None
        return [started + load["measure_start"], started + load["measure_end"]]


def step_plan(
    spec: SteppedTraffic, url: str, level: Level, step: float, warmup: float, in_flight_cap: int
) -> LoadPlan:
    """The Locust plan of one step: `level.amount` users, or one scheduler user sending
    `level.amount` arrivals per second (seed drawn when not given, and recorded; in flight at
    most rate × timeout unless the section says otherwise, never above the config's ceiling)."""
    users = 1 if level.by_rate else int(level.amount)
    plan = build_plan(spec, url, users, step, min(MAX_RAMP_S, step / 4), warmup)
    if not level.by_rate:
        return plan
    in_flight = spec.max_in_flight or math.ceil(level.amount * spec.timeout)
    seed = spec.seed if spec.seed is not None else random.SystemRandom().randrange(2**31)
    return dataclasses.replace(
        plan,
        rate_per_s=level.amount,
        arrivals=spec.arrivals,
        seed=seed,
        max_in_flight=max(min(in_flight, in_flight_cap), 1),
    )


def run_step(
    ctx: WorkloadContext,
    spec: SteppedTraffic,
    level: Level,
    step: float,
    warmup: float,
    offset_s: float = 0.0,
    slo: dict[str, Condition] | None = None,
    rule: DecisionRule | None = None,
) -> Step:
    """One fresh Locust run at `level` (on workers when the section or config asks), its
    `slo` watched by `rule` (a capacity step ends once its SLO is decided); a target that
    never answered is a measurement error."""
    assert ctx.target is not None
    # A fresh child per step, not the session's warm one: its exit closes the previous
    # step's connections, so a queue that step left at a saturated target is not carried
    # into the next one (on a warm child a rate step found 100 requests queued behind it).
    ctx = dataclasses.replace(ctx, generator_pool=None)
    try:
        plan = step_plan(spec, ctx.target.url, level, step, warmup, ctx.max_in_flight_limit)
    except ValueError as exc:
        raise MeasurementError(f"step at {level.label}: {exc}") from None
    fleet = fleet_settings(spec.workers, ctx.generators)
    if fleet is not None:  # rate mode: one scheduler user per worker, each its share
        users = fleet.workers if plan.open_model else plan.users
        plan = dataclasses.replace(plan, workers=fleet.workers, users=users)
    watch = dataclasses.replace(rule or DecisionRule(), max_lag_s=spec.max_lag)
    progress = shifted(ctx.progress, offset_s)
    run, found = watched_run(plan, slo or {}, watch, ctx, progress, fleet)
    reason = no_answer_reason(run)
    if reason:
        raise MeasurementError(f"step at {level.label}: {reason}")
    stopped = stopped_answering_reason(run.record.outcomes)
    if stopped:
        found.notes.append(stopped)  # the step then does not meet its SLO: capacity ended
    return Step(level, found, run.measured_seconds, offset_s + run.record.last_t)


def generator_figures(
    found: Measurements, steps: list[Step], confidence: float, spoiled_by_any: bool = True
) -> None:
    """Peak generator CPU over all steps. An untrusted step (saturated generator, schedule
    not kept) makes the whole result untrusted when every step feeds it (a sweep); where an
    untrusted step only counts as a miss (a capacity search, which then errs low), it is
    named in the notes instead."""
    peak = max(s.value("generator.cpu.peak") for s in steps)
    found.add("generator.cpu.peak", exact(peak, confidence, len(steps)))
    untrusted = [s for s in steps if s.found.untrusted]
    if not untrusted:
        return
    first = untrusted[0]
    why = f"step at {first.level.label}: {first.found.untrusted}"
    if spoiled_by_any:
        found.untrusted = why
    else:
        found.notes.append(f"counted as a miss, not for or against the target: {why}")
