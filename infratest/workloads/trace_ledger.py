"""Fills the results' `traces` inside a Locust process from the `request` event: the first
failed and the slowest measured requests, `KEEP` of each, however long the run."""

from __future__ import annotations

import heapq
import itertools

from infratest.traces import KEEP, TracedRequest, TraceLists


class TraceLedger:
    """Keeps the first `KEEP` failed and the `KEEP` slowest measured requests."""

    def __init__(self) -> None:
        self.failed: list[TracedRequest] = []
        self._slowest: list[tuple[float, int, TracedRequest]] = []  # a min-heap by latency
        self._order = itertools.count()

    def wants(self, latency_s: float, failed: bool) -> bool:
        """Whether a request like that would enter a list (most do not: checked before one
        is built, on every request)."""
        if failed and len(self.failed) < KEEP:
            return True
        return len(self._slowest) < KEEP or latency_s > self._slowest[0][0]

    def record(self, request: TracedRequest) -> None:
        if request.error is not None and len(self.failed) < KEEP:
            self.failed.append(request)
        entry = (request.latency_s, next(self._order), request)
        if len(self._slowest) < KEEP:
            heapq.heappush(self._slowest, entry)
        elif request.latency_s > self._slowest[0][0]:
            heapq.heapreplace(self._slowest, entry)

    def lists(self) -> TraceLists:
        slowest = sorted(self._slowest, key=lambda e: (-e[0], e[1]))
        failed = sorted(self.failed, key=lambda t: t.at)  # kept as they finished
        return TraceLists(tuple(failed), tuple(e[2] for e in slowest))
