"""Run one load plan with Locust, in a child process, streaming what it measures.

Importing Locust monkey-patches sockets, ssl and threads (gevent) for the whole
process, which breaks or hangs a normal process such as pytest. So Locust is only
ever imported here (as the first thing) and by the modules this one imports
(:mod:`infratest.workloads.locust_users`, the users' request behaviour), in a process of
its own:

    python -m infratest.workloads.locust_child PLAN.json

Locust's own statistics round response times, so every request is recorded from the
`request` event into per-second HdrHistograms (:mod:`infratest.workloads.recorder`).
Once a second a :class:`~infratest.workloads.wire.Tick` line goes to stdout with the new
windows, the requests in flight and the event loop's scheduling lag; a `Final` line ends
the run. SIGUSR1 asks for an early stop that lets requests in flight finish (every check
was decided), SIGUSR2 for one that does not wait (a check failed).
"""

import locust  # noqa: I001  (must run first: it monkey-patches this process)

import contextlib
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import gevent
import gevent.event
from gevent import monkey
from locust.env import Environment

from infratest.workloads.arrival_ledger import ArrivalLedger
from infratest.workloads.load_plan import LoadPlan
from infratest.workloads.locust_open import scheduled_latency
from infratest.workloads.locust_users import InFlight, build_user_class, error_key, failure_example
from infratest.workloads.recorder import WindowRecorder
from infratest.workloads.wire import Final, Tick, encode

DRAIN_CAP_S = 3.0  # longest wait for in-flight requests once the run is over
WATCHDOG_MARGIN_S = 5.0
EXIT_WATCHDOG = 3
LAG_PERIOD_S = 0.05  # the event loop is asked to wake every 50 ms; lateness is its lag

_real_sleep = monkey.get_original("time", "sleep")
_real_start_thread = monkey.get_original("_thread", "start_new_thread")
_real_lock = monkey.get_original("_thread", "allocate_lock")


