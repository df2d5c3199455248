"""What every Locust process of infratest records and streams, whoever starts its users.

The single-process child (:mod:`infratest.workloads.locust_child`) and a worker of a
distributed run (:mod:`infratest.workloads.locust_worker`) record requests the same way:
from Locust's `request` event into per-second HdrHistograms, with the requests in flight,
the event loop's lag and (rate mode) the arrival tally, streamed as a `Tick` once a second
and closed by one `Final`. They differ only in who spawns the users and where the lines go,
which is what the subclasses say. Imported only inside a Locust process.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from typing import Any

import gevent
import gevent.event
from gevent import monkey

from infratest.traces import TracedRequest
from infratest.workloads.arrival_ledger import ArrivalLedger
from infratest.workloads.body_pool import BodyPools
from infratest.workloads.llm_client import LLM_KEY
from infratest.workloads.load_plan import LoadPlan, RequestSpec
from infratest.workloads.locust_open import scheduled_latency
from infratest.workloads.locust_own_user import describe_failure
from infratest.workloads.locust_users import InFlight, error_key, failure_example
from infratest.workloads.recorder import WindowRecorder
from infratest.workloads.sent_sizes import merge_sizes
from infratest.workloads.trace_context import TRACE_KEY
from infratest.workloads.trace_ledger import TraceLedger
from infratest.workloads.wire import Final, Tick

DRAIN_CAP_S = 3.0  # longest wait for in-flight requests once the run is over
WATCHDOG_MARGIN_S = 5.0
EXIT_WATCHDOG = 3
LAG_PERIOD_S = 0.05  # the event loop is asked to wake every 50 ms; lateness is its lag

real_sleep = monkey.get_original("time", "sleep")
real_start_thread = monkey.get_original("_thread", "start_new_thread")
real_lock = monkey.get_original("_thread", "allocate_lock")


class RunRecording:
    """One plan's recording in this process; subclasses start the users and send lines."""

    runner: Any  # the Locust runner whose users send the requests
    worker_name: str | None = None  # set by a worker of a distributed run
    serving = False  # set in a warm child, which outlives its runs

    def __init__(self, plan: LoadPlan) -> None:
        self.plan = plan
        self.measure_start = plan.measure_start_s
        self.recorder = WindowRecorder(self.measure_start)
        self.traces = TraceLedger()
        self.arrivals = ArrivalLedger(self.measure_start)  # rate mode: the schedule's tally
        self.in_flight = InFlight()
        self.drain_s = min(plan.timeout_s, DRAIN_CAP_S)
        self.started_at = time.time()
        self.measure_end = float(plan.duration_s)
        self.stop_event = gevent.event.Event()
        self.hurry = gevent.event.Event()
        self.signalled: str | None = None
        self.reason = "duration reached"
        self.lags: list[float] = []
        self.write_lock = real_lock()
        self.finished = False
        self.body_pools: list[BodyPools] = []  # every user's pools: their sends are counted
        self.user_errors = 0
        self.first_user_error = ""

    # -- what subclasses say -------------------------------------------------------------
    def send(self, message: Tick | Final) -> None:
        """Hand one message on (a JSON line on stdout, or to the master)."""
        raise NotImplementedError

    def identity(self) -> dict[str, Any]:
        """Extra Tick fields naming this process (a worker's name and CPU); none by default."""
        return {}

    # -- recording -----------------------------------------------------------------------
    def pools_for(self, specs: list[RequestSpec], worker_index: int = 0) -> BodyPools:
        """Body pools for a user (or scheduler) of this process, whose sends the final line
        counts by body size."""
        pools = BodyPools(specs, worker_index)
        self.body_pools.append(pools)
        return pools

    def on_request(self, response_time: float, name: str, response: Any = None, **kw: Any) -> None:
        """`request` event listener: every finished request, failed or not."""
        latency = float(response_time) / 1000.0
        start_abs = kw.get("start_time") or (time.time() - latency)
        start_abs, latency = scheduled_latency(kw.get("context"), start_abs, latency)
        start = start_abs - self.started_at
        if start >= self.plan.duration_s or (
            self.stop_event.is_set() and start >= self.measure_end
        ):
            return  # sent after the measured window (the body tally leaves it out too)
        exc = kw.get("exception")
        failure = None
        example = ""
        status = int(getattr(response, "status_code", 0) or 0)
        if exc is not None:
            failure, example = error_key(status, exc), failure_example(exc)
        llm = kw["context"].get(LLM_KEY) if isinstance(kw.get("context"), dict) else None
        self.recorder.record(start, latency, failure, example, name, llm)
        self._trace(kw.get("context"), start_abs, start, latency, name, status, failure)

    def _trace(
        self,
        context: Any,
        start_abs: float,
        start: float,
        latency: float,
        name: str,
        status: int,
        failure: str | None,
    ) -> None:
        """A measured request's trace, for the lists of failed and slowest ones."""
        trace_id = context.get(TRACE_KEY) if isinstance(context, dict) else None
        if trace_id is None or start < self.measure_start:
            return
        if not self.traces.wants(latency, failure is not None):
            return
        self.traces.record(
            TracedRequest(
                trace_id=trace_id,
                at=round(start_abs, 6),
                t_s=round(start - self.measure_start, 6),
                request=name,
                status=status,
                latency_s=round(latency, 6),
                error=failure,
            )
        )

    def on_user_error(self, exception: BaseException, **kw: Any) -> None:
        """`user_error` event listener: a user class's own code raised (not a request)."""
        self.user_errors += 1
        self.first_user_error = self.first_user_error or describe_failure(exception)

    def tick_loop(self) -> None:
        """Once a second: hand on the new windows, what is in flight, and the lag."""
        second = 1
        while not self.stop_event.is_set():
            delay = self.started_at + second - time.time()
            if self.stop_event.wait(timeout=max(delay, 0.0)):
                return
            self.emit_tick()
            second += 1

    def emit_tick(self) -> None:
        now = time.time() - self.started_at
        lags, self.lags = self.lags, []
        tick = Tick(
            t=round(now, 3),
            users=self.runner.user_count,
            windows=self.recorder.flush(),
            in_flight=self.in_flight.measured(self.measure_start, self.measure_end),
            lag_s=tuple(round(x, 6) for x in lags),
            warmup_requests=self.recorder.warmup_requests,
            arrivals=self.arrivals.flush() if self.plan.open_model else None,
            **self.identity(),
        )
        self.send(tick)

    def lag_loop(self) -> None:
        """How late the event loop wakes: when users keep it busy, send times slip."""
        while not self.stop_event.is_set():
            asked = time.perf_counter()
            gevent.sleep(LAG_PERIOD_S)
            self.lags.append(max(time.perf_counter() - asked - LAG_PERIOD_S, 0.0))

    def watchdog(self) -> None:
        """Real OS thread: if the run is still alive long past its end, flush and exit hard
        (a warm child that has finished the run and gone on to the next one stays)."""
        real_sleep(self.plan.duration_s + self.plan.timeout_s + WATCHDOG_MARGIN_S)
        if self.finished and self.serving:
            return
        if not self.finished:
            self.signalled = self.signalled or "watchdog"
            self.reason = "watchdog: the run did not end in time; " + self.reason
            self.finish()
        flush_and_exit(EXIT_WATCHDOG)

    def finish(self) -> None:
        """The last tick (what drained) and the final line, once."""
        if not self.write_lock.acquire(timeout=10.0):
            return
        try:
            if self.finished:
                return
            self.emit_tick()
            reason = self.reason
            if self.recorder.first_error:
                reason += f" (first error: {self.recorder.first_error})"
            final = Final(
                started_at=self.started_at,
                measure_start=self.measure_start,
                measure_end=self.measure_end,
                ended_at=round(time.time() - self.started_at, 6),
                unfinished=self.in_flight.measured(self.measure_start, self.measure_end),
                examples=self.recorder.examples,
                request_names=[str(r.name) for r in self.plan.requests],
                signalled=self.signalled,
                reason=reason,
                worker=self.worker_name,
                traces=self.traces.lists().to_dict(),
                body_sizes=merge_sizes(p.sent_sizes() for p in self.body_pools),
                user_errors=self.user_errors,
                first_user_error=self.first_user_error,
            )
            self.send(final)
            self.finished = True
        finally:
            self.write_lock.release()


def print_line(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def flush_and_exit(code: int) -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
