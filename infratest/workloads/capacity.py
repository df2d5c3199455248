"""The `capacity` workload: the largest user count, or arrival rate, whose load step meets
every SLO condition.

The search widens geometrically from `users.min` (or `rate.min`) until a step misses the SLO
(or the range's max is reached), then bisects between the last pass and the first miss. Rates
are searched in whole arrivals per second, so one integer search serves both. Only a *pass*
counts as meeting: a step that fails or cannot be decided (too few samples, saturated
generator, an arrival schedule not kept) is a miss, so the answer errs low rather than
promising load the target was not shown to carry.

Trying many steps and keeping the largest pass would favour a step that passed by luck, so
the answer is *confirmed*: the chosen step runs once more, fresh, and counts only if it
passes again (else the next lower pass is tried). A confirmed step is a new, independent
test, so the capacity is over-stated at most as often as the confidence allows, and its
throughput (from the confirming run, which measures at least 4 s) is free of the winner's
bias. Each search step ends as soon as its SLO is decided (`until: decided`, the default
here), with `step` as its cap.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from infratest.measurements import Measurements, Stopping
from infratest.spec.load_sections import CapacityPlan, CapacitySpec
from infratest.stats import Interval, exact
from infratest.units import Condition, Dimension, format_quantity
from infratest.verdict import Verdict, evaluate
from infratest.workloads.context import WorkloadContext
from infratest.workloads.load_step import Level, Step, generator_figures, json_float, run_step
from infratest.workloads.monitor import DecisionRule

TOLERANCE = 0.10  # stop bisecting once the bracket is within 10% of its lower end
METHOD = "capacity-search"
MAX_CONFIRMATIONS = 2  # confirming runs at most: the chosen step, then the next lower pass
CONFIRM_MIN_S = 4.0  # a throughput interval needs 3 whole seconds; one more for the partial


@dataclass(frozen=True)
class Search:
    """Where a capacity search ended: `best` met (0: even the minimum missed), `fail` is the
    smallest miss above it (None: none tried), and every (users, met) tried, in order."""

    best: int
    fail: int | None
    tried: tuple[tuple[int, bool], ...]

    @property
    def converged(self) -> bool:
        """Whether the bracket is as tight as the search aims for (not cut by the budget)."""
        return self.fail is None or self.best == 0 or narrow(self.best, self.fail)


def narrow(lo: int, hi: int) -> bool:
    """A bracket tight enough to stop: within one user or 10% of the last pass."""
    return hi - lo <= max(1.0, TOLERANCE * lo)


@dataclass(frozen=True)
class SearchRange:
    """The whole levels a search may try: users, or (`by_rate`) arrivals per second."""

    low: int
    high: int
    by_rate: bool

    @classmethod
    def of(cls, spec: CapacitySpec) -> SearchRange:
        """The section's range; a rate range narrowed to whole req/s inside it."""
        if spec.rate is not None:
            low = math.ceil(spec.rate.min)
            return cls(low, max(math.floor(spec.rate.max), low), by_rate=True)
        assert spec.users is not None
        return cls(spec.users.min, spec.users.max, by_rate=False)

    def level(self, n: int) -> Level:
        return Level(float(n), self.by_rate)

    def label(self, n: int) -> str:
        """`8 users` or `50/s`."""
        return self.level(n).label

    def span(self, lo: int, hi: int) -> str:
        """`4 and 8 users` or `50/s and 100/s`."""
        if self.by_rate:
            return f"{self.label(lo)} and {self.label(hi)}"
        return f"{lo} and {hi} users"


def search_capacity(low: int, high: int, max_steps: int, meets: Callable[[int], bool]) -> Search:
    """Largest n in [low, high] with meets(n), assuming meets is monotone (true, then false).

    Calls `meets` at most `max_steps` times: low first, then doubling, then bisection.
    """
    tried: list[tuple[int, bool]] = []

    def attempt(users: int) -> bool:
        met = meets(users)
        tried.append((users, met))
        return met

    if max_steps < 1 or not attempt(low):
        return Search(0, low if tried else None, tuple(tried))
    best, fail = low, None
    while fail is None and best < high and len(tried) < max_steps:
        nxt = min(best * 2, high)
        if attempt(nxt):
            best = nxt
        else:
            fail = nxt
    while fail is not None and not narrow(best, fail) and len(tried) < max_steps:
        mid = (best + fail) // 2
        if attempt(mid):
            best = mid
        else:
            fail = mid
    return Search(best, fail, tuple(tried))


def _slo_text(slo: dict[str, Condition]) -> dict[str, str]:
    return {metric: condition.text for metric, condition in slo.items()}