class ChildRun:
    """One run: start users, stream ticks, stop at the deadline or on a signal, end cleanly."""

    def __init__(self, plan: LoadPlan) -> None:
        self.plan = plan
        self.measure_start = plan.measure_start_s
        self.recorder = WindowRecorder(self.measure_start)
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
        self.write_lock = _real_lock()
        self.finished = False
        self.env = Environment(
            user_classes=[build_user_class(plan, self)],
            events=locust.events,
            host=plan.host,
            stop_timeout=self.drain_s,
        )
        self.env.events.request.add_listener(self.on_request)
        self.runner = self.env.create_local_runner()

    def on_request(self, response_time: float, name: str, response: Any = None, **kw: Any) -> None:
        """`request` event listener: every finished request, failed or not."""
        latency = float(response_time) / 1000.0
        start_abs = kw.get("start_time") or (time.time() - latency)
        start_abs, latency = scheduled_latency(kw.get("context"), start_abs, latency)
        start = start_abs - self.started_at
        if self.stop_event.is_set() and start >= self.measure_end:
            return
        exc = kw.get("exception")
        failure = None
        example = ""
        if exc is not None:
            status = int(getattr(response, "status_code", 0) or 0)
            failure, example = error_key(status, exc), failure_example(exc)
        self.recorder.record(start, latency, failure, example, name)

    def execute(self) -> int:
        """Run the plan to the end (or to a signal) and stream what was measured."""
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGUSR2):
            gevent.signal_handler(sig, self._on_signal, sig)
        self.started_at = time.time()
        _real_start_thread(self._watchdog, ())
        _print_line('{"event":"start","t":0.0}')
        self.runner.start(self.plan.users, spawn_rate=self.plan.spawn_rate)
        greenlets = [gevent.spawn(self._tick_loop), gevent.spawn(self._lag_loop)]
        self.stop_event.wait(timeout=self.plan.duration_s)
        self.measure_end = min(time.time() - self.started_at, float(self.plan.duration_s))
        self.stop_event.set()
        self._stop_runner()
        gevent.killall(greenlets, block=False)
        _print_line(f'{{"event":"end","t":{time.time() - self.started_at:.3f}}}')
        self.finish()
        return 0

    def _on_signal(self, sig: signal.Signals) -> None:
        """SIGUSR1: the parent has decided, stop and let requests in flight finish (within
        the drain). SIGUSR2: a check has failed, stop now. SIGTERM/SIGINT: stop now, keep
        what was measured. Requests still unanswered are reported, not dropped."""
        if sig != signal.SIGUSR1:
            self.env.stop_timeout = None
            self.hurry.set()
        if self.stop_event.is_set():
            return
        if sig in (signal.SIGUSR1, signal.SIGUSR2):
            self.reason = "stopped by the parent: its checks were decided"
        else:
            self.signalled = signal.Signals(sig).name
            self.reason = f"{self.signalled} received"
        self.stop_event.set()

    def _stop_runner(self) -> None:
        """Let in-flight requests finish for at most `drain_s` (none once signalled)."""
        quitter = gevent.spawn(self.runner.quit)
        gevent.wait([quitter, self.hurry], timeout=self.drain_s + 3.0, count=1)
        if not quitter.ready():
            self.runner.user_greenlets.kill(block=False)  # what is unfinished is censored

    def _tick_loop(self) -> None:
        """Once a second: hand the parent the new windows, what is in flight, and the lag."""
        second = 1
        while not self.stop_event.is_set():
            delay = self.started_at + second - time.time()
            if self.stop_event.wait(timeout=max(delay, 0.0)):
                return
            self._emit_tick()
            second += 1

    def _emit_tick(self) -> None:
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
        )
        _print_line(encode(tick))

    def _lag_loop(self) -> None:
        """How late the event loop wakes: when users keep it busy, send times slip."""
        while not self.stop_event.is_set():
            asked = time.perf_counter()
            gevent.sleep(LAG_PERIOD_S)
            self.lags.append(max(time.perf_counter() - asked - LAG_PERIOD_S, 0.0))

    def _watchdog(self) -> None:
        """Real OS thread: if the run is still alive long past its end, flush and exit hard."""
        _real_sleep(self.plan.duration_s + self.plan.timeout_s + WATCHDOG_MARGIN_S)
        if not self.finished:
            self.signalled = self.signalled or "watchdog"
            self.reason = "watchdog: the run did not end in time; " + self.reason
            self.finish()
        _flush_and_exit(EXIT_WATCHDOG)

    def finish(self) -> None:
        """The last tick (what drained) and the final line, once."""
        if not self.write_lock.acquire(timeout=10.0):
            return
        try:
            if self.finished:
                return
            self._emit_tick()
            ended = time.time() - self.started_at
            reason = self.reason
            if self.recorder.first_error:
                reason += f" (first error: {self.recorder.first_error})"
            final = Final(
                started_at=self.started_at,
                measure_start=self.measure_start,
                measure_end=self.measure_end,
                ended_at=round(ended, 6),
                unfinished=self.in_flight.measured(self.measure_start, self.measure_end),
                examples=self.recorder.examples,
                request_names=[str(r.name) for r in self.plan.requests],
                signalled=self.signalled,
                reason=reason,
            )
            _print_line(encode(final))
            self.finished = True
        finally:
            self.write_lock.release()


def _print_line(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _flush_and_exit(code: int) -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def main(argv: list[str]) -> int:
    """Entry point: `locust_child PLAN.json`."""
    if len(argv) != 2:
        sys.stderr.write("usage: python -m infratest.workloads.locust_child PLAN.json\n")
        return 2
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    plan = LoadPlan.from_json(Path(argv[1]).read_text())
    return ChildRun(plan).execute()


if __name__ == "__main__":
    # Exit hard: gevent greenlets of a killed runner must not keep the interpreter alive.
    _flush_and_exit(main(sys.argv))
