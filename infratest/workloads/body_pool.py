"""Each send's body, for requests whose bodies were drawn or read before the run: encoded
once, then taken at random (seeded, a different stream per generator process) or in the
file's order, round and round; and the check of each answer (`validate`). Used inside the
Locust processes."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence

from infratest.workloads.answer_check import AnswerCheck
from infratest.workloads.load_plan import RequestSpec


class BodyPool:
    """One request's bodies, ready to send."""

    def __init__(self, spec: RequestSpec, worker_index: int = 0) -> None:
        self.encoded = [json.dumps(body) for body in spec.bodies]
        self.in_order = spec.body_order == "file"
        self.rng = random.Random(spec.body_seed * 1_000_003 + worker_index)
        self.position = 0

    def next(self) -> str:
        """The next body to send."""
        if self.in_order:
            body = self.encoded[self.position % len(self.encoded)]
            self.position += 1
            return body
        return self.rng.choice(self.encoded)


class BodyPools:
    """The pools of a plan's requests, found by the request spec a user picked."""

    def __init__(self, specs: Sequence[RequestSpec], worker_index: int = 0) -> None:
        self.pools = {id(s): BodyPool(s, worker_index) for s in specs if s.bodies}
        self.checks = {id(s): AnswerCheck(s) for s in specs}

    def check(self, spec: RequestSpec) -> AnswerCheck:
        """What `spec` accepts as an answer (`validate`)."""
        return self.checks[id(spec)]

    def kwargs_for(self, spec: RequestSpec) -> dict:
        """The client keyword arguments of one send of `spec`, its body taken from its pool."""
        kwargs = spec.client_kwargs()
        pool = self.pools.get(id(spec))
        if pool is not None:
            kwargs["data"] = pool.next()
        return kwargs
