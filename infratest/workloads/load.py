"""The `load` workload: turn a scenario's load section into a Locust plan, run it in the child
process while its checks are watched, and estimate every load metric with its interval."""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Iterable
from pathlib import Path

from infratest.measurements import MeasurementError, Measurements, Stopping
from infratest.spec.load_sections import LoadSpec
from infratest.spec.traffic import RequestSpec, Traffic, ValidateSpec
from infratest.stats import exact
from infratest.traces import TraceLists
from infratest.units import Condition
from infratest.workloads.answering import ever_answered, stopped_answering_reason
from infratest.workloads.body_sources import (
    answer_schema_of,
    bodies_of,
    pool_notes,
    pool_summaries,
)
from infratest.workloads.context import WorkloadContext
from infratest.workloads.cpu_sampler import cpu_peak
from infratest.workloads.drift import latency_drift
from infratest.workloads.fleet import FleetSettings, fleet_settings
from infratest.workloads.fleet_runner import run_fleet
from infratest.workloads.live import LiveStatus, Progress
from infratest.workloads.load_figures import Reading, load_intervals
from infratest.workloads.load_plan import NO_JSON, LoadPlan
from infratest.workloads.load_plan import RequestSpec as PlanRequest
from infratest.workloads.load_record import LoadRecord
from infratest.workloads.load_runner import LoadRun, LoadRunError, UserClassError, run_load
from infratest.workloads.load_series import load_series
from infratest.workloads.monitor import CheckMonitor, DecisionRule
from infratest.workloads.replay_timeline import RECORDED
from infratest.workloads.saturation import DEFAULT_MAX_LAG_S, STANDS_WHEN_SATURATED
from infratest.workloads.trust import distrust
from infratest.workloads.wire import Final
from infratest.workloads.worker_health import worker_rows
from infratest.workloads.worker_policy import WorkerPolicy


def plan_request(
    request: RequestSpec, common_headers: dict[str, str], check: ValidateSpec | None = None
) -> PlanRequest:
    """A scenario request as the child process takes it, with its bodies drawn and its answer
    check (its own, else the load's) ready."""
    check = request.answer_check or check
    return PlanRequest(
        method=request.method,
        path=request.path,
        headers={**common_headers, **request.headers},
        json=request.json_body if request.json_body is not None else NO_JSON,
        body=request.body,
        weight=request.weight,
        name=request.label,
        bodies=bodies_of(request),
        body_order=request.order,
        body_seed=request.seed,
        accept_status=tuple(check.status or ()) if check else (),
        answer_schema=answer_schema_of(check),
    )


def user_class_paths(traffic: Traffic) -> tuple[str, ...]:
    """Where a user class's module is looked for besides the child's sys.path: the scenario's
    folder and the directory infratest runs from (the child itself runs in a scratch one)."""
    if not traffic.own_user:
        return ()
    folders = (traffic.user_class_folder, str(Path.cwd()))
    return tuple(dict.fromkeys(f for f in folders if f))


def build_plan(
    traffic: Traffic, url: str, users: int, duration: float, ramp: float = 0.0, warmup: float = 0.0
) -> LoadPlan:
    """The Locust plan for one load run (or one step of a sweep)."""
    return LoadPlan(
        host=url,
        requests=tuple(
            plan_request(r, traffic.headers, traffic.answer_check) for r in traffic.requests
        ),
        users=users,
        ramp_s=ramp,
        duration_s=duration,
        warmup_s=warmup,
        wait_min_s=traffic.wait.min,
        wait_max_s=traffic.wait.max,
        timeout_s=traffic.timeout,
        user_class=traffic.user_class,
        user_class_at=traffic.user_class_at,
        user_class_paths=user_class_paths(traffic),
        wait_given="wait" in traffic.model_fields_set,
        headers=traffic.headers if traffic.own_user else {},
    )


def open_model_plan(plan: LoadPlan, spec: LoadSpec, max_in_flight_limit: int) -> LoadPlan:
    """`plan` turned open-model by the load section's `rate` keys: one scheduler user, the
    seed drawn when not given (it is recorded), and in flight at most rate × timeout unless
    the section says otherwise, never above the config's ceiling."""
    assert spec.rate is not None
    in_flight = spec.max_in_flight or math.ceil(spec.rate * spec.timeout)
    return dataclasses.replace(
        plan,
        users=1,
        rate_per_s=spec.rate,
        arrivals=spec.arrivals,
        seed=spec.seed if spec.seed is not None else random.SystemRandom().randrange(2**31),
        max_in_flight=max(min(in_flight, max_in_flight_limit), 1),
    )


