"""The Locust master of a distributed run: hand the plan to every worker, start the users
once all accepted it, print the workers' lines for the parent, notice lost workers.

    python -m infratest.workloads.locust_master PLAN.json FLEET.json

Locust splits the users over the workers. Each worker measures its own requests; the master
only relays their Tick/Final lines (with the worker's name) and adds marks from
:mod:`infratest.workloads.fleet_protocol`. SIGUSR1/SIGUSR2/SIGTERM are passed on to the
workers as a STOP message (SIGUSR1 lets requests in flight finish).
"""

import locust  # noqa: I001  (must run first: it monkey-patches this process)
import infratest.workloads.locust_stop_patch  # noqa: F401  (patched on import)

import logging
import signal
import sys
import time
from pathlib import Path
from typing import Any

import gevent
import gevent.event
from locust.env import Environment
from locust.runners import STATE_MISSING, STATE_RUNNING

from infratest.workloads import fleet_protocol as proto
from infratest.workloads.fleet import LOCAL_NAME_PREFIX, FleetSettings
from infratest.workloads.load_plan import LoadPlan
from infratest.workloads.run_recording import DRAIN_CAP_S, flush_and_exit, print_line
from infratest.workloads.locust_worker import PlanUser

FINALS_MARGIN_S = 8.0  # past duration + drain, workers that sent no final are given up on
LOST_POLL_S = 0.5
EXIT_FLEET_ERROR = 4