def _judge(step: Step, slo: dict[str, Condition]) -> tuple[Verdict, str]:
    """The step's SLO verdict and why. A saturated generator's latency figures describe
    itself, not the target, so such a step cannot pass; errors the target answered still fail it."""
    outcome = evaluate(slo, step.found)
    if step.found.untrusted and outcome.verdict != Verdict.FAIL:
        return Verdict.INCONCLUSIVE, f"not counted for or against the target: {outcome.reason}"
    return outcome.verdict, f"{outcome.verdict.value}: {outcome.reason}"


@dataclass(frozen=True)
class Tried:
    """One step of the search with its SLO verdict (only a pass counts as meeting it)."""

    step: Step
    verdict: Verdict
    why: str

    def row(self) -> dict[str, Any]:
        """The `capacity` series row, JSON-ready."""
        throughput = self.step.found.values["throughput"]
        return {
            self.step.level.key: self.step.level.row_value(),
            "throughput": json_float(throughput.value),
            "throughput_low": json_float(throughput.low),
            "throughput_high": json_float(throughput.high),
            "p95": json_float(self.step.value("latency.p95")),
            "errors_rate": json_float(self.step.value("errors.rate")),
            "meets_slo": self.verdict == Verdict.PASS,
            "why": self.why,
            "generator_cpu_peak": json_float(self.step.value("generator.cpu.peak")),
            "locust_workers": self.step.locust_workers,
            "window": self.step.window(),
        }


@dataclass(frozen=True)
class Confirmed:
    """The capacity (users or req/s) that survived a fresh confirming run (0 when none did),
    and the runs."""

    level: int
    step: Tried | None
    runs: tuple[Tried, ...]


def confirm(search: Search, tried: dict[int, Tried], run: Callable[[int], Tried]) -> Confirmed:
    """Run the chosen step again, fresh; if it misses, the next lower pass (bounded)."""
    passed = sorted((u for u, t in tried.items() if t.verdict == Verdict.PASS), reverse=True)
    runs: list[Tried] = []
    for users in [u for u in passed if u <= search.best][:MAX_CONFIRMATIONS]:
        again = run(users)
        runs.append(again)
        if again.verdict == Verdict.PASS:
            return Confirmed(users, again, tuple(runs))
    return Confirmed(0, None, tuple(runs))


def _level_interval(
    confirmed: Confirmed, tried: dict[int, Tried], top: int, confidence: float, n: int
) -> Interval:
    """capacity.users (or .rate): shown (twice) to be at least the confirmed level, and below
    the smallest load that *failed* (an inconclusive miss proves nothing), else at most the top."""
    best = confirmed.level
    failed = [u for u, t in tried.items() if t.verdict == Verdict.FAIL and u > best]
    upper = max(min(failed) - 1 if failed else top, best)
    return Interval(float(best), float(best), float(upper), confidence, n, METHOD)


def _throughput_interval(confirmed: Confirmed, users: Interval) -> Interval:
    """capacity.throughput: the confirming run's; zero when no load met the SLO, with an open
    upper end when that miss was only inconclusive."""
    if confirmed.step is not None:
        return confirmed.step.step.found.values["throughput"]
    if users.high == 0:
        return exact(0.0, users.confidence, users.n)
    return Interval(0.0, 0.0, math.inf, users.confidence, users.n, METHOD)


def _bracket_note(search: Search, within: SearchRange) -> str:
    if search.best == 0:
        return f"capacity is below {within.label(within.low)}: the minimum did not meet every SLO"
    if search.fail is None and search.best == within.high:
        return f"at least {within.label(search.best)}: the top of the range met every SLO"
    if search.fail is None:
        return (
            f"at least {within.label(search.best)}: max_steps spent before reaching "
            f"{within.label(within.high)}"
        )
    budget = "" if search.converged else " (max_steps spent before the bracket was within 10%)"
    return f"capacity between {within.span(search.best, search.fail)}{budget}"


def _plan(plan: CapacityPlan, per_replica: Interval, found: Measurements) -> dict[str, Any]:
    """Replicas needed for the planned rate with headroom, sized from the *lower* confidence
    bound of one replica's capacity throughput: a plan on the point estimate would fall
    short about half the time."""
    need = plan.rate * (1.0 + plan.headroom)
    floor = per_replica.low if math.isfinite(per_replica.low) else math.nan
    replicas = math.ceil(need / floor) if floor > 0 else None
    rate = format_quantity(plan.rate, Dimension.RATE)
    headroom = format_quantity(plan.headroom, Dimension.RATIO)
    if replicas is None:
        found.notes.append(f"no replica count for {rate}: no load was shown to meet the SLO")
    else:
        found.notes.append(
            f"{rate} with {headroom} headroom needs {replicas} replicas "
            f"at {format_quantity(floor, Dimension.RATE)} each (the lower "
            f"{per_replica.confidence:.0%} bound of "
            f"{format_quantity(per_replica.value, Dimension.RATE)})"
        )
    return {
        "rate": plan.rate,
        "headroom": plan.headroom,
        "replicas": replicas,
        "per_replica_throughput": json_float(per_replica.value),
        "per_replica_throughput_low": json_float(floor),
    }


