"""The parent's side of a Locust process's stream: its lines read into the run's record,
the CPU sampler marked, and the watcher asked after every tick whether to stop early.

Shared by the one-shot child, the warm child that outlives its runs and a distributed
run's master; only how each is asked to stop differs (a `StopSender`).
"""

from __future__ import annotations

import logging
import signal
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from infratest.workloads.child_process import signal_child_group
from infratest.workloads.cpu_sampler import CpuSampler
from infratest.workloads.load_record import LoadRecord
from infratest.workloads.wire import RUN_DONE, USER_CLASS_ERROR, Final, Tick, decode

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StopRequest:
    """A watcher's wish to end the run now: every check is decided, or one has failed."""

    stopped: str  # "decided" or "failed"
    after_s: float  # measured seconds when it was decided
    why: str


Watcher = Callable[[LoadRecord, float], StopRequest | None]


@dataclass(frozen=True)
class ChildOutcome:
    """How one run's process side ended: its exit code, the generator's CPU samples
    (time, cores), whether the hard limit hit, a watcher's stop, and the stderr tail."""

    exit_code: int
    cpu: np.ndarray
    timed_out: bool
    stop: StopRequest | None
    stderr_tail: str


StopSender = Callable[[bool], None]  # asks the child to end its run (True: without waiting)


class StreamReader(threading.Thread):
    """Reads the child's lines: marks go to the CPU sampler, ticks into the record; after
    each tick the watcher may ask to stop, and the child is then asked once. Reads to EOF,
    or (a warm child, which outlives the run) to the `done` mark of run `run_id`."""

    def __init__(
        self,
        stream: IO[str],
        sampler: CpuSampler,
        record: LoadRecord,
        watcher: Watcher | None,
        send_stop: StopSender,
        on_mark: Callable[[dict[str, Any]], None] | None = None,
        run_id: int | None = None,
    ) -> None:
        super().__init__(name="infratest-load-reader", daemon=True)
        self.stream, self.sampler, self.record, self.watcher = stream, sampler, record, watcher
        self.send_stop = send_stop
        self.on_mark = on_mark  # other marks (a distributed run's worker events)
        self.run_id = run_id
        self.stop: StopRequest | None = None
        self.user_class_error: str | None = None
        self.done_code: int | None = None  # a warm child's exit code for the run

    def run(self) -> None:
        # bounded: ends at EOF (the child's group is gone) or at this run's `done` mark
        for line in iter(self.stream.readline, ""):
            message = decode(line)
            if isinstance(message, Tick):
                self.record.add_tick(message)
                self._watch()
            elif isinstance(message, Final):
                self.record.finish(message)
            elif isinstance(message, dict):
                if message.get("event") == RUN_DONE and message.get("run") == self.run_id:
                    self.done_code = int(message.get("code", 0))
                    return
                if message.get("event") == USER_CLASS_ERROR:
                    self.user_class_error = str(message.get("why"))
                self._mark(message.get("event"))
                if self.on_mark is not None:
                    self.on_mark(message)

    def _mark(self, event: Any) -> None:
        if event == "start":
            self.sampler.mark_start()
        elif event == "end":
            self.sampler.mark_end()

    def _watch(self) -> None:
        if self.watcher is None or self.stop is not None:
            return
        try:
            wish = self.watcher(self.record, self.sampler.peak())
        except Exception:  # a broken watcher must not abort the load run: it runs its course
            log.exception("load watcher failed")
            self.watcher = None
            return
        if wish is not None:
            self.stop = wish
            # A pass needs the answers still on their way; a failure needs no more data.
            self.send_stop(wish.stopped == "failed")


def signal_stop(proc: subprocess.Popen[str]) -> StopSender:
    """How a one-shot child is asked to stop: SIGUSR1 (let requests finish) or SIGUSR2."""

    def send(hurry: bool) -> None:
        signal_child_group(proc, signal.SIGUSR2 if hurry else signal.SIGUSR1)

    return send