class MasterRun:
    """One distributed run, from gathering the workers to quitting them."""

    def __init__(self, plan: LoadPlan, fleet: FleetSettings) -> None:
        self.plan, self.fleet = plan, fleet
        self.drain_s = min(plan.timeout_s, DRAIN_CAP_S)
        self.env = Environment(
            user_classes=[PlanUser], events=locust.events, host=plan.host, stop_timeout=self.drain_s
        )
        self.runner = self.env.create_master_runner(fleet.bind_host, fleet.port)
        self.names: dict[str, str] = {}  # Locust client id -> worker name
        self.accepted: dict[str, str] = {}  # client id -> name
        self.refused: dict[str, str] = {}  # name -> reason
        self.finals: set[str] = set()
        self.lost: set[str] = set()
        self.changed = gevent.event.Event()
        self.stopping = False
        handlers = {
            proto.READY: self._on_ready,
            proto.ACCEPT: self._on_accept,
            proto.REFUSE: self._on_refuse,
            proto.TICK: self._on_line,
            proto.FINAL: self._on_final,
        }
        for kind, handler in handlers.items():
            self.runner.register_message(kind, handler)

    def _on_ready(self, environment: Environment, msg: Any, **kw: Any) -> None:
        if msg.node_id in self.names:
            return
        if len(self.names) >= self.fleet.workers:
            self._turn_away(msg.node_id)
            return
        index = len(self.names)
        self.names[msg.node_id] = str(msg.data["name"])
        data = {"plan": self.plan.to_json(), "index": index, "workers": self.fleet.workers}
        self.runner.send_message(proto.PLAN, data, client_id=msg.node_id)

    def _turn_away(self, client_id: str) -> None:
        """One worker too many: without the plan it would run placeholder users, so it is
        told to quit and its share goes back to the others (as Locust does on a stop)."""
        node = self.runner.clients.get(client_id)
        self.runner.send_message("quit", client_id=client_id)
        if node is None:
            return
        del self.runner.clients[client_id]
        dispatcher = self.runner._users_dispatcher
        if dispatcher is not None:
            dispatcher.remove_worker(node)
            if self.runner.state == STATE_RUNNING:
                self.runner.start(self.runner.target_user_count, self.runner.spawn_rate)

    def _on_accept(self, environment: Environment, msg: Any, **kw: Any) -> None:
        name = str(msg.data["name"])
        self.accepted[msg.node_id] = name
        print_line(proto.mark(proto.JOINED, worker=name, host=msg.data.get("host", "")))
        self.changed.set()

    def _on_refuse(self, environment: Environment, msg: Any, **kw: Any) -> None:
        self.refused[str(msg.data["name"])] = str(msg.data["reason"])
        self.changed.set()

    def _on_line(self, environment: Environment, msg: Any, **kw: Any) -> None:
        print_line(str(msg.data["line"]))

    def _on_final(self, environment: Environment, msg: Any, **kw: Any) -> None:
        print_line(str(msg.data["line"]))
        self.finals.add(self.names.get(msg.node_id, ""))
        self.changed.set()

    def gather(self) -> str | None:
        """Wait (bounded) until every expected worker accepted the plan; why not, or None."""
        deadline = time.time() + self.fleet.wait_s
        while len(self.accepted) < self.fleet.workers and not self.refused:
            left = deadline - time.time()
            if left <= 0 or self.stopping:
                return self._not_joined()
            self.changed.clear()
            self.changed.wait(timeout=min(left, 0.5))
        if self.refused:
            return "; ".join(f"worker {n} refused the plan: {r}" for n, r in self.refused.items())
        return None

    def _not_joined(self) -> str:
        names = list(self.accepted.values())
        remote = sum(not n.startswith(LOCAL_NAME_PREFIX) for n in names)
        return (
            f"expected {self.fleet.workers} workers ({self.fleet.local_workers} local, "
            f"{self.fleet.expect_remote} remote) within {self.fleet.wait_s:g} s; "
            f"{len(names)} joined ({remote} remote): "
            f"start them with `infratest worker --master HOST:{self.fleet.port}`"
        )

    def execute(self) -> int:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGUSR2):
            gevent.signal_handler(sig, self._on_signal, sig)
        problem = self.gather()
        if problem is not None:
            print_line(proto.mark(proto.FAILED, why=problem))
            self.runner.quit()
            return EXIT_FLEET_ERROR
        started = time.time()
        print_line('{"event":"start","t":0.0}')
        self.runner.start(self.plan.users, spawn_rate=self.plan.spawn_rate)
        watcher = gevent.spawn(self._watch_lost)
        limit = self.plan.duration_s + self.drain_s + FINALS_MARGIN_S
        while self._waiting_for() and time.time() - started < limit:
            self.changed.clear()
            self.changed.wait(timeout=LOST_POLL_S)
        print_line(f'{{"event":"end","t":{time.time() - started:.3f}}}')
        for name in self._waiting_for():
            self._report_lost(name, "it sent no final report in time")
        watcher.kill(block=False)
        self.runner.quit()
        return 0

    def _waiting_for(self) -> list[str]:
        return [n for n in self.accepted.values() if n not in self.finals and n not in self.lost]

    def _watch_lost(self) -> None:
        """Locust marks a worker missing when its heartbeats stop (about 3 s)."""
        while True:
            gevent.sleep(LOST_POLL_S)
            for client_id, name in list(self.accepted.items()):
                if name in self.finals or name in self.lost:
                    continue
                node = self.runner.clients.get(client_id)
                if node is None or node.state == STATE_MISSING:
                    self._report_lost(name, "its heartbeats stopped")

    def _report_lost(self, name: str, why: str) -> None:
        self.lost.add(name)
        print_line(proto.mark(proto.LOST, worker=name, why=why))
        self.changed.set()

    def _on_signal(self, sig: signal.Signals) -> None:
        hurry = sig != signal.SIGUSR1
        if sig in (signal.SIGUSR1, signal.SIGUSR2):
            reason = "stopped by the parent: its checks were decided"
        else:
            reason = f"{signal.Signals(sig).name} received"
        self.stopping = True
        self.runner.send_message(proto.STOP, {"hurry": hurry, "reason": reason})
        self.changed.set()


def main(argv: list[str]) -> int:
    """Entry point: `locust_master PLAN.json FLEET.json`."""
    if len(argv) != 3:
        sys.stderr.write("usage: python -m infratest.workloads.locust_master PLAN FLEET\n")
        return 2
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    plan = LoadPlan.from_json(Path(argv[1]).read_text())
    fleet = FleetSettings.from_json(Path(argv[2]).read_text())
    return MasterRun(plan, fleet).execute()


if __name__ == "__main__":
    flush_and_exit(main(sys.argv))
