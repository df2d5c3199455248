"""The `load` workload with `compare`: the same load against the baseline (the scenario's
target) and a candidate, alternating in ABBA blocks within one generator run, then the
candidate's own figures, its changes from the baseline with intervals, per-block figures,
and (with `predictions`) whether the two answer the same inputs the same way."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from infratest.deltas import DELTA_METRICS, Delta, delta_intervals
from infratest.measurements import MeasurementError, Measurements
from infratest.spec.compare_section import CompareSpec
from infratest.spec.inputs_file import InputsError, inputs_path, read_inputs
from infratest.stats import Interval, exact, proportion_interval
from infratest.windows import proportion_once_over_windows
from infratest.workloads.compare_split import block_figures, side_record, side_sample
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
from infratest.workloads.load_plan import LoadPlan, RequestSpec
from infratest.workloads.load_record import LoadRecord
from infratest.workloads.prediction_check import PredictionComparison, compare_predictions
from infratest.workloads.rounds import BASELINE, CANDIDATE, SIDES, RoundLayout

SIDES_AB = (BASELINE, CANDIDATE)
CDF_POINTS = 101
PREDICTION_BUDGET_S = 120.0


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


def _cdf(record: LoadRecord, latency_of: str) -> list[list[float]]:
    """The side's latency distribution at 101 quantiles, for the overlaid plot."""
    source = record.successful if latency_of == "successful" else record.everything
    values, counts = source.pooled()
    if not counts.size:
        return []
    cumulative = np.cumsum(counts) / counts.sum()
    qs = np.linspace(0.0, 1.0, CDF_POINTS)
    at = np.minimum(np.searchsorted(cumulative, qs, side="left"), values.size - 1)
    return [[float(values[i]), float(q)] for i, q in zip(at, qs, strict=True)]


def _no_answer(record: LoadRecord, name: str) -> str | None:
    """A side that got no HTTP answer at all is down: say how it failed."""
    outcomes = record.outcomes
    if outcomes.total_ok > 0 or any(k.startswith("HTTP ") for k in outcomes.kinds):
        return None
    if outcomes.kinds:
        key, count = max(outcomes.kinds.items(), key=lambda kv: kv[1])
        return f"the {name} did not answer: {key} ×{count}"
    return f"the {name} did not answer: no request completed"


def _prediction_request(requests: tuple[RequestSpec, ...]) -> RequestSpec:
    """The request predictions are asked with: the load's first that sends JSON (validation
    makes sure there is one)."""
    return next(r for r in requests if r.has_json)


def _prediction_inputs(ctx: WorkloadContext, compare: CompareSpec, plan: LoadPlan) -> list[Any]:
    if compare.inputs is None:
        bodies = [r.json for r in plan.requests if r.has_json]
        distinct = {repr(b): b for b in bodies}
        return list(distinct.values())
    path = inputs_path(ctx.scenario.path, compare.inputs)
    try:
        return read_inputs(path, compare.max_inputs)
    except InputsError as exc:
        raise MeasurementError(str(exc)) from None


def prediction_measurements(
    found: PredictionComparison, confidence: float, names: tuple[str, str]
) -> Measurements:
    """predictions.agreement with its Clopper-Pearson interval, and the rest counted."""
    out = Measurements()
    out.add("predictions.agreement", proportion_interval(found.agreed, found.compared, confidence))
    diff = found.max_abs_diff if found.max_abs_diff is not None else float("nan")
    out.add("predictions.max_abs_diff", exact(diff, confidence, found.compared))
    out.add("predictions.compared", exact(found.compared, confidence, found.compared))
    out.notes.append(
        f"predictions: {found.agreed} of {found.compared} inputs answered the same by "
        f"{names[0]} and {names[1]}"
        + (f"; {found.skipped} not sent within {PREDICTION_BUDGET_S:g}s" if found.skipped else "")
    )
    if found.problems:
        shown = ", ".join(f"{k} ×{n}" for k, n in found.problems.items())
        out.notes.append(f"predictions without an answer (counted as disagreeing): {shown}")
    out.series["predictions"] = found.to_dict()
    return out


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
    run = execute(plan, None, fleet, ctx.allow_hosts)
    latency_of, confidence = ctx.assumption.latency_of, ctx.confidence
    whole = load_measurements(run, confidence, latency_of, decision_rule(spec).max_lag_s)
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
    found.changes = delta_intervals(*samples, confidence, DELTA_METRICS)
    found.changes["errors.rate"] = errors_change(records, confidence)
    names = (ctx.scenario.target or "baseline", compare.candidate)
    found.series["compare"] = _compare_series(layout, run.record, records, values, names, ctx)
    found.notes.append(_layout_note(layout, names))
    found.error = _no_answer(records[BASELINE], "baseline") or _no_answer(
        records[CANDIDATE], "candidate"
    )
    if compare.predictions is not None and found.error is None:
        bodies = _prediction_inputs(ctx, compare, plan)
        request = _prediction_request(plan.requests)
        urls = (ctx.target.url, candidate.url)
        compared = compare_predictions(
            urls, request, bodies, compare, spec.timeout, PREDICTION_BUDGET_S
        )
        found.merge(prediction_measurements(compared, confidence, names))
    return found


