"""What an open-model arrival sends: a request picked from the plan's mix by weight (its body
from its pool), or, in a replay, the recorded request due at that arrival. Used inside the
Locust processes; imports no Locust."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from infratest.workloads.answer_check import AnswerCheck
from infratest.workloads.body_pool import BodyPools
from infratest.workloads.load_plan import LoadPlan, RequestSpec
from infratest.workloads.replay_timeline import NO_BODY


@dataclass(frozen=True)
class Send:
    """One request ready to go: the spec it is filed under, where it goes, its client
    arguments, and what its answer must be."""

    spec: RequestSpec
    url: str
    kwargs: dict[str, Any]
    check: AnswerCheck


class SendChoice(Protocol):
    def next_send(self, offset_s: float) -> Send:
        """What the arrival due `offset_s` seconds into the run sends."""
        ...


class MixSends:
    """The plan's request mix: a request by weight, its body from its pool, its host the
    compare block's."""

    def __init__(self, plan: LoadPlan, pools: BodyPools) -> None:
        self.plan = plan
        self.specs = list(plan.requests)
        self.weights = [r.weight for r in self.specs]
        self.pools = pools

    def next_send(self, offset_s: float) -> Send:
        spec = (
            self.specs[0] if len(self.specs) == 1 else random.choices(self.specs, self.weights)[0]
        )
        url = self.plan.url_at(spec.path, offset_s)
        measured = self.plan.measure_start_s <= offset_s < self.plan.duration_s
        kwargs = self.pools.kwargs_for(spec, measured)  # a measured send's body size counts
        return Send(spec, url, kwargs, self.pools.check(spec))


class ReplaySends:
    """A replay: this worker's recorded requests in the order of its schedule (the scheduler
    asks once per arrival, in order, so the n-th ask is the n-th recorded request)."""

    def __init__(self, plan: LoadPlan, worker_index: int) -> None:
        assert plan.replay is not None
        self.timeline = plan.replay
        self.specs = plan.requests
        self.checks = [AnswerCheck(s) for s in self.specs]
        self.positions: Iterator[int] = iter(
            self.timeline.worker_events(worker_index, plan.workers)
        )

    def next_send(self, offset_s: float) -> Send:
        timeline, position = self.timeline, next(self.positions)
        index = timeline.requests[position]
        spec = self.specs[index]
        kwargs = spec.client_kwargs()
        body = timeline.bodies[position]
        if body != NO_BODY:
            kwargs["data"] = timeline.payloads[body]
        return Send(spec, timeline.urls[timeline.targets[position]], kwargs, self.checks[index])


def send_choice(plan: LoadPlan, worker_index: int, pools: BodyPools) -> SendChoice:
    """How this worker's arrivals pick what they send (a mix's bodies from `pools`)."""
    if plan.replay is not None:
        return ReplaySends(plan, worker_index)
    return MixSends(plan, pools)
