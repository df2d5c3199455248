"""Parent side of a load run: start the Locust child, read what it streams, stop it early
when a watcher has decided, always reap it.

Locust monkey-patches whatever process imports it, so it runs in a child process
(`locust_child`) and this module never imports it. The parent also measures the
child's CPU: a load generator that runs out of CPU reports its own queueing as the
target's latency, so callers need to know when that happened.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from infratest.workloads.child_process import (
    child_env,
    signal_child_group,
    stderr_tail,
    supervise,
    terminate,
)
from infratest.workloads.cpu_sampler import THREAD_JOIN_S, CpuSampler, cpu_peak
from infratest.workloads.load_plan import LoadPlan
from infratest.workloads.load_record import LoadRecord
from infratest.workloads.wire import USER_CLASS_ERROR, Final, Tick, decode

HARD_TIMEOUT_MARGIN_S = 30.0

log = logging.getLogger(__name__)


class LoadRunError(Exception):
    """The load generator failed to start or crashed before streaming anything."""


class UserClassError(LoadRunError):
    """The scenario's own user class could not be loaded; says where it is written and why."""


@dataclass(frozen=True)
class StopRequest:
    """A watcher's wish to end the run now: every check is decided, or one has failed."""

    stopped: str  # "decided" or "failed"
    after_s: float  # measured seconds when it was decided
    why: str


Watcher = Callable[[LoadRecord, float], StopRequest | None]


@dataclass(frozen=True)
class LoadRun:
    """What one load run measured (streamed by the child), plus the generator's CPU use."""

    record: LoadRecord
    generator_cpu: np.ndarray
    generator_cpu_peak: float
    exit_code: int
    stderr_tail: str
    stop: StopRequest | None  # why the run ended before its duration, if a watcher ended it
    hard_timeout_s: float | None  # set when the child had to be killed at the hard timeout

    @property
    def measured_seconds(self) -> float:
        """Length of the measured window (after ramp and warm-up)."""
        return self.record.measured_seconds


class StreamReader(threading.Thread):
    """Reads the child's lines: marks go to the CPU sampler, ticks into the record; after
    each tick the watcher may ask to stop, and the child is then signalled once."""

    def __init__(
        self,
        proc: subprocess.Popen[str],
        sampler: CpuSampler,
        record: LoadRecord,
        watcher: Watcher | None,
        on_mark: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        super().__init__(name="infratest-load-reader", daemon=True)
        self.proc, self.sampler, self.record, self.watcher = proc, sampler, record, watcher
        self.on_mark = on_mark  # other marks (a distributed run's worker events)
        self.stop: StopRequest | None = None
        self.user_class_error: str | None = None

    def run(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:  # bounded: ends at EOF, when the child's group is gone
            message = decode(line)
            if isinstance(message, Tick):
                self.record.add_tick(message)
                self._watch()
            elif isinstance(message, Final):
                self.record.finish(message)
            elif isinstance(message, dict):
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
            hurry = wish.stopped == "failed"
            signal_child_group(self.proc, signal.SIGUSR2 if hurry else signal.SIGUSR1)


def _spawn(work: Path, stderr: IO[bytes]) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "infratest.workloads.locust_child", "plan.json"]
    return subprocess.Popen(
        cmd,
        cwd=work,
        env=child_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        bufsize=1,
        start_new_session=True,
    )


def _run_child(
    work: Path, stderr: IO[bytes], limit_s: float, record: LoadRecord, watcher: Watcher | None
) -> tuple[int, np.ndarray, bool, StopRequest | None]:
    """Start the child in `work`, read its stream, sample its CPU, always reap it. Raises
    UserClassError when the child could not load the scenario's user class."""
    proc = _spawn(work, stderr)
    sampler = CpuSampler(proc.pid)
    reader = StreamReader(proc, sampler, record, watcher)
    try:
        sampler.start()
        reader.start()
        timed_out = supervise(proc, limit_s)
    finally:
        if proc.returncode is None:  # a thread failed to start: still end and reap the child
            terminate(proc)
        sampler.halt()
        if reader.ident is not None:  # Ctrl-C can land before it started: nothing to join
            reader.join(THREAD_JOIN_S)
        if proc.stdout is not None:
            proc.stdout.close()
    if reader.user_class_error is not None:
        raise UserClassError(reader.user_class_error)
    cpu = np.asarray(sampler.samples, dtype=np.float64).reshape(-1, 2)
    return proc.returncode, cpu, timed_out, reader.stop


def run_load(
    plan: LoadPlan,
    *,
    watcher: Watcher | None = None,
    hard_timeout_s: float | None = None,
) -> LoadRun:
    """Run `plan` in a Locust child process and return what it streamed.

    `watcher(record, generator_cpu_peak)` is called after every tick (once a second) and
    may return a StopRequest to end the run early. Past `hard_timeout_s` (default:
    duration + timeout + 30 s) the child is terminated; what it streamed until then is kept.
    Raises LoadRunError when the child streamed nothing at all.
    """
    limit = hard_timeout_s
    if limit is None:
        limit = plan.duration_s + plan.timeout_s + HARD_TIMEOUT_MARGIN_S
    record = LoadRecord.for_plan(plan)
    with tempfile.TemporaryDirectory(prefix="infratest-load-") as tmp:
        work = Path(tmp)
        (work / "plan.json").write_text(plan.to_json())
        with open(work / "stderr.txt", "w+b") as stderr:
            code, cpu, timed_out, stop = _run_child(work, stderr, limit, record, watcher)
            tail = stderr_tail(stderr)
    if not record.ticks:
        raise LoadRunError(
            f"load generator streamed no results (exit code {code}"
            f"{f'; hard timeout of {limit:.1f} s hit' if timed_out else ''})\n"
            f"--- stderr tail ---\n{tail}"
        )
    if record.final is None:
        record.close_unexpectedly(f"the load generator ended without finishing (exit code {code})")
    return LoadRun(record, cpu, cpu_peak(cpu), code, tail, stop, limit if timed_out else None)