def side_errors(record: LoadRecord, confidence: float) -> Interval:
    """One side's failed share, decided once at the end; an unanswered request counts as a
    failure for the upper bound and a success for the lower (it could still go either way)."""
    windows = record.complete_windows
    ok, failed = record.outcomes.per_window(windows)
    censored = record.censored().windows
    unanswered = np.bincount(censored[(censored >= 0) & (censored < windows)], minlength=windows)
    known = proportion_once_over_windows(ok + failed, failed, confidence)
    if not unanswered.any():
        return known
    sent = ok + failed + unanswered
    worst = proportion_once_over_windows(sent, failed + unanswered, confidence)
    best = proportion_once_over_windows(sent, failed, confidence)
    return dataclasses.replace(known, low=best.low, high=worst.high)


def errors_change(records: dict[int, LoadRecord], confidence: float) -> Delta:
    """errors.rate's change from each side's own interval at 1 − α/2 (over windows, so bursts
    count), ends combined: valid at `confidence` by Bonferroni, and never zero-width when
    neither side failed (a bootstrap of no failures would say "+0pp exactly")."""
    each = 1.0 - (1.0 - confidence) / 2.0
    base, cand = (side_errors(records[s], each) for s in SIDES_AB)
    n, method = cand.n + base.n, "bonferroni-windows"
    absolute = Interval(
        cand.value - base.value, cand.low - base.high, cand.high - base.low, confidence, n, method
    )
    relative = Interval(math.nan, -math.inf, math.inf, confidence, n, method)
    if base.value > 0 and base.low > 0:
        ratio = (cand.value / base.value, cand.low / base.high, cand.high / base.low)
        relative = Interval(*(x - 1.0 for x in ratio), confidence, n, method)
    return Delta("errors.rate", base.value, cand.value, absolute, relative)


def _layout_note(layout: RoundLayout, names: tuple[str, str]) -> str:
    order = " ".join("AB"[layout.side_of_block(b)] for b in range(layout.blocks))
    return (
        f"compared {names[1]} (B) with {names[0]} (A) in {layout.rounds} rounds of "
        f"{layout.block_s}s blocks, {order}; figures without a sign are the candidate's own"
    )


def _compare_series(
    layout: RoundLayout,
    whole: LoadRecord,
    records: dict[int, LoadRecord],
    values: dict[int, dict],
    names: tuple[str, str],
    ctx: WorkloadContext,
) -> dict[str, Any]:
    """The results file's `series.compare`: both sides' figures and distributions, and
    every block (drift shows there)."""
    latency_of = ctx.assumption.latency_of
    return {
        "baseline_target": names[0],
        "candidate_target": names[1],
        "rounds": layout.rounds,
        "block_s": layout.block_s,
        "order": [SIDES[layout.side_of_block(b)] for b in range(layout.blocks)],
        "blocks": [row.to_dict() for row in block_figures(whole, layout, latency_of)],
        "baseline": {m: iv.to_dict() for m, iv in values[BASELINE].items()},
        "candidate": {m: iv.to_dict() for m, iv in values[CANDIDATE].items()},
        "requests": {SIDES[s]: r.counts().to_dict() for s, r in records.items()},
        "cdf": {SIDES[s]: _cdf(r, latency_of) for s, r in records.items()},
    }
