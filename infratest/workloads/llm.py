"""The `llm` workload: a load whose one request is an OpenAI-compatible completion, sent by
a streaming client that times each token. Planned, watched, stopped early and measured like
a load (the same recorder, monitor and workers); its own figures ride in the same ticks."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from infratest.measurements import MeasurementError, Measurements
from infratest.spec.llm_prompts import PromptsError, prompts_for
from infratest.spec.llm_section import LlmSpec, slo_kind
from infratest.units import Condition
from infratest.workloads.context import WorkloadContext
from infratest.workloads.fleet import fleet_settings
from infratest.workloads.llm_plan import LlmPlan
from infratest.workloads.load import decision_rule, open_model_plan, unanswered_reason, watched_run
from infratest.workloads.load_plan import LoadPlan, RequestSpec
from infratest.workloads.load_record import LoadRecord
from infratest.workloads.sse import ANSWER_KINDS


def slo_bounds(slo: Mapping[str, Condition]) -> dict[str, tuple[float, bool]]:
    """Each per-request figure's tightest upper bound (seconds, inclusive?) over the SLO."""
    bounds: dict[str, tuple[float, bool]] = {}
    for metric, condition in slo.items():
        kind = slo_kind(metric)
        assert kind is not None  # validated
        bound = (condition.bound, condition.op == "<=")
        bounds[kind] = min(bounds.get(kind, bound), bound, key=lambda b: (b[0], b[1]))
    return bounds


def llm_plan(spec: LlmSpec, url: str, max_in_flight_limit: int) -> LoadPlan:
    """The load plan of an llm section against the target at `url`."""
    try:
        prompts = prompts_for(spec)
    except PromptsError as exc:
        raise MeasurementError(f"llm: {exc}") from None
    llm = LlmPlan(
        api=spec.api,
        prompts=tuple(prompts),
        model=spec.model,
        max_tokens=spec.max_tokens,
        stream=spec.stream,
        temperature=spec.temperature,
        slo=slo_bounds(spec.slo),
    )
    request = RequestSpec(
        method="POST", path=spec.url_path, headers=dict(spec.headers), name=f"{spec.api}"
    )
    plan = LoadPlan(
        host=url,
        requests=(request,),
        users=spec.users or 1,
        ramp_s=spec.ramp,
        duration_s=spec.duration,
        warmup_s=spec.warmup,
        timeout_s=spec.timeout,
        user_class="fast",
        llm=llm,
    )
    if spec.rate is not None:
        plan = open_model_plan(plan, spec, max_in_flight_limit)
    return plan


def llm_notes(record: LoadRecord, spec: LlmSpec, prompts: int) -> list[str]:
    """Where the token counts came from, what TTFT/ITL mean here, what goodput asked."""
    answers, from_usage = record.llm.total("llm.answers"), record.llm.total("llm.usage")
    source = (
        "the server's usage.completion_tokens"
        if answers and from_usage == answers
        else "content chunks counted (the server sent no usage)"
        if not from_usage and spec.stream
        else "characters ÷ 4 (no usage in the answers)"
        if not from_usage
        else f"usage for {from_usage} of {answers} answers, chunks for the rest"
    )
    sent = f"{prompts} prompts ({spec.prompts or f'generated, ~{spec.prompt_tokens} tokens'})"
    notes = [f"llm {spec.api}: {sent}, max_tokens {spec.max_tokens}; output tokens from {source}"]
    if spec.stream:
        notes.append(
            "TTFT: send → first non-empty content chunk; ITL: gaps between later content "
            "chunks (the first token excluded), each gap a sample; both over answered requests"
        )
    else:
        notes.append("stream: false: e2e only; TTFT and ITL are not measured")
    if spec.slo:
        asked = ", ".join(f"{m} {c.text}" for m, c in spec.slo.items())
        notes.append(
            f"goodput: answered requests meeting {asked} on their own figures "
            "(ITL: the request's mean gap)"
        )
    return notes


def run_llm_workload(ctx: WorkloadContext) -> Measurements:
    """The whole `llm` workload against the context's target."""
    spec = ctx.assumption.llm
    assert spec is not None and ctx.target is not None
    plan = llm_plan(spec, ctx.target.url, ctx.max_in_flight_limit)
    fleet = fleet_settings(spec.workers, ctx.generators)
    if fleet is not None:  # rate mode: one scheduler user per worker, each its share
        users = fleet.workers if plan.open_model else plan.users
        plan = dataclasses.replace(plan, workers=fleet.workers, users=users)
    run, found = watched_run(
        plan, ctx.assumption.expect, decision_rule(spec), ctx, ctx.progress, fleet
    )
    assert plan.llm is not None
    found.notes += llm_notes(run.record, spec, len(plan.llm.prompts))
    found.series["load"]["llm"] = {
        "api": spec.api,
        "stream": spec.stream,
        "answers": run.record.llm.total("llm.answers"),
        "tokens": run.record.llm.total("llm.tokens"),
        "tokens_from_usage": run.record.llm.total("llm.usage"),
        "good": run.record.llm.total("llm.good"),
    }
    reason = unanswered_reason(run)
    if reason and not set(run.record.outcomes.kinds) & set(ANSWER_KINDS):  # it did answer
        found.error = reason
    return found
