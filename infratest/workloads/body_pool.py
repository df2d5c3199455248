"""Each send's body, for requests whose bodies were drawn or read before the run: encoded
once, then taken at random (seeded, a different stream per generator process) or in the
file's order, round and round; how many times each was sent in the measured window (so the
results give the sizes of what was sent, counted by pool entry, nothing encoded per send);
and the check of each answer (`validate`). Used inside the Locust processes."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence

from infratest.workloads.answer_check import AnswerCheck
from infratest.workloads.load_plan import RequestSpec
from infratest.workloads.sent_sizes import SizeCounts, merge_sizes


class BodyPool:
    """One request's bodies, ready to send."""

    def __init__(self, spec: RequestSpec, worker_index: int = 0) -> None:
        self.encoded = [json.dumps(body) for body in spec.bodies]
        self.sizes = [len(text.encode()) for text in self.encoded]
        self.sends = [0] * len(self.encoded)  # measured sends, by pool entry
        self.in_order = spec.body_order == "file"
        self.rng = random.Random(spec.body_seed * 1_000_003 + worker_index)
        self.position = 0

    def next(self, measured: bool = True) -> str:
        """The next body to send, counted when it is sent in the measured window."""
        if self.in_order:
            index = self.position % len(self.encoded)
            self.position += 1
        else:
            index = self.rng.randrange(len(self.encoded))  # the stream rng.choice would draw
        self.sends[index] += measured
        return self.encoded[index]

    def sent_sizes(self) -> dict[str, int]:
        """Measured sends by body size in bytes (as text: JSON object keys)."""
        counts: dict[str, int] = {}
        for size, sends in zip(self.sizes, self.sends, strict=True):
            if sends:
                counts[str(size)] = counts.get(str(size), 0) + sends
        return counts


class BodyPools:
    """The pools of a plan's requests, found by the request spec a user picked."""

    def __init__(self, specs: Sequence[RequestSpec], worker_index: int = 0) -> None:
        self.specs = {id(s): s for s in specs}
        self.pools = {id(s): BodyPool(s, worker_index) for s in specs if s.bodies}
        self.checks = {id(s): AnswerCheck(s) for s in specs}

    def check(self, spec: RequestSpec) -> AnswerCheck:
        """What `spec` accepts as an answer (`validate`)."""
        return self.checks[id(spec)]

    def kwargs_for(self, spec: RequestSpec, measured: bool = True) -> dict:
        """The client keyword arguments of one send of `spec`, its body taken from its pool
        (and counted, when `measured`: the send falls in the measured window)."""
        kwargs = spec.client_kwargs()
        pool = self.pools.get(id(spec))
        if pool is not None:
            kwargs["data"] = pool.next(measured)
        return kwargs

    def sent_sizes(self) -> SizeCounts:
        """Per pooled request name: measured sends by body size."""
        return merge_sizes(
            {str(self.specs[key].name): pool.sent_sizes()} for key, pool in self.pools.items()
        )
