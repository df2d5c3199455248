"""Open-model load inside Locust: one "scheduler user" per generator process sends requests at
the times of an arrival schedule, whether or not earlier ones have answered.

Imported only inside the Locust child (after `locust` has patched the process). The schedule
runs inside gevent: the scheduler sleeps until each arrival is due and spawns one greenlet for
it from a bounded pool (`max_in_flight`), using the user's client. Each request carries its
scheduled time in Locust's request `context`, so the child's `request` listener measures
latency from the schedule (a stall then shows in the percentiles: no coordinated omission) and
files the request under the window it was *due* in.

When the pool is full at an arrival, the scheduler waits for a slot (bounded by the stop), so
the request goes out late and its latency shows the wait; such arrivals are counted as
`capped`, never dropped silently. Arrivals due before the run stopped but never sent are
counted as `unsent` (censored from their scheduled time by the parent).
"""

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final

import gevent
import gevent.pool
from locust import FastHttpUser, HttpUser, User, constant
from requests.adapters import HTTPAdapter

from infratest.workloads.load_plan import LoadPlan
from infratest.workloads.send_choice import Send, send_choice

if TYPE_CHECKING:
    from infratest.workloads.run_recording import RunRecording

SCHEDULED_KEY: Final = "infratest_scheduled"  # request context: scheduled send time (epoch s)
SENT_AT_KEY: Final = "infratest_sent_at"  # closed model: when the user picked it (epoch s)
SLOT_POLL_S = 0.002  # how often a scheduler waiting for a free slot looks again


def scheduled_latency(context: Any, start_time: float, response_s: float) -> tuple[float, float]:
    """(start, latency) of a finished request, both from its scheduled send time when the
    request carries one (open model), else from when it was actually sent. A closed-model
    request is filed under the time its user picked it (the clock its body was counted and
    its in-flight entry started by), its latency left as Locust measured it."""
    if not isinstance(context, dict):
        return start_time, response_s
    scheduled = context.get(SCHEDULED_KEY)
    if scheduled is None:
        return float(context.get(SENT_AT_KEY, start_time)), response_s
    return float(scheduled), max(start_time + response_s - float(scheduled), 0.0)


class _Scheduler:
    """Walks one worker's arrival schedule and sends each arrival through a bounded pool."""

    def __init__(self, plan: LoadPlan, run: "RunRecording", user: Any, worker_index: int) -> None:
        self.plan, self.run, self.user = plan, run, user
        self.arrivals: Iterator[float] = iter(plan.schedule(worker_index).times())
        self.pool = gevent.pool.Pool(plan.in_flight_cap)
        pools = run.pools_for(list(plan.requests), worker_index)
        self.sends = send_choice(plan, worker_index, pools)
        from infratest.workloads.llm_client import sender_for  # it imports this module

        self.sender = sender_for(plan)
        self.fast = plan.user_class == "fast"
        self.catching_up = False  # still late from an earlier wait for a slot

    def drive(self) -> None:
        """Send every arrival on time until the schedule ends or the run stops; then count
        what was due but never sent."""
        run = self.run
        for offset in self.arrivals:
            delay = run.started_at + offset - time.time()
            if delay > 0:
                self.catching_up = False
                if run.stop_event.wait(timeout=delay):
                    return self._count_unsent(offset)
            elif run.stop_event.is_set():
                return self._count_unsent(offset)
            else:
                gevent.sleep(0)  # overdue: still let the requests in flight run
            capped = self._wait_for_slot(offset) or self.catching_up
            if capped is None:
                return self._count_unsent(offset)
            self.catching_up = capped
            self.pool.spawn(self._fire, offset, capped, self.sends.next_send(offset))

    def _wait_for_slot(self, offset: float) -> bool | None:
        """False when a slot was free; True after waiting for one; None when the run stopped
        first. The waiting arrival counts as in flight from its scheduled time."""
        if not self.pool.full():
            return False
        self.run.in_flight.begin(offset)
        try:
            while self.pool.full():
                if self.run.stop_event.is_set():
                    return None
                self.pool.wait_available(timeout=SLOT_POLL_S)
        finally:
            self.run.in_flight.end()
        return True

    def _count_unsent(self, pending: float) -> None:
        """Arrivals due before the stop (and inside the duration) that never went out."""
        run = self.run
        stop_at = min(time.time() - run.started_at, float(self.plan.duration_s))
        offset: float | None = pending
        while offset is not None and offset < stop_at:
            run.arrivals.unsent(offset)
            offset = next(self.arrivals, None)

    def _fire(self, offset: float, capped: bool, send: Send) -> None:
        """One arrival's request, timed from its schedule (failures come through the event)."""
        run = self.run
        run.arrivals.sent(offset, time.time() - run.started_at, capped)
        kwargs = send.kwargs
        kwargs["context"] = {SCHEDULED_KEY: run.started_at + offset}
        if not self.fast:
            kwargs["timeout"] = self.plan.timeout_s
        run.in_flight.begin(offset)
        try:
            self.sender(self.user.client, send.spec.method, send.url, send.check, **kwargs)
        finally:
            run.in_flight.end()


def build_scheduler_class(plan: LoadPlan, run: "RunRecording", worker_index: int = 0) -> type[User]:
    """A Locust user class whose one task runs worker `worker_index`'s arrival schedule."""
    fast = plan.user_class == "fast"
    cap = plan.in_flight_cap

    def run_schedule(user: Any) -> None:
        if run.stop_event.is_set():
            gevent.sleep(0.05)
            return
        scheduler = _Scheduler(plan, run, user, worker_index)
        try:
            scheduler.drive()
            run.stop_event.wait()  # the schedule is over: the run ends at its duration
            scheduler.pool.join(timeout=run.drain_s)  # let answers on their way arrive
        finally:  # also when the runner kills this user: what is unfinished is censored
            scheduler.pool.kill(block=False)

    def on_start(user: Any) -> None:
        if not fast:  # requests keeps only 10 connections per host unless told otherwise
            user.client.mount("http://", HTTPAdapter(pool_connections=1, pool_maxsize=cap))

    attrs: dict[str, Any] = {
        "host": plan.host,
        "tasks": [run_schedule],
        "abstract": False,
        "wait_time": constant(0),
        "on_start": on_start,
    }
    if fast:
        attrs["network_timeout"] = plan.timeout_s
        attrs["connection_timeout"] = plan.timeout_s
        attrs["concurrency"] = cap
    # named like the closed-model class: a distributed master spawns users by this name
    return type("PlanUser", (FastHttpUser if fast else HttpUser,), attrs)
