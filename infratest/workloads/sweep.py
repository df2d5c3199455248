"""The `sweep` workload: one fresh load step per user level or arrival rate, to see how
throughput scales.

Scaling is judged from the ends of the sweep (efficiency of the largest step against the
smallest, scaled up linearly) and, for user levels given enough of them, from a Universal
Scalability Law fit that says where throughput would peak. The USL models concurrency, so a
sweep over arrival rates has no fit: its efficiency says how much of the added offered load
was served.
"""

from __future__ import annotations

import math
from typing import Any

from infratest.measurements import Measurements
from infratest.spec.load_sections import SweepSpec
from infratest.stats import Interval, ratio_interval
from infratest.usl import USL_BOOTSTRAP_DRAWS, UslFit, fit_usl, usl_peak_intervals
from infratest.workloads.context import WorkloadContext
from infratest.workloads.load_step import Level, Step, generator_figures, json_float, run_step

NO_USL_OVER_RATES = (
    "USL fit not reported: the Universal Scalability Law models concurrency (users), "
    "not arrival rates"
)


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
    """Throughput gained ÷ users (or offered rate) added: 1.0 is linear scaling (every added
    arrival served), 1/ratio is none at all."""
    ratio = largest.amount / smallest.amount
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
    users = [int(s.amount) for s in steps]
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
        step.level.key: step.level.row_value(),
        "throughput": json_float(throughput.value),
        "throughput_low": json_float(throughput.low),
        "throughput_high": json_float(throughput.high),
        "p50": json_float(step.value("latency.p50")),
        "p95": json_float(step.value("latency.p95")),
        "p99": json_float(step.value("latency.p99")),
        "errors_rate": json_float(step.value("errors.rate")),
        "generator_cpu_peak": json_float(step.value("generator.cpu.peak")),
        "locust_workers": step.locust_workers,
        "duration_s": json_float(step.seconds),
        "window": step.window(),
    }


def _no_usl_row() -> dict[str, Any]:
    return {"ok": False, "reason": "not fitted over arrival rates (the USL models concurrency)"}


def sweep_measurements(steps: list[Step], confidence: float) -> Measurements:
    """Every sweep metric from its steps (in increasing level order)."""
    found = Measurements()
    smallest, largest = steps[0], steps[-1]
    found.add("scaling.efficiency", efficiency(smallest, largest, confidence))
    peak = max(steps, key=lambda s: s.value("throughput"))
    found.add("throughput.peak", peak.found.values["throughput"])
    generator_figures(found, steps, confidence)
    if smallest.level.by_rate:
        found.notes.append(NO_USL_OVER_RATES)
        usl = _no_usl_row()
    else:
        usl = _usl_row(_add_usl(found, steps, confidence))
    found.notes.insert(
        0,
        f"{len(steps)} steps from {smallest.level.label} to {largest.level.label}; "
        f"peak throughput {peak.value('throughput'):.1f}/s at {peak.level.label}",
    )
    found.series["sweep"] = {
        "steps": [sweep_row(s) for s in steps],
        "by": smallest.level.key,
        "usl": usl,
    }
    return found


def run_sweep_workload(ctx: WorkloadContext) -> Measurements:
    """The whole `sweep` workload: a fresh load step per level, then the scaling figures."""
    spec: SweepSpec | None = ctx.assumption.sweep
    assert spec is not None and ctx.target is not None
    steps: list[Step] = []
    for amount in spec.levels:
        offset = steps[-1].ended_at_s if steps else 0.0
        level = Level(amount, spec.by_rate)
        steps.append(run_step(ctx, spec, level, spec.step, spec.warmup, offset))
    return sweep_measurements(steps, ctx.confidence)
