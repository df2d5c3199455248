"""The `sweep` workload: one fresh load step per user level, to see how throughput scales.

Scaling is judged from the ends of the sweep (efficiency of the largest step against the
smallest, scaled up linearly) and, given enough levels, from a Universal Scalability Law
fit that says where throughput would peak. The step runner here is shared with `capacity`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from infratest.measurements import MeasurementError, Measurements
from infratest.spec.scenario import SweepSpec, Traffic
from infratest.stats import Interval, exact, ratio_interval
from infratest.units import Condition
from infratest.usl import USL_BOOTSTRAP_DRAWS, UslFit, fit_usl, usl_peak_intervals
from infratest.workloads.context import WorkloadContext
from infratest.workloads.load import build_plan, no_answer_reason, shifted, watched_run
from infratest.workloads.monitor import DecisionRule

MAX_RAMP_S = 1.0


@dataclass(frozen=True)
class Step:
    """One load step: its user level, everything it measured, and its measured seconds."""

    users: int
    found: Measurements
    seconds: float
    ended_at_s: float  # seconds since the workload's first step started, when this one ended

    def value(self, metric: str) -> float:
        """A metric's point estimate, NaN when it was not measured."""
        interval = self.found.values.get(metric)
        return interval.value if interval is not None else math.nan

    def window(self) -> list[float] | None:
        """The measured window as wall-clock [start, end], so probe figures can be cut per step."""
        load = self.found.series.get("load", {})
        started = load.get("started_at")
        if started is None:
            return None
        return [started + load["measure_start"], started + load["measure_end"]]


def json_float(x: float | None) -> float | None:
    """Plain float for results files; JSON has no inf or nan, so those become None."""
    return float(x) if x is not None and math.isfinite(x) else None


def run_step(
    ctx: WorkloadContext,
    traffic: Traffic,
    users: int,
    step: float,
    warmup: float,
    offset_s: float = 0.0,
    slo: dict[str, Condition] | None = None,
    rule: DecisionRule | None = None,
) -> Step:
    """One fresh Locust run at `users`, its `slo` watched by `rule` (a capacity step ends
    once its SLO is decided); a target that never answered is a measurement error."""
    assert ctx.target is not None
    try:
        plan = build_plan(traffic, ctx.target.url, users, step, min(MAX_RAMP_S, step / 4), warmup)
    except ValueError as exc:
        raise MeasurementError(f"step with {users} users: {exc}") from None
    progress = shifted(ctx.progress, offset_s)
    run, found = watched_run(plan, slo or {}, rule or DecisionRule(), ctx, progress)
    reason = no_answer_reason(run)
    if reason:
        raise MeasurementError(f"step with {users} users: {reason}")
    return Step(users, found, run.measured_seconds, offset_s + run.record.last_t)


def _scaled(interval: Interval, factor: float) -> Interval:
    """An interval times a known constant (the user ratio)."""
    return Interval(
        interval.value * factor,
        interval.low * factor,
        interval.high * factor,
        interval.confidence,
        interval.n,
        interval.method,
    )


def efficiency(smallest: Step, largest: Step, confidence: float) -> Interval:
    """Throughput gained ÷ users added: 1.0 is linear scaling, 1/ratio is none at all."""
    ratio = largest.users / smallest.users
    num = largest.found.values["throughput"]
    den = _scaled(smallest.found.values["throughput"], ratio)
    return ratio_interval(num, den, confidence)


def _usl_row(fit: UslFit) -> dict[str, Any]:
    numbers = {k: json_float(getattr(fit, k)) for k in ("sigma", "kappa", "lam", "r2")}
    peaks = {k: json_float(getattr(fit, k)) for k in ("peak_users", "peak_throughput")}
    return {**numbers, "ok": fit.ok, "reason": fit.reason, **peaks}


