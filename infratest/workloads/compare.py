"""The `load` workload with `compare`: the same load against the baseline (the scenario's
target) and a candidate, alternating in ABBA blocks within one generator run, then the
candidate's own figures, its changes from the baseline with intervals, per-block figures,
and (with `predictions`) whether the two answer the same inputs the same way."""

from __future__ import annotations

import dataclasses

from infratest.deltas import DELTA_METRICS, delta_intervals
from infratest.measurements import Measurements
from infratest.workloads.answering import ever_answered
from infratest.workloads.compare_errors import errors_change
from infratest.workloads.compare_series import compare_series, layout_note
from infratest.workloads.compare_split import side_record, side_sample
from infratest.workloads.context import WorkloadContext
from infratest.workloads.fleet import fleet_settings
from infratest.workloads.load import (
    build_plan,
    decision_rule,
    execute,
    load_measurements,
    open_model_plan,
    stopping_of,
)
from infratest.workloads.load_figures import Reading, load_intervals
from infratest.workloads.load_plan import LoadPlan
from infratest.workloads.load_record import LoadRecord
from infratest.workloads.prediction_figures import run_predictions
from infratest.workloads.rounds import BASELINE, CANDIDATE, SIDES, RoundLayout


def compared_plan(ctx: WorkloadContext, candidate_url: str) -> LoadPlan:
    """The load's plan with both hosts, its duration trimmed to whole-second blocks."""
    spec, compare = ctx.assumption.load, ctx.assumption.compare
    assert spec is not None and compare is not None and ctx.target is not None
    plan = build_plan(spec, ctx.target.url, spec.users or 1, spec.duration, spec.ramp, spec.warmup)
    if spec.rate is not None:
        plan = open_model_plan(plan, spec, ctx.max_in_flight_limit)
    layout = RoundLayout.fitted(compare.rounds, plan.measure_start_s, plan.duration_s)
    return dataclasses.replace(
        plan,
        duration_s=plan.measure_start_s + layout.measured_s,
        compare_hosts=(ctx.target.url, candidate_url),
        compare_rounds=compare.rounds,
    )


def _no_answer(record: LoadRecord, name: str) -> str | None:
    """A side that got no HTTP answer at all is down: say how it failed."""
    outcomes = record.outcomes
    if ever_answered(outcomes):
        return None
    if outcomes.kinds:
        key, count = max(outcomes.kinds.items(), key=lambda kv: kv[1])
        return f"the {name} did not answer: {key} ×{count}"
    return f"the {name} did not answer: no request completed"


def _side_values(records: dict[int, LoadRecord], how: Reading) -> dict[int, dict]:
    return {side: load_intervals(record, how) for side, record in records.items()}


def run_compare_workload(ctx: WorkloadContext) -> Measurements:
    """The compared load, then (with `predictions`) the same inputs to both."""
    spec, compare = ctx.assumption.load, ctx.assumption.compare
    assert spec is not None and compare is not None and ctx.target is not None
    candidate = ctx.targets.get(compare.candidate)
    plan = compared_plan(ctx, candidate.url)
    fleet = fleet_settings(spec.workers, ctx.generators)
    if fleet is not None:
        users = fleet.workers if plan.open_model else plan.users
        plan = dataclasses.replace(plan, workers=fleet.workers, users=users)
    layout = plan.rounds
    assert layout is not None
    run = execute(plan, ctx, None, fleet)
    latency_of, confidence = ctx.assumption.latency_of, ctx.confidence
    # the whole run's trust, series and notes; its figures are each side's, below
    whole = load_measurements(run, confidence, latency_of, decision_rule(spec).max_lag_s, ())
    records = {side: side_record(run.record, layout, side) for side in (BASELINE, CANDIDATE)}
    values = _side_values(records, Reading(confidence, latency_of))
    found = Measurements(
        values={**values[CANDIDATE], "generator.cpu.peak": whole.values["generator.cpu.peak"]},
        series=whole.series,
        notes=whole.notes,
        untrusted=whole.untrusted,
        untrusted_except=whole.untrusted_except,
        untrusted_fails_stand=whole.untrusted_fails_stand,
    )
    found.stopping = stopping_of(run, plan, None)
    for row in found.series["load"]["per_second"]:
        window = row["t"] - round(layout.measure_start_s)
        row["side"] = SIDES[layout.side_of_window(window)] if window >= 0 else None
    samples = [side_sample(run.record, layout, s, latency_of) for s in (BASELINE, CANDIDATE)]
    resampled = [m for m in DELTA_METRICS if m != "errors.rate"]  # errors: errors_change
    found.changes = delta_intervals(*samples, confidence, resampled)
    found.changes["errors.rate"] = errors_change(records, confidence, latency_of)
    names = (ctx.scenario.target or "baseline", compare.candidate)
    found.series["compare"] = compare_series(layout, run.record, records, values, names, latency_of)
    found.notes.append(layout_note(layout, names))
    found.error = _no_answer(records[BASELINE], "baseline") or _no_answer(
        records[CANDIDATE], "candidate"
    )
    if compare.predictions is not None and found.error is None:
        urls = (ctx.target.url, candidate.url)
        found.merge(
            run_predictions(
                urls, names, plan.requests, compare, ctx.scenario.path, spec.timeout, confidence
            )
        )
    return found
