"""The load generator's own CPU, sampled from the parent: a generator that runs out of CPU
reports its own queueing as the target's latency, so callers need to know when it did."""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass

import numpy as np
import psutil

CPU_SAMPLE_S = 0.2
# A reading covers at least this much wall time: CPU time advances in 10 ms clock ticks, so
# one tick over a 5 ms sliver (the first sample after `mark_start`, or a wake-up delayed and
# then hurried on a busy machine) would read as 2 cores and push a light load over the limit.
MIN_READING_S = 0.1
CPU_PEAK_WINDOW = 5  # samples: peak of a ~1 s moving average, so one short spike does not count
THREAD_JOIN_S = 5.0


@dataclass(frozen=True)
class _Mark:
    """Where the current reading began: wall clock and the process tree's CPU seconds."""

    at: float
    cpu_s: float


class CpuSampler(threading.Thread):
    """Samples the child's CPU (in cores) every 0.2 s between its start and end marks, as
    CPU seconds used over the wall time each reading covers."""

    def __init__(self, pid: int) -> None:
        super().__init__(name="infratest-cpu-sampler", daemon=True)
        self._pid = pid
        self._root: psutil.Process | None = None
        self._cpu_by_pid: dict[int, float] = {}
        self._lock = threading.Lock()
        self._halt = threading.Event()
        self._t0 = 0.0
        self._mark: _Mark | None = None  # set with _t0 by mark_start
        self._recording = False
        self.samples: list[tuple[float, float]] = []

    def mark_start(self) -> None:
        """The child started load: begin a reading here so its import cost is not counted."""
        with self._lock:
            self._t0 = time.monotonic()
            self._mark = _Mark(self._t0, self._cpu_seconds())
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
        if self.ident is not None:  # Ctrl-C can land before it started: nothing to join
            self.join(THREAD_JOIN_S)

    def run(self) -> None:
        if self._process() is None:
            return  # the child is already gone; its exit code and stderr tell why
        while not self._halt.wait(CPU_SAMPLE_S):  # bounded: halt() is always called
            with self._lock:
                try:
                    self._read()
                except psutil.Error:
                    return

    def _read(self) -> None:
        """Close the current reading if it covers MIN_READING_S; otherwise let it grow."""
        if not self._recording or self._mark is None:
            return
        now, used = time.monotonic(), self._cpu_seconds()
        span = now - self._mark.at
        if span < MIN_READING_S:
            return
        self.samples.append((now - self._t0, max(used - self._mark.cpu_s, 0.0) / span))
        self._mark = _Mark(now, used)

    def _process(self) -> psutil.Process | None:
        """The child, looked up once by whichever comes first: this thread, or a start mark
        (a warm child marks its start at once, and its CPU seconds before it are not this
        run's: a baseline of 0 would count them all in the first reading)."""
        if self._root is None:
            with contextlib.suppress(psutil.Error):
                self._root = psutil.Process(self._pid)
        return self._root

    def _cpu_seconds(self) -> float:
        """User + system CPU seconds of the child and its descendants; a process that has
        exited keeps the time it was last seen with, so the total never goes back."""
        root = self._process()
        if root is None:
            return 0.0
        for proc in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                self._cpu_by_pid[proc.pid] = times.user + times.system
        return sum(self._cpu_by_pid.values())


def cpu_peak(samples: np.ndarray, window: int = CPU_PEAK_WINDOW) -> float:
    """Peak of the moving average of CPU samples (shape (k, 2)); 0.0 without samples."""
    if samples.size == 0:
        return 0.0
    cores = samples[:, 1]
    if cores.size <= window:
        return float(cores.mean())
    return float(np.convolve(cores, np.ones(window) / window, mode="valid").max())
