"""What the simulated users send: Locust user classes built from a load plan.

Imported only inside the Locust child (after `locust` has patched the process), never by the
parent. The run loop (:mod:`infratest.workloads.locust_child`) owns timing and streaming; this
module owns the request behaviour: which request, how it is sent, and what counts as in flight.
"""

import time
from typing import TYPE_CHECKING, Any

import gevent
from locust import FastHttpUser, HttpUser, User, between, constant

from infratest.workloads.answer_check import AnswerRejected, send_checked
from infratest.workloads.llm_client import sender_for
from infratest.workloads.load_plan import LoadPlan
from infratest.workloads.locust_open import SCHEDULED_KEY, SENT_AT_KEY, build_scheduler_class
from infratest.workloads.locust_own_user import ForeignHost, own_user_class
from infratest.workloads.recorder import EXAMPLE_CHARS
from infratest.workloads.send_choice import MixSends, Send
from infratest.workloads.sse import StreamError

if TYPE_CHECKING:
    from infratest.workloads.run_recording import RunRecording


def error_key(status: int, exc: BaseException) -> str:
    """Group failures by what a person would act on: the HTTP status, timeout, or error type
    (or, for an answer `validate` rejected, what was wrong with it)."""
    if isinstance(exc, AnswerRejected | ForeignHost | StreamError):
        return exc.key
    if status >= 400:
        return f"HTTP {status}"
    text = str(exc).lower()
    if isinstance(exc, TimeoutError) or "timeout" in type(exc).__name__.lower():
        return "timeout"
    if "timed out" in text:
        return "timeout"
    return type(exc).__name__


def failure_example(exc: BaseException) -> str:
    if isinstance(exc, AnswerRejected):
        return exc.example[:EXAMPLE_CHARS]
    return f"{type(exc).__name__}: {exc}"[:EXAMPLE_CHARS]


class InFlight:
    """Start times of the requests being sent now, one per user greenlet (closed model)."""

    def __init__(self) -> None:
        self.starts: dict[int, float] = {}

    def begin(self, start_s: float) -> None:
        self.starts[id(gevent.getcurrent())] = start_s

    def end(self) -> None:
        self.starts.pop(id(gevent.getcurrent()), None)

    def measured(self, measure_start: float, measure_end: float) -> tuple[float, ...]:
        return tuple(round(s, 6) for s in self.starts.values() if measure_start <= s < measure_end)


def _send(client: Any, send: Send, plan: LoadPlan, now: float, sender: Any = send_checked) -> None:
    """Issue one request picked at `now` (epoch s); failures are reported through Locust's
    `request` event. The request is filed under `now`, the time its body is counted by and
    its in-flight entry began at, so its window is the same in all three. In a compare the
    host follows the block that time falls in, so the parent's split by window is exact."""
    kwargs = send.kwargs
    if plan.user_class != "fast":
        kwargs["timeout"] = plan.timeout_s
    kwargs["context"] = {SCHEDULED_KEY if plan.compare_hosts else SENT_AT_KEY: now}
    sender(client, send.spec.method, send.url, send.check, **kwargs)


def build_user_class(plan: LoadPlan, run: "RunRecording", worker_index: int = 0) -> type[User]:
    """A Locust user class whose single task picks a request from the plan by weight (in rate
    mode: the scheduler user of :mod:`infratest.workloads.locust_open`; with a user class of
    the scenario's own, that class, wrapped by :mod:`infratest.workloads.locust_own_user`).
    Raises UserClassLoadError when that class cannot run."""
    if plan.own_user:
        return own_user_class(plan, run)
    if plan.open_model:
        return build_scheduler_class(plan, run, worker_index)
    fast = plan.user_class == "fast"
    mix = MixSends(plan, run.pools_for(list(plan.requests), worker_index))
    sender = sender_for(plan)

    def send(user: Any) -> None:
        now = time.time()
        since_start = now - run.started_at
        # The measured window is over (its timer may have fired a moment before the run
        # loop got to set the event): send nothing more, so every request sent is counted.
        if run.stop_event.is_set() or since_start >= plan.duration_s:
            gevent.sleep(0.05)
            return
        run.in_flight.begin(since_start)
        try:
            _send(user.client, mix.next_send(since_start), plan, now, sender)
        finally:
            run.in_flight.end()

    attrs: dict[str, Any] = {"host": plan.host, "tasks": [send], "abstract": False}
    if plan.wait_max_s > 0:
        attrs["wait_time"] = between(plan.wait_min_s, plan.wait_max_s)
    else:
        attrs["wait_time"] = constant(0)
    if fast:
        attrs["network_timeout"] = plan.timeout_s
        attrs["connection_timeout"] = plan.timeout_s
    return type("PlanUser", (FastHttpUser if fast else HttpUser,), attrs)