def execute(
    plan: LoadPlan,
    ctx: WorkloadContext,
    monitor: CheckMonitor | None = None,
    fleet: FleetSettings | None = None,
) -> LoadRun:
    """Run a plan (watched by `monitor`), on Locust workers when `fleet` says so, else on
    the session's warm generators, with the session's allow-list and trace-header
    setting; a generator that could not run is an error (a user class that could not be
    loaded says where it is written and why)."""
    plan = dataclasses.replace(plan, trace_headers=ctx.trace_headers)
    if plan.own_user:  # its requests may also go to allowed hosts besides the target
        plan = dataclasses.replace(plan, allow_hosts=ctx.allow_hosts)
    try:
        if fleet is None:
            return run_load(plan, watcher=monitor, generators=ctx.generator_pool)
        policy = WorkerPolicy(ctx.allow_hosts, plan.users, plan.duration_s, user_classes=True)
        return run_fleet(plan, fleet, policy, watcher=monitor)
    except UserClassError as exc:
        raise MeasurementError(str(exc)) from None
    except LoadRunError as exc:
        raise MeasurementError(f"the load generator failed: {exc}") from None


def stopping_of(run: LoadRun, plan: LoadPlan, monitor: CheckMonitor | None) -> Stopping:
    """How the run ended, and when its checks were decided."""
    final = run.record.final
    if run.stop is not None:
        stopped = run.stop.stopped
    elif (final is not None and final.signalled) or run.hard_timeout_s is not None:
        stopped = "interrupted"
    else:
        stopped = "duration"
    return Stopping(
        stopped=stopped,
        planned_s=plan.duration_s - plan.measure_start_s,
        measured_s=run.measured_seconds,
        decided_after_s=monitor.decided_after_s if monitor is not None else None,
    )


def load_measurements(
    run: LoadRun,
    confidence: float,
    latency_of: str,
    max_lag_s: float = DEFAULT_MAX_LAG_S,
    metrics: Iterable[str] | None = None,
) -> Measurements:
    """Every load metric (or those named) with its interval, the series for reports, and
    notes. A run whose generator was saturated, or (open model) did not keep its schedule,
    cannot pass."""
    record = run.record
    found = Measurements()
    reading = Reading(confidence, latency_of)
    for metric, interval in load_intervals(record, reading, metrics).items():
        found.add(metric, interval)
    found.add("generator.cpu.peak", exact(run.generator_cpu_peak, confidence))
    # a distributed run's peak is the busiest process; the workers' own peaks are judged apart
    own_peak = cpu_peak(run.generator_cpu) if record.workers else run.generator_cpu_peak
    doubt = distrust(record, own_peak, max_lag_s)
    if doubt is not None:
        found.untrusted, found.untrusted_fails_stand = doubt.reason, doubt.fails_stand
    found.untrusted_except = STANDS_WHEN_SATURATED
    found.series["load"] = load_series(record)
    if record.workers:
        found.series["load"]["workers"] = worker_rows(record)
    found.notes += _notes(run, latency_of)
    if record.final is not None:
        found.traces = TraceLists.from_dict(record.final.traces)
    return found


def _notes(run: LoadRun, latency_of: str) -> list[str]:
    record, counts = run.record, run.record.counts()
    whose = (
        "all requests sent (failures at their time to fail, unanswered ones as at least their wait)"
        if latency_of == "all"
        else "successful requests only (latency_of: successful)"
    )
    notes = [
        f"{counts.sent} requests in {run.measured_seconds:.1f} s measured after ramp and "
        f"warm-up; latency of {whose}"
    ]
    if counts.failed or counts.unanswered:
        kinds = ", ".join(f"{k} ×{n}" for k, n in record.outcomes.kinds.items())
        notes.append(
            f"{counts.failed} failed ({counts.timed_out} timed out), "
            f"{counts.unanswered} unanswered at the end" + (f": {kinds}" if kinds else "")
        )
    notes += open_model_notes(record)
    if record.final is not None and record.final.user_errors:
        notes.append(user_errors_note(record.final))
    if record.ended_unexpectedly:
        notes.append(record.ended_unexpectedly)
    drift = latency_drift(record.successful if latency_of == "successful" else record.everything)
    if drift is not None:
        notes.append(drift.note())
    if record.workers:
        shares = ", ".join(f"{v.name} {v.requests}" for v in record.workers.by_name.values())
        notes.append(f"requests by Locust worker (each on its own clock): {shares}")
    final = record.final
    if run.stop is not None:
        notes.append(f"stopped after {run.stop.after_s:.1f} s measured: {run.stop.why}")
    elif final is not None and final.signalled:
        notes.append(f"the run stopped early: {final.reason}")
    if run.hard_timeout_s is not None:
        notes.append(f"the run was ended at its hard timeout of {run.hard_timeout_s:.1f} s")
    return notes


def user_errors_note(final: Final) -> str:
    """A user class whose own code raised: each time, its task or on_start was cut short."""
    return (
        f"the user class raised {final.user_errors}× outside a request (the task or on_start "
        f"was cut short; a failed on_start ends that user); first: {final.first_user_error}"
    )


