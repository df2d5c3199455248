"""Parent side of a load run: start the Locust child, read what it streams, stop it early
when a watcher has decided, always reap it.

Locust monkey-patches whatever process imports it, so it runs in a child process
(`locust_child`) and this module never imports it. The parent also measures the
child's CPU: a load generator that runs out of CPU reports its own queueing as the
target's latency, so callers need to know when that happened.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import psutil

from infratest.workloads.load_plan import LoadPlan
from infratest.workloads.load_record import LoadRecord
from infratest.workloads.wire import Final, Tick, decode

CPU_SAMPLE_S = 0.2
CPU_PEAK_WINDOW = 5  # samples: peak of a ~1 s moving average, so one short spike does not count
HARD_TIMEOUT_MARGIN_S = 30.0
TERM_GRACE_S = 3.0
REAP_TIMEOUT_S = 10.0
THREAD_JOIN_S = 5.0
STDERR_TAIL_LINES = 40

log = logging.getLogger(__name__)


class LoadRunError(Exception):
    """The load generator failed to start or crashed before streaming anything."""


class _CpuSampler(threading.Thread):
    """Samples the child's CPU (in cores) every 0.2 s between its start and end marks."""

    def __init__(self, pid: int) -> None:
        super().__init__(name="infratest-cpu-sampler", daemon=True)
        self._pid = pid
        self._root: psutil.Process | None = None
        self._procs: dict[int, psutil.Process] = {}
        self._lock = threading.Lock()
        self._halt = threading.Event()
        self._t0: float | None = None
        self._recording = False
        self.samples: list[tuple[float, float]] = []

    def mark_start(self) -> None:
        """The child started load: reset the baseline so its import cost is not counted."""
        with self._lock:
            self._cores()
            self._t0 = time.monotonic()
            self._recording = True

    def mark_end(self) -> None:
        """The child stopped load: draining and its last lines are not load generation."""
        with self._lock:
            self._recording = False

    def peak(self) -> float:
        """The peak so far (a watcher asks while the load runs)."""
        with self._lock:
            samples = np.asarray(self.samples, dtype=np.float64).reshape(-1, 2)
        return cpu_peak(samples)

    def halt(self) -> None:
        self._halt.set()
        self.join(THREAD_JOIN_S)

    def run(self) -> None:
        try:
            self._root = psutil.Process(self._pid)
        except psutil.Error:
            return  # the child is already gone; its exit code and stderr tell why
        while not self._halt.wait(CPU_SAMPLE_S):  # bounded: halt() is always called
            with self._lock:
                try:
                    cores = self._cores()
                except psutil.Error:
                    return
                if self._recording and self._t0 is not None:
                    self.samples.append((time.monotonic() - self._t0, cores))

    def _cores(self) -> float:
        """CPU of the child and its descendants since the previous call, in cores."""
        if self._root is None:
            return 0.0
        alive = [self._root, *self._root.children(recursive=True)]
        total = 0.0
        for proc in alive:
            known = self._procs.setdefault(proc.pid, proc)
            with contextlib.suppress(psutil.Error):
                total += known.cpu_percent(interval=None)
        return total / 100.0


def cpu_peak(samples: np.ndarray, window: int = CPU_PEAK_WINDOW) -> float:
    """Peak of the moving average of CPU samples (shape (k, 2)); 0.0 without samples."""
    if samples.size == 0:
        return 0.0
    cores = samples[:, 1]
    if cores.size <= window:
        return float(cores.mean())
    return float(np.convolve(cores, np.ones(window) / window, mode="valid").max())


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


class _StreamReader(threading.Thread):
    """Reads the child's lines: marks go to the CPU sampler, ticks into the record; after
    each tick the watcher may ask to stop, and the child is then signalled once."""

    def __init__(
        self,
        proc: subprocess.Popen[str],
        sampler: _CpuSampler,
        record: LoadRecord,
        watcher: Watcher | None,
        on_mark: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        super().__init__(name="infratest-load-reader", daemon=True)
        self.proc, self.sampler, self.record, self.watcher = proc, sampler, record, watcher
        self.on_mark = on_mark  # other marks (a distributed run's worker events)
        self.stop: StopRequest | None = None

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
            _signal_group(self.proc, signal.SIGUSR2 if hurry else signal.SIGUSR1)


def _child_env() -> dict[str, str]:
    """Environment for the child: make this very `infratest` importable there too."""
    env = dict(os.environ)
    root = Path(__file__).resolve().parents[2]
    if "site-packages" not in root.parts:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    return env


def _spawn(work: Path, stderr: IO[bytes]) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "infratest.workloads.locust_child", "plan.json"]
    return subprocess.Popen(
        cmd,
        cwd=work,
        env=_child_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        bufsize=1,
        start_new_session=True,
    )


def _signal_group(proc: subprocess.Popen[str], sig: signal.Signals) -> None:
    """Signal the child's whole session group (it leads it: pgid == pid)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def _terminate(proc: subprocess.Popen[str]) -> None:
    """SIGTERM the group (the child then writes what it measured), SIGKILL after a grace."""
    _signal_group(proc, signal.SIGTERM)
    try:
        proc.wait(TERM_GRACE_S)
    except subprocess.TimeoutExpired:
        _signal_group(proc, signal.SIGKILL)
        proc.wait(REAP_TIMEOUT_S)


def _supervise(proc: subprocess.Popen[str], limit_s: float) -> bool:
    """Wait for the child, ending it past `limit_s`; True when the hard timeout hit."""
    try:
        proc.wait(limit_s)
        return False
    except subprocess.TimeoutExpired:
        _terminate(proc)
        return True
    except BaseException:  # KeyboardInterrupt included: never leave the child behind
        _terminate(proc)
        raise
    finally:
        # Stray descendants would keep stdout open; the group id is not reused while they live.
        _signal_group(proc, signal.SIGKILL)


def _stderr_tail(stderr: IO[bytes]) -> str:
    stderr.seek(0, os.SEEK_END)
    size = stderr.tell()
    stderr.seek(max(size - 65536, 0))
    lines = stderr.read().decode("utf-8", "replace").splitlines()
    return "\n".join(lines[-STDERR_TAIL_LINES:])


def _run_child(
    work: Path, stderr: IO[bytes], limit_s: float, record: LoadRecord, watcher: Watcher | None
) -> tuple[int, np.ndarray, bool, StopRequest | None]:
    """Start the child in `work`, read its stream, sample its CPU, always reap it."""
    proc = _spawn(work, stderr)
    sampler = _CpuSampler(proc.pid)
    reader = _StreamReader(proc, sampler, record, watcher)
    try:
        sampler.start()
        reader.start()
        timed_out = _supervise(proc, limit_s)
    finally:
        if proc.returncode is None:  # a thread failed to start: still end and reap the child
            _terminate(proc)
        sampler.halt()
        reader.join(THREAD_JOIN_S)
        if proc.stdout is not None:
            proc.stdout.close()
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
            tail = _stderr_tail(stderr)
    if not record.ticks:
        raise LoadRunError(
            f"load generator streamed no results (exit code {code}"
            f"{f'; hard timeout of {limit:.1f} s hit' if timed_out else ''})\n"
            f"--- stderr tail ---\n{tail}"
        )
    if record.final is None:
        record.close_unexpectedly(f"the load generator ended without finishing (exit code {code})")
    return LoadRun(record, cpu, cpu_peak(cpu), code, tail, stop, limit if timed_out else None)
