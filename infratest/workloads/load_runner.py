"""Parent side of a load run: start the Locust child, watch it, collect its results.

Locust monkey-patches whatever process imports it, so it runs in a child process
(`locust_child`) and this module never imports it. The parent also measures the
child's CPU: a load generator that runs out of CPU reports its own queueing as the
target's latency, so callers need to know when that happened.
"""

from __future__ import annotations

import contextlib
import json
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

CPU_SAMPLE_S = 0.2
CPU_PEAK_WINDOW = 5  # samples: peak of a ~1 s moving average, so one short spike does not count
HARD_TIMEOUT_MARGIN_S = 30.0
TERM_GRACE_S = 3.0
REAP_TIMEOUT_S = 10.0
THREAD_JOIN_S = 5.0
STDERR_TAIL_LINES = 40

ProgressCallback = Callable[[dict[str, Any]], None]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadRun:
    """What one load run measured, as written by the child, plus the generator's CPU use."""

    samples: dict[str, np.ndarray]
    summary: dict[str, Any]
    generator_cpu: np.ndarray
    generator_cpu_peak: float
    exit_code: int
    stderr_tail: str

    @property
    def measured_seconds(self) -> float:
        """Length of the measured window (after warm-up), the denominator of throughput."""
        return max(float(self.summary["measure_end"]) - float(self.summary["measure_start"]), 0.0)


class LoadRunError(Exception):
    """The load generator failed to start or crashed before writing any results."""


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
        """The child stopped load: writing result files is not load generation."""
        with self._lock:
            self._recording = False

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


def _read_progress(
    stream: IO[str], sampler: _CpuSampler, on_progress: ProgressCallback | None
) -> None:
    """Relay the child's JSON lines: start/end marks to the sampler, progress to the caller."""
    for line in stream:  # bounded: ends at EOF, when the child's process group is gone
        try:
            data = json.loads(line)
        except ValueError:
            continue
        event = data.get("event") if isinstance(data, dict) else None
        if event == "start":
            sampler.mark_start()
        elif event == "end":
            sampler.mark_end()
        elif event is None and on_progress is not None:
            try:
                on_progress(data)
            except Exception:  # a broken progress display must not abort the load run
                log.exception("load progress callback failed")


def _child_env() -> dict[str, str]:
    """Environment for the child: make this very `infratest` importable there too."""
    env = dict(os.environ)
    root = Path(__file__).resolve().parents[2]
    if "site-packages" not in root.parts:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    return env


def _spawn(work: Path, stderr: IO[bytes]) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "infratest.workloads.locust_child", "plan.json", "out"]
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


def _collect(out: Path, proc_code: int, cpu: np.ndarray, tail: str, limit_note: str) -> LoadRun:
    """Load the child's result files, or explain why there are none."""
    summary_path, samples_path = out / "summary.json", out / "samples.npz"
    if not (summary_path.exists() and samples_path.exists()):
        raise LoadRunError(
            f"load generator wrote no results (exit code {proc_code}{limit_note})\n"
            f"--- stderr tail ---\n{tail}"
        )
    summary = json.loads(summary_path.read_text())
    if limit_note:
        summary["stopped_early"] = True
        summary["reason"] = limit_note.lstrip("; ") + "; " + str(summary.get("reason", ""))
    with np.load(samples_path) as data:
        samples = {key: data[key] for key in data.files}
    return LoadRun(samples, summary, cpu, cpu_peak(cpu), proc_code, tail)


def _run_child(
    work: Path, stderr: IO[bytes], limit_s: float, on_progress: ProgressCallback | None
) -> tuple[int, np.ndarray, bool]:
    """Start the child in `work`, relay its progress, sample its CPU, always reap it."""
    proc = _spawn(work, stderr)
    sampler = _CpuSampler(proc.pid)
    reader = threading.Thread(
        target=_read_progress, args=(proc.stdout, sampler, on_progress), daemon=True
    )
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
    return proc.returncode, cpu, timed_out


def run_load(
    plan: LoadPlan,
    *,
    on_progress: ProgressCallback | None = None,
    hard_timeout_s: float | None = None,
) -> LoadRun:
    """Run `plan` in a Locust child process and return its raw measurements.

    `on_progress` receives the child's once-a-second dicts (t, users, rps, p95, errors).
    Past `hard_timeout_s` (default: duration + timeout + 30 s) the child is terminated;
    if it still wrote results they are returned with `stopped_early` set.
    Raises LoadRunError when the child wrote no results.
    """
    limit = hard_timeout_s
    if limit is None:
        limit = plan.duration_s + plan.timeout_s + HARD_TIMEOUT_MARGIN_S
    with tempfile.TemporaryDirectory(prefix="infratest-load-") as tmp:
        work = Path(tmp)
        (work / "plan.json").write_text(plan.to_json())
        with open(work / "stderr.txt", "w+b") as stderr:
            code, cpu, timed_out = _run_child(work, stderr, limit, on_progress)
            note = f"; hard timeout of {limit:.1f} s hit" if timed_out else ""
            return _collect(work / "out", code, cpu, _stderr_tail(stderr), note)