def open_model_notes(record: LoadRecord) -> list[str]:
    """Open model: the rate asked, what the schedule asked in this run, and what was sent;
    a full `max_in_flight` is always said (the run never throttles silently)."""
    arrivals = record.arrival_summary()
    if arrivals is None:
        return []
    lag = "n/a" if arrivals.lag_p99_s is None else f"{arrivals.lag_p99_s * 1000:.1f} ms"
    how = (
        f"recorded arrivals (mean {arrivals.asked_rate_per_s:.3g}/s)"
        if arrivals.kind == RECORDED
        else f"open model at {arrivals.asked_rate_per_s:g}/s ({arrivals.kind} arrivals, seed "
        f"{arrivals.seed})"
    )
    notes = [
        f"{how}: {arrivals.scheduled} arrivals scheduled in the measured window, "
        f"{arrivals.sent} sent ({arrivals.offered_share:.1%}), scheduler lag p99 {lag}; "
        f"latency is timed from each scheduled send time"
    ]
    if arrivals.capped:
        notes.append(
            f"max_in_flight was reached: {arrivals.capped} arrivals were sent late for want "
            f"of a free slot (their latency includes the wait)"
        )
    if arrivals.unsent:
        notes.append(
            f"{arrivals.unsent} scheduled arrivals were never sent before the run stopped "
            f"(counted as unanswered from their scheduled time)"
        )
    return notes


def no_answer_reason(run: LoadRun) -> str | None:
    """When no request got any HTTP answer, the target is down or hung: say how it failed.
    (A target answering 500s is measured, and fails its error-rate checks instead.)"""
    outcomes, final = run.record.outcomes, run.record.final
    if ever_answered(outcomes):
        return None
    if outcomes.kinds:
        key, count = max(outcomes.kinds.items(), key=lambda kv: kv[1])
        example = ((final.examples.get(key) if final else None) or [""])[0]
        return f"the target did not answer: {key} ×{count} ({example})"
    unanswered = run.record.counts().unanswered
    why = final.reason if final is not None else "the load generator ended early"
    if final is not None and final.user_errors:
        why = user_errors_note(final)
    return f"no request completed ({unanswered} unanswered): {why}"


def unanswered_reason(run: LoadRun) -> str | None:
    """Why a run cannot stand for the target's behaviour: it never answered, or it answered
    and then stopped. (A sweep or capacity step instead counts a target that stopped
    answering as a step that did not meet its SLO: that is where its capacity ended.)"""
    return no_answer_reason(run) or stopped_answering_reason(run.record.outcomes)


def decision_rule(spec: LoadSpec) -> DecisionRule:
    """The load section's monitoring keys."""
    return DecisionRule(
        fail_fast=spec.fail_fast,
        until_decided=spec.until == "decided",
        min_duration_s=spec.min_duration,
        max_lag_s=spec.max_lag,
    )


def shifted(progress: Progress | None, seconds: float) -> Progress | None:
    """Shift a run's progress clock, so a multi-step workload shows time across its steps."""
    if progress is None or seconds == 0:
        return progress

    def show(status: LiveStatus) -> None:
        progress(dataclasses.replace(status, t=status.t + seconds))

    return show


def watched_run(
    plan: LoadPlan,
    expect: dict[str, Condition],
    rule: DecisionRule,
    ctx: WorkloadContext,
    progress: Progress | None = None,
    fleet: FleetSettings | None = None,
) -> tuple[LoadRun, Measurements]:
    """One load run with its checks watched: the run and its measurements (with stopping)."""
    latency_of = ctx.assumption.latency_of
    monitor = CheckMonitor(expect, rule, ctx.confidence, latency_of, progress)
    run = execute(plan, ctx, monitor, fleet)
    found = load_measurements(run, ctx.confidence, latency_of, rule.max_lag_s)
    found.stopping = stopping_of(run, plan, monitor)
    return run, found


def run_load_workload(ctx: WorkloadContext) -> Measurements:
    """The whole `load` workload against the context's target."""
    spec = ctx.assumption.load
    assert spec is not None and ctx.target is not None
    users = spec.users or 1
    plan = build_plan(spec, ctx.target.url, users, spec.duration, spec.ramp, spec.warmup)
    if spec.rate is not None:
        plan = open_model_plan(plan, spec, ctx.max_in_flight_limit)
    fleet = fleet_settings(spec.workers, ctx.generators)
    if fleet is not None:  # rate mode: one scheduler user per worker, each its share
        users = fleet.workers if plan.open_model else plan.users
        plan = dataclasses.replace(plan, workers=fleet.workers, users=users)
    rule = decision_rule(spec)
    run, found = watched_run(plan, ctx.assumption.expect, rule, ctx, ctx.progress, fleet)
    final = run.record.final
    pools = pool_summaries(plan.requests, final.body_sizes if final is not None else None)
    if pools:
        found.series["load"]["bodies"] = pools
        found.notes += pool_notes(pools)
    reason = unanswered_reason(run)
    if reason:
        found.error = reason
    return found
