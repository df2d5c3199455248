"""The `load` workload: turn a scenario's load section into a Locust plan, run it in the child
process, and estimate every load metric with its interval from the raw samples."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from infratest.measurements import MeasurementError, Measurements
from infratest.spec.scenario import LoadSpec, RequestSpec, Traffic
from infratest.stats import (
    batch_means_interval,
    exact,
    proportion_interval,
    quantile_interval,
    rate_interval,
)
from infratest.workloads.load_plan import NO_JSON, LoadPlan
from infratest.workloads.load_plan import RequestSpec as PlanRequest
from infratest.workloads.load_runner import LoadRun, LoadRunError, run_load

# One Locust process drives about one core; beyond this share its own queueing shows up as
# target latency, so the figures would describe the generator rather than the target.
GENERATOR_SATURATION_CORES = 0.9
PERCENTILES = {"p50": 0.50, "p90": 0.90, "p95": 0.95, "p99": 0.99, "p999": 0.999}

Progress = Callable[[dict[str, Any]], None]


def plan_request(request: RequestSpec, common_headers: dict[str, str]) -> PlanRequest:
    """A scenario request as the child process takes it."""
    return PlanRequest(
        method=request.method,
        path=request.path,
        headers={**common_headers, **request.headers},
        json=request.json_body if request.json_body is not None else NO_JSON,
        body=request.body,
        weight=request.weight,
        name=request.label,
    )


def build_plan(
    traffic: Traffic, url: str, users: int, duration: float, ramp: float = 0.0, warmup: float = 0.0
) -> LoadPlan:
    """The Locust plan for one load run (or one step of a sweep)."""
    return LoadPlan(
        host=url,
        requests=tuple(plan_request(r, traffic.headers) for r in traffic.requests),
        users=users,
        ramp_s=ramp,
        duration_s=duration,
        warmup_s=warmup,
        wait_min_s=traffic.wait.min,
        wait_max_s=traffic.wait.max,
        timeout_s=traffic.timeout,
        user_class=traffic.user_class,
    )


def execute(plan: LoadPlan, progress: Progress | None = None) -> LoadRun:
    """Run a plan; a generator that could not run at all is a measurement error."""
    try:
        return run_load(plan, on_progress=progress)
    except LoadRunError as exc:
        raise MeasurementError(f"the load generator failed: {exc}") from None


def _latency_metrics(run: LoadRun, ok: np.ndarray, confidence: float) -> Measurements:
    found = Measurements()
    latency = run.samples["latency"][ok]
    for name, q in PERCENTILES.items():
        found.add(f"latency.{name}", quantile_interval(latency, q, confidence))
    if latency.size:
        found.add("latency.max", exact(float(latency.max()), confidence, latency.size))
    found.add("latency.mean", batch_means_interval(run.samples["start"][ok], latency, confidence))
    return found


def _saturation(peak: float) -> str | None:
    if peak < GENERATOR_SATURATION_CORES:
        return None
    return (
        f"the load generator was saturated ({peak:.2f} cores, limit "
        f"{GENERATOR_SATURATION_CORES}): its own queueing is in the figures; "
        "use fewer users or add think time (`wait`)"
    )


def load_measurements(run: LoadRun, confidence: float) -> Measurements:
    """Every load metric with its interval; latency is over successful requests only."""
    ok = run.samples["ok"].astype(bool)
    total, failed = int(ok.size), int((~ok).sum())
    start, end = float(run.summary["measure_start"]), float(run.summary["measure_end"])
    found = _latency_metrics(run, ok, confidence)
    found.add("throughput", rate_interval(run.samples["start"][ok], start, end, confidence))
    found.add("errors.rate", proportion_interval(failed, total, confidence))
    found.add("errors.count", exact(failed, confidence, total))
    found.add("requests", exact(total, confidence, total))
    found.add("generator.cpu.peak", exact(run.generator_cpu_peak, confidence))
    found.untrusted = _saturation(run.generator_cpu_peak)
    found.series["load"] = {
        "per_second": run.summary.get("series", []),
        "error_kinds": run.summary.get("error_kinds", []),
        "started_at": run.summary.get("started_at"),
        "measure_start": start,
        "measure_end": end,
        "warmup_requests": run.summary.get("warmup_requests", 0),
    }
    found.notes += _notes(run, total, failed)
    return found


def _notes(run: LoadRun, total: int, failed: int) -> list[str]:
    notes = [f"{total} requests in {run.measured_seconds:.1f} s measured after warm-up"]
    if failed:
        kinds = ", ".join(f"{k['key']} ×{k['count']}" for k in run.summary.get("error_kinds", []))
        notes.append(f"{failed} failed: {kinds}")
    if run.summary.get("stopped_early"):
        notes.append(f"the run stopped early: {run.summary.get('reason', '')}")
    return notes


def no_answer_reason(run: LoadRun) -> str | None:
    """When no request got any HTTP answer, the target is down or hung: say how it failed.
    (A target answering 500s is measured, and fails its error-rate checks instead.)"""
    answered = run.samples["ok"].astype(bool) | (run.samples["status"] > 0)
    if answered.any():
        return None
    kinds = run.summary.get("error_kinds", [])
    if kinds:
        first = kinds[0]
        example = (first.get("examples") or [""])[0]
        return f"the target did not answer: {first['key']} ×{first['count']} ({example})"
    return f"no request completed: {run.summary.get('reason') or 'no samples'}"


def run_load_section(
    spec: LoadSpec, url: str, confidence: float, progress: Progress | None = None
) -> Measurements:
    """The whole `load` workload against a resolved target URL."""
    plan = build_plan(spec, url, spec.users, spec.duration, spec.ramp, spec.warmup)
    run = execute(plan, progress)
    found = load_measurements(run, confidence)
    reason = no_answer_reason(run)
    if reason:
        found.error = reason
    return found