def _add_usl(found: Measurements, steps: list[Step], confidence: float) -> UslFit:
    """USL peak figures when the fit is trustworthy and finite; otherwise a note says why.

    The peaks are extrapolations of a fitted model, so each gets a bootstrap interval from
    the steps' own throughput intervals rather than being reported as exact.
    """
    users = [s.users for s in steps]
    throughput = [s.found.values["throughput"] for s in steps]
    fit = fit_usl(users, [iv.value for iv in throughput])
    if not fit.ok:
        found.notes.append(f"USL fit not reported: {fit.reason}")
        return fit
    peaks = usl_peak_intervals(users, throughput, fit, confidence)
    top = max(users)
    if math.isfinite(fit.peak_users):
        found.add("usl.peak_users", peaks.users)
        if fit.peak_users > top:
            found.notes.append(
                f"USL peak at {fit.peak_users:.1f} users is beyond the largest step ({top}): "
                "an extrapolation"
            )
    else:
        found.notes.append("USL fit has no peak (κ = 0): throughput levels off instead")
    if math.isfinite(fit.peak_throughput):
        found.add("usl.peak_throughput", peaks.throughput)
    found.notes.append(f"USL fit: σ={fit.sigma:.3g}, κ={fit.kappa:.3g}, R²={fit.r2:.3f}")
    found.notes.append(_usl_interval_note(throughput))
    return fit


def _usl_interval_note(throughput: list[Interval]) -> str:
    """How the peak intervals were made, and why they are unbounded when they are."""
    if any(not math.isfinite(iv.high - iv.low) for iv in throughput):
        return (
            "USL peak intervals unbounded: a step was too short for a throughput interval "
            "(each needs 2 s or more measured after warmup)"
        )
    return (
        f"USL peak intervals: {USL_BOOTSTRAP_DRAWS} refits to step throughput redrawn from "
        "each step's interval (parametric bootstrap, percentile ends)"
    )


def sweep_row(step: Step) -> dict[str, Any]:
    """One step of the `sweep` series, JSON-ready."""
    throughput = step.found.values["throughput"]
    return {
        "users": step.users,
        "throughput": json_float(throughput.value),
        "throughput_low": json_float(throughput.low),
        "throughput_high": json_float(throughput.high),
        "p50": json_float(step.value("latency.p50")),
        "p95": json_float(step.value("latency.p95")),
        "p99": json_float(step.value("latency.p99")),
        "errors_rate": json_float(step.value("errors.rate")),
        "generator_cpu_peak": json_float(step.value("generator.cpu.peak")),
        "duration_s": json_float(step.seconds),
        "window": step.window(),
    }


def generator_figures(found: Measurements, steps: list[Step], confidence: float) -> None:
    """Peak generator CPU over all steps; any saturated step makes the whole result untrusted."""
    peak = max(s.value("generator.cpu.peak") for s in steps)
    found.add("generator.cpu.peak", exact(peak, confidence, len(steps)))
    saturated = [s for s in steps if s.found.untrusted]
    if saturated:
        first = saturated[0]
        found.untrusted = f"step with {first.users} users: {first.found.untrusted}"


def sweep_measurements(steps: list[Step], confidence: float) -> Measurements:
    """Every sweep metric from its steps (in increasing user order)."""
    found = Measurements()
    smallest, largest = steps[0], steps[-1]
    found.add("scaling.efficiency", efficiency(smallest, largest, confidence))
    peak = max(steps, key=lambda s: s.value("throughput"))
    found.add("throughput.peak", peak.found.values["throughput"])
    generator_figures(found, steps, confidence)
    fit = _add_usl(found, steps, confidence)
    found.notes.insert(
        0,
        f"{len(steps)} steps from {smallest.users} to {largest.users} users; "
        f"peak throughput {peak.value('throughput'):.1f}/s at {peak.users} users",
    )
    found.series["sweep"] = {
        "steps": [sweep_row(s) for s in steps],
        "usl": _usl_row(fit),
    }
    return found


def run_sweep_workload(ctx: WorkloadContext) -> Measurements:
    """The whole `sweep` workload: a fresh load step per user level, then the scaling figures."""
    spec: SweepSpec | None = ctx.assumption.sweep
    assert spec is not None and ctx.target is not None
    steps: list[Step] = []
    for users in spec.users:
        offset = steps[-1].ended_at_s if steps else 0.0
        steps.append(run_step(ctx, spec, users, spec.step, spec.warmup, offset))
    return sweep_measurements(steps, ctx.confidence)
