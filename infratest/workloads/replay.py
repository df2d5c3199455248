"""The `replay` workload: a recorded traffic file sent again at its recorded times × `speed`,
as an open-model load (each request timed from when it was due), watched and measured like a
load."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

from infratest.hosts import HostNotAllowed, check_allowed
from infratest.measurements import MeasurementError, Measurements
from infratest.spec.loader import display_path
from infratest.spec.replay_section import ReplaySpec
from infratest.spec.traffic_file import TrafficFileError, read_traffic
from infratest.workloads.context import WorkloadContext
from infratest.workloads.fleet import fleet_settings
from infratest.workloads.load import unanswered_reason, watched_run
from infratest.workloads.load_plan import LoadPlan
from infratest.workloads.monitor import DecisionRule
from infratest.workloads.replay_plan import replay_plan


def _plan(spec: ReplaySpec, ctx: WorkloadContext) -> LoadPlan:
    assert ctx.target is not None
    try:
        traffic = read_traffic(Path(spec.file))
        plan = replay_plan(traffic, spec, ctx.target.url, ctx.max_in_flight_limit)
    except (TrafficFileError, ValueError) as exc:
        raise MeasurementError(f"replay: {exc}") from None
    assert plan.replay is not None
    for url in plan.replay.urls:  # recorded hosts, when kept, pass the allow-list too
        if url.startswith(("http://", "https://")):
            try:
                check_allowed(url, ctx.allow_hosts)
            except HostNotAllowed as exc:
                raise MeasurementError(f"replay: {exc}") from None
    return plan


def replay_notes(plan: LoadPlan, spec: ReplaySpec) -> list[str]:
    """What was replayed: how many requests of which kinds, how fast, from where."""
    timeline = plan.replay
    assert timeline is not None
    kinds = Counter(plan.requests[i].name for i in timeline.requests)
    mix = ", ".join(f"{name} ×{n}" for name, n in kinds.most_common(6))
    more = f" and {len(kinds) - 6} more kinds" if len(kinds) > 6 else ""
    where = "their recorded hosts" if spec.hosts == "recorded" else "the target"
    return [
        f"replayed {len(timeline.offsets)} recorded requests of {display_path(spec.file)} at "
        f"{spec.speed:g}× "
        f"speed over {plan.duration_s:g} s to {where}: {mix}{more}"
    ]


def run_replay_workload(ctx: WorkloadContext) -> Measurements:
    """The whole `replay` workload against the context's target."""
    spec = ctx.assumption.replay
    assert spec is not None and ctx.target is not None
    plan = _plan(spec, ctx)
    fleet = fleet_settings(spec.workers, ctx.generators)
    if fleet is not None:  # one scheduler per worker, each every n-th recorded request
        plan = dataclasses.replace(plan, workers=fleet.workers, users=fleet.workers)
    rule = DecisionRule(fail_fast=spec.fail_fast, until_decided=False, max_lag_s=spec.max_lag)
    run, found = watched_run(plan, ctx.assumption.expect, rule, ctx, ctx.progress, fleet)
    found.series["load"]["replay"] = {
        "file": display_path(spec.file),
        "speed": spec.speed,
        "requests": len(plan.replay.offsets) if plan.replay else 0,
        "kinds": [r.name for r in plan.requests],
    }
    found.notes += replay_notes(plan, spec)
    reason = unanswered_reason(run)
    if reason:
        found.error = reason
    return found
