"""The load generator's own CPU, sampled from the parent: a generator that runs out of CPU
reports its own queueing as the target's latency, so callers need to know when it did."""

from __future__ import annotations

import contextlib
import threading
import time

import numpy as np
import psutil

CPU_SAMPLE_S = 0.2
CPU_PEAK_WINDOW = 5  # samples: peak of a ~1 s moving average, so one short spike does not count
THREAD_JOIN_S = 5.0


class CpuSampler(threading.Thread):
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
        if self.ident is not None:  # Ctrl-C can land before it started: nothing to join
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