def _confirm_note(search: Search, confirmed: Confirmed, within: SearchRange) -> str:
    runs = ", ".join(f"{t.step.level.label} {t.verdict.value}" for t in confirmed.runs)
    if not confirmed.runs:
        return "no step met every SLO, so none was confirmed"
    best, kept = within.label(search.best), within.label(confirmed.level)
    if confirmed.level == search.best:
        return f"confirmed at {kept} by a fresh run ({runs})"
    if confirmed.level:
        return f"{best} did not pass again; confirmed {kept} ({runs})"
    return f"no step passed again in a fresh run ({runs}): capacity not shown"


def capacity_measurements(
    spec: CapacitySpec,
    search: Search,
    tried: dict[int, Tried],
    confirmed: Confirmed,
    confidence: float,
) -> Measurements:
    """Capacity figures from a finished, confirmed search and its steps (keyed by level)."""
    found = Measurements()
    within = SearchRange.of(spec)
    runs = len(search.tried) + len(confirmed.runs)
    level = _level_interval(confirmed, tried, within.high, confidence, runs)
    found.add("capacity.rate" if within.by_rate else "capacity.users", level)
    found.add("capacity.throughput", _throughput_interval(confirmed, level))
    steps = [t.step for t in tried.values()] + [t.step for t in confirmed.runs]
    generator_figures(found, steps, confidence, spoiled_by_any=False)
    found.stopping = Stopping.of_steps([s.found.stopping for s in steps if s.found.stopping])
    found.notes.append(_bracket_note(search, within))
    found.notes.append(_confirm_note(search, confirmed, within))
    listed = ", ".join(f"{within.label(n)} {tried[n].verdict.value}" for n, _ in search.tried)
    found.notes.append(
        f"steps tried ({'rate' if within.by_rate else 'users'}, SLO verdict): {listed}"
    )
    if search.fail is not None:
        found.notes.append(f"at {within.label(search.fail)}: {tried[search.fail].why}")
    plan = _plan(spec.plan, found.values["capacity.throughput"], found) if spec.plan else None
    found.series["capacity"] = {
        "steps": [tried[n].row() for n, _ in search.tried],
        "confirmations": [t.row() for t in confirmed.runs],
        "by": "rate" if within.by_rate else "users",
        "bracket": [search.best, search.fail],
        "confirmed": confirmed.level,
        "slo": _slo_text(spec.slo),
        "plan": plan,
    }
    return found


def _decision_rule(spec: CapacitySpec) -> DecisionRule:
    return DecisionRule(
        fail_fast=spec.fail_fast,
        until_decided=spec.until == "decided",
        min_duration_s=spec.min_duration,
    )


def run_capacity_workload(ctx: WorkloadContext) -> Measurements:
    """The whole `capacity` workload: search, one fresh load step per level tried, then a
    confirming run of the answer."""
    spec: CapacitySpec | None = ctx.assumption.capacity
    assert spec is not None and ctx.target is not None
    search_rule = _decision_rule(spec)
    # capacity.throughput comes from the confirming run: it runs at least CONFIRM_MIN_S
    # measured seconds, so its throughput has whole seconds enough for an interval.
    confirm_rule = dataclasses.replace(
        search_rule, min_duration_s=max(search_rule.min_duration_s, CONFIRM_MIN_S)
    )
    clock = [0.0]  # seconds across steps, for the live progress line

    within = SearchRange.of(spec)

    def step_at(n: int, rule: DecisionRule) -> Tried:
        level = within.level(n)
        step = run_step(ctx, spec, level, spec.step, spec.warmup, clock[0], spec.slo, rule)
        clock[0] = step.ended_at_s
        verdict, why = _judge(step, spec.slo)
        return Tried(step, verdict, why)

    tried: dict[int, Tried] = {}

    def meets(n: int) -> bool:
        tried[n] = step_at(n, search_rule)
        return tried[n].verdict == Verdict.PASS

    search = search_capacity(within.low, within.high, spec.max_steps, meets)
    confirmed = confirm(search, tried, lambda n: step_at(n, confirm_rule))
    return capacity_measurements(spec, search, tried, confirmed, ctx.confidence)
