"""A Locust worker of a distributed run: it takes its plan from the master, records its own
requests exactly like the single-process child, and sends its ticks to the master.

    python -m infratest.workloads.locust_worker --master HOST:PORT --name NAME --policy FILE

It starts with a placeholder user class; the master's PLAN message (sent once this worker
says READY) carries the plan, which the worker checks against its own policy
(:mod:`infratest.workloads.worker_policy`) and accepts or refuses. Its clock starts when the
master's first spawn message reaches it, so window indices count from *its* start.
Locust is imported first: it monkey-patches the process (see `locust_child`).
"""

import locust  # noqa: I001  (must run first: it monkey-patches this process)
import infratest.workloads.locust_stop_patch  # noqa: F401  (patched on import)

import argparse
import logging
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

import gevent
import psutil
from locust import User, constant, task
from locust.env import Environment
from locust.runners import WorkerRunner

from infratest.workloads import fleet_protocol as proto
from infratest.workloads.load_plan import LoadPlan
from infratest.workloads.locust_own_user import UserClassLoadError, problem_text
from infratest.workloads.locust_users import build_user_class
from infratest.workloads.run_recording import RunRecording, flush_and_exit, real_start_thread
from infratest.workloads.wire import Final, Tick, encode
from infratest.workloads.worker_policy import WorkerPolicy

DRAIN_POLL_S = 0.05
MIN_CPU_INTERVAL_S = 0.5  # a CPU share over less time than this is mostly noise


class PlanUser(User):
    """Placeholder until the plan arrives (Locust needs a user class to exist)."""

    abstract = False
    wait_time = constant(1)

    @task
    def idle(self) -> None:
        gevent.sleep(1)


class WorkerRun(RunRecording):
    """One plan on this worker: recorded like the single-process child; the users and the
    spawning belong to the master, and lines go to the master."""

    def __init__(self, plan: LoadPlan, runner: WorkerRunner, name: str) -> None:
        super().__init__(plan)
        self.runner, self.worker_name = runner, name
        self.began = False
        self.process = psutil.Process()
        self.cpu_read_at = time.monotonic()

    def send(self, message: Tick | Final) -> None:
        kind = proto.FINAL if isinstance(message, Final) else proto.TICK
        self.runner.send_message(kind, {"line": encode(message)})

    def identity(self) -> dict[str, Any]:
        """Name and CPU since the last reading; none for a reading too soon after the last
        (the last tick right before the final line), whose few ms would read as many cores."""
        now = time.monotonic()
        if now - self.cpu_read_at < MIN_CPU_INTERVAL_S:
            return {"worker": self.worker_name, "cpu_cores": None}
        self.cpu_read_at = now
        cores = self.process.cpu_percent(interval=None) / 100.0
        return {"worker": self.worker_name, "cpu_cores": round(cores, 4)}

    def begin(self) -> None:
        """The master's first spawn reached this worker: its clock starts now."""
        if self.began:
            return
        self.began = True
        self.started_at = time.time()
        self.process.cpu_percent(interval=None)
        self.cpu_read_at = time.monotonic()
        real_start_thread(self.watchdog, ())
        gevent.spawn(self.tick_loop)
        gevent.spawn(self.lag_loop)
        gevent.spawn(self._run_to_end)

    def stop(self, hurry: bool, reason: str) -> None:
        """The master asks to stop early (its parent decided, or was signalled)."""
        if hurry:
            self.hurry.set()
        if not self.stop_event.is_set():
            self.reason = reason
            self.stop_event.set()

    def _run_to_end(self) -> None:
        self.stop_event.wait(timeout=self.plan.duration_s)
        self.measure_end = min(time.time() - self.started_at, float(self.plan.duration_s))
        self.stop_event.set()
        deadline = time.time() + self.drain_s
        while self.in_flight.starts and not self.hurry.is_set() and time.time() < deadline:
            gevent.sleep(DRAIN_POLL_S)
        self.finish()


class WorkerProcess:
    """This process's side of the protocol: plan in, accept or refuse, run, stop."""

    def __init__(self, env: Environment, runner: WorkerRunner, name: str, policy: WorkerPolicy):
        self.env, self.runner, self.name, self.policy = env, runner, name, policy
        self.run: WorkerRun | None = None
        runner.register_message(proto.PLAN, self.on_plan)
        runner.register_message(proto.STOP, self.on_stop)
        env.events.test_start.add_listener(self.on_test_start)
        env.events.request.add_listener(self.on_request)
        env.events.user_error.add_listener(self.on_user_error)
        runner.send_message(proto.READY, {"name": name})

    def on_plan(self, environment: Environment, msg: Any, **kw: Any) -> None:
        plan = LoadPlan.from_json(msg.data["plan"])
        why = self.policy.refusal(plan)
        if why is not None:
            self.runner.send_message(proto.REFUSE, {"name": self.name, "reason": why})
            return
        run = WorkerRun(plan, self.runner, self.name)
        try:
            users = build_user_class(plan, run, int(msg.data.get("index", 0)))
        except UserClassLoadError as exc:
            reason = problem_text(plan, exc)
            self.runner.send_message(proto.REFUSE, {"name": self.name, "reason": reason})
            return
        self.run = run
        environment.user_classes = [users]
        environment.host = plan.host
        self.runner.send_message(proto.ACCEPT, {"name": self.name, "host": socket.gethostname()})

    def on_stop(self, environment: Environment, msg: Any, **kw: Any) -> None:
        if self.run is not None:
            self.run.stop(bool(msg.data.get("hurry")), str(msg.data.get("reason", "stopped")))

    def on_test_start(self, **kw: Any) -> None:
        if self.run is not None:
            self.run.begin()

    def on_request(self, **kw: Any) -> None:
        if self.run is not None and self.run.began:
            self.run.on_request(**kw)

    def on_user_error(self, **kw: Any) -> None:
        if self.run is not None and self.run.began:
            self.run.on_user_error(**kw)

    def on_signal(self, sig: signal.Signals) -> None:
        """SIGTERM/SIGINT: report what was measured, then leave."""
        if self.run is not None and self.run.began:
            self.run.signalled = signal.Signals(sig).name
            self.run.stop(True, f"{self.run.signalled} received by worker {self.name}")
            self.run.finish()
        gevent.spawn_later(0.2, self.runner.greenlet.kill, block=False)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="locust_worker")
    parser.add_argument("--master", required=True, metavar="HOST:PORT")
    parser.add_argument("--name", required=True)
    parser.add_argument("--policy", required=True, metavar="FILE")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    """Entry point: join the master, run the plans it sends until it says quit."""
    args = _parse(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    policy = WorkerPolicy.from_json(Path(args.policy).read_text())
    host, _, port = args.master.rpartition(":")
    env = Environment(user_classes=[PlanUser], events=locust.events)
    try:
        runner = env.create_worker_runner(host.strip("[]"), int(port))
    except ConnectionError:
        sys.stderr.write(f"no master answered at {args.master}\n")
        return 1
    worker = WorkerProcess(env, runner, args.name, policy)
    for sig in (signal.SIGTERM, signal.SIGINT):
        gevent.signal_handler(sig, worker.on_signal, sig)
    runner.greenlet.join()
    return 0


if __name__ == "__main__":
    flush_and_exit(main(sys.argv[1:]))
