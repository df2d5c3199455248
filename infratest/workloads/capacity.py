"""The `capacity` workload: the largest user count whose load step meets every SLO condition.

The search widens geometrically from `users.min` until a step misses the SLO (or `users.max`
is reached), then bisects between the last pass and the first miss. Only a *pass* counts as
meeting: a step that fails or cannot be decided (too few samples, saturated generator) is a
miss, so the answer errs low rather than promising load the target was not shown to carry.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from infratest.measurements import Measurements
from infratest.spec.scenario import CapacityPlan, CapacitySpec, UserRange
from infratest.stats import Interval, exact
from infratest.units import Condition, Dimension, format_quantity
from infratest.verdict import Verdict, evaluate
from infratest.workloads.context import WorkloadContext
from infratest.workloads.sweep import Step, generator_figures, json_float, run_step

TOLERANCE = 0.10  # stop bisecting once the bracket is within 10% of its lower end
METHOD = "capacity-search"


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
    """The step's SLO verdict and why. A saturated generator's figures describe itself, not
    the target, so such a step neither passes nor fails: it is inconclusive."""
    outcome = evaluate(slo, step.found)
    if step.found.untrusted:
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
            "users": self.step.users,
            "throughput": json_float(throughput.value),
            "throughput_low": json_float(throughput.low),
            "throughput_high": json_float(throughput.high),
            "p95": json_float(self.step.value("latency.p95")),
            "errors_rate": json_float(self.step.value("errors.rate")),
            "meets_slo": self.verdict == Verdict.PASS,
            "why": self.why,
            "generator_cpu_peak": json_float(self.step.value("generator.cpu.peak")),
            "window": self.step.window(),
        }


def _users_interval(
    search: Search, tried: dict[int, Tried], top: int, confidence: float
) -> Interval:
    """capacity.users: shown to be at least `best`, and below the smallest load that *failed*
    (a miss that was only inconclusive proves nothing), else at most the top of the range."""
    failed = [u for u, t in tried.items() if t.verdict == Verdict.FAIL and u > search.best]
    upper = min(failed) - 1 if failed else top
    n = len(search.tried)
    if upper <= search.best:
        return exact(search.best, confidence, n)
    return Interval(float(search.best), float(search.best), float(upper), confidence, n, METHOD)


def _throughput_interval(search: Search, tried: dict[int, Tried], users: Interval) -> Interval:
    """capacity.throughput: the best step's; zero when even the minimum missed, with an open
    upper end when that miss was only inconclusive."""
    if search.best:
        return tried[search.best].step.found.values["throughput"]
    if users.high == 0:
        return exact(0.0, users.confidence, users.n)
    return Interval(0.0, 0.0, math.inf, users.confidence, users.n, METHOD)


def _bracket_note(search: Search, users: UserRange) -> str:
    if search.best == 0:
        return f"capacity is below {users.min} users: the minimum did not meet every SLO"
    if search.fail is None and search.best == users.max:
        return f"at least {search.best} users: the top of the range met every SLO"
    if search.fail is None:
        return f"at least {search.best} users: max_steps spent before reaching {users.max}"
    budget = "" if search.converged else " (max_steps spent before the bracket was within 10%)"
    return f"capacity between {search.best} and {search.fail} users{budget}"


def _plan(plan: CapacityPlan, per_replica: float, found: Measurements) -> dict[str, Any]:
    """Replicas needed for the planned rate with headroom, at the measured capacity."""
    need = plan.rate * (1.0 + plan.headroom)
    replicas = math.ceil(need / per_replica) if per_replica > 0 else None
    rate = format_quantity(plan.rate, Dimension.RATE)
    headroom = format_quantity(plan.headroom, Dimension.RATIO)
    if replicas is None:
        found.notes.append(f"no replica count for {rate}: no load met the SLO")
    else:
        found.notes.append(
            f"{rate} with {headroom} headroom needs {replicas} replicas "
            f"at {format_quantity(per_replica, Dimension.RATE)} each"
        )
    return {
        "rate": plan.rate,
        "headroom": plan.headroom,
        "replicas": replicas,
        "per_replica_throughput": json_float(per_replica),
    }


def capacity_measurements(
    spec: CapacitySpec, search: Search, tried: dict[int, Tried], confidence: float
) -> Measurements:
    """Capacity figures from a finished search and its steps (keyed by users)."""
    found = Measurements()
    users = _users_interval(search, tried, spec.users.max, confidence)
    found.add("capacity.users", users)
    found.add("capacity.throughput", _throughput_interval(search, tried, users))
    generator_figures(found, [t.step for t in tried.values()], confidence)
    found.notes.append(_bracket_note(search, spec.users))
    listed = ", ".join(f"{u} {tried[u].verdict.value}" for u, _ in search.tried)
    found.notes.append(f"steps tried (users, SLO verdict): {listed}")
    if search.fail is not None:
        found.notes.append(f"at {search.fail} users: {tried[search.fail].why}")
    per_replica = found.values["capacity.throughput"].value
    plan = _plan(spec.plan, per_replica, found) if spec.plan else None
    found.series["capacity"] = {
        "steps": [tried[u].row() for u, _ in search.tried],
        "bracket": [search.best, search.fail],
        "slo": _slo_text(spec.slo),
        "plan": plan,
    }
    return found


def run_capacity_workload(ctx: WorkloadContext) -> Measurements:
    """The whole `capacity` workload: search, one fresh load step per user count tried."""
    spec: CapacitySpec | None = ctx.assumption.capacity
    assert spec is not None and ctx.target is not None
    tried: dict[int, Tried] = {}

    def meets(users: int) -> bool:
        step = run_step(ctx, spec, users, spec.step, spec.warmup, len(tried))
        verdict, why = _judge(step, spec.slo)
        tried[users] = Tried(step, verdict, why)
        return verdict == Verdict.PASS

    search = search_capacity(spec.users.min, spec.users.max, spec.max_steps, meets)
    return capacity_measurements(spec, search, tried, ctx.confidence)
