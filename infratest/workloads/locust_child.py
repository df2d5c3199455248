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

A warm child (:mod:`infratest.workloads.locust_serve`) runs many plans, one `ChildRun`
each, so the second and later runs of a session do not pay Locust's import again.
"""

import locust  # noqa: I001  (must run first: it monkey-patches this process)
import infratest.workloads.locust_stop_patch  # noqa: F401  (patched on import)

import json
import logging
import signal
import sys
import time
from pathlib import Path

import gevent
from locust.env import Environment
from locust.event import Events

from infratest.workloads.load_plan import LoadPlan
from infratest.workloads.locust_users import build_user_class
from infratest.workloads.locust_own_user import UserClassLoadError, problem_text
from infratest.workloads.wire import USER_CLASS_ERROR, Final, Tick, encode
from infratest.workloads.run_recording import (
    RunRecording,
    flush_and_exit,
    print_line,
    real_start_thread,
)

EXIT_USER_CLASS = 5


class ChildRun(RunRecording):
    """One run: start users, stream ticks, stop at the deadline or on a signal, end cleanly."""

    def __init__(self, plan: LoadPlan, events: Events | None = None) -> None:
        """`events`: Locust's global hooks by default (a user's own locustfile may listen
        there); a warm child that runs plan after plan passes fresh ones per run, or every
        earlier run's listeners would keep receiving its requests."""
        super().__init__(plan)
        self.env = Environment(
            user_classes=[build_user_class(plan, self)],
            events=events if events is not None else locust.events,
            host=plan.host,
            stop_timeout=self.drain_s,
        )
        self.env.events.request.add_listener(self.on_request)
        self.env.events.user_error.add_listener(self.on_user_error)
        self.runner = self.env.create_local_runner()

    def send(self, message: Tick | Final) -> None:
        print_line(encode(message))

    def execute(self, own_signals: bool = True) -> int:
        """Run the plan to the end (or to a signal) and stream what was measured. A warm
        child routes signals itself (`own_signals=False`) and calls `request_stop`."""
        if own_signals:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGUSR2):
                gevent.signal_handler(sig, self.request_stop, sig)
        self.started_at = time.time()
        real_start_thread(self.watchdog, ())
        print_line('{"event":"start","t":0.0}')
        self.runner.start(self.plan.users, spawn_rate=self.plan.spawn_rate)
        greenlets = [gevent.spawn(self.tick_loop), gevent.spawn(self.lag_loop)]
        self.stop_event.wait(timeout=self.plan.duration_s)
        self.measure_end = min(time.time() - self.started_at, float(self.plan.duration_s))
        self.stop_event.set()
        self._stop_runner()
        gevent.killall(greenlets, block=False)
        print_line(f'{{"event":"end","t":{time.time() - self.started_at:.3f}}}')
        self.finish()
        return 0

    def request_stop(self, sig: signal.Signals) -> None:
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


def main(argv: list[str]) -> int:
    """Entry point: `locust_child PLAN.json`."""
    if len(argv) != 2:
        sys.stderr.write("usage: python -m infratest.workloads.locust_child PLAN.json\n")
        return 2
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    plan = LoadPlan.from_json(Path(argv[1]).read_text())
    try:
        run = ChildRun(plan)
    except UserClassLoadError as exc:  # the parent makes it the assumption's error
        print_line(json.dumps({"event": USER_CLASS_ERROR, "why": problem_text(plan, exc)}))
        return EXIT_USER_CLASS
    return run.execute()


if __name__ == "__main__":
    # Exit hard: gevent greenlets of a killed runner must not keep the interpreter alive.
    flush_and_exit(main(sys.argv))
