"""Sampling a process tree and the host on a daemon thread, at a bounded cost, into a
ProbeSeries that shares the workload's clock."""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import psutil

DEFAULT_INTERVAL_S = 0.25
CPU_BUDGET = 0.01  # of one core: ticks are skipped rather than the sampler costing more
MAX_TREE = 256  # processes sampled per tick, so a fork bomb cannot blow the sampler's budget
HOST_PIDS_REFRESH_TICKS = 40
JOIN_TIMEOUT_S = 5.0
NAN = math.nan
_NO_PROCESS = (NAN, NAN, NAN, NAN)


@dataclass
class ProbeSeries:
    """What the sampler saw: one row per tick; process columns are NaN without a process
    or after it went away. Times are seconds from the sampler's ``t0``."""

    t: np.ndarray
    rss: np.ndarray  # bytes, summed over the process tree
    cpu: np.ndarray  # cores, summed over the tree
    threads: np.ndarray
    fds: np.ndarray
    host_available: np.ndarray  # bytes
    host_cpu: np.ndarray  # ratio 0..1 of the whole host
    pid: int | None = None
    process_gone_at: float | None = None
    sampler_cpu: float = 0.0  # CPU seconds the sampler thread itself used
    notes: list[str] = field(default_factory=list)
    source: str | None = None  # a Prometheus probe's URL; None for psutil
    extra: dict[str, np.ndarray] = field(default_factory=dict)  # gpu_memory_used, bytes

    @property
    def subject(self) -> str:
        """What was probed, for notes: the process or the Prometheus endpoint."""
        return f"process {self.pid}" if self.source is None else self.source

    @property
    def has_process(self) -> bool:
        """Whether the process columns were read at all."""
        return self.pid is not None or self.source is not None

    def until(self, t_end: float) -> ProbeSeries:
        """The samples up to `t_end`: after a load stops, its threads exit and memory drops,
        which would drag a growth slope down and hide a leak."""
        keep = self.t <= t_end
        columns = ("t", "rss", "cpu", "threads", "fds", "host_available", "host_cpu")
        extra = {name: values[keep] for name, values in self.extra.items()}
        return replace(self, extra=extra, **{name: getattr(self, name)[keep] for name in columns})

    def to_json(self) -> dict[str, Any]:
        """Lists for the results file and plots; NaN becomes None, values rounded."""
        gone = self.process_gone_at
        return {
            "t": _json_list(self.t, 3),
            "rss": _json_list(self.rss, None),
            "cpu": _json_list(self.cpu, 4),
            "threads": _json_list(self.threads, None),
            "fds": _json_list(self.fds, None),
            "host_available": _json_list(self.host_available, None),
            "host_cpu": _json_list(self.host_cpu, 4),
            "pid": self.pid,
            "process_gone_at": None if gone is None else round(gone, 3),
            "sampler_cpu": round(self.sampler_cpu, 4),
            **({"source": self.source} if self.source is not None else {}),
            **{name: _json_list(values, None) for name, values in self.extra.items()},
        }


def _json_list(values: np.ndarray, digits: int | None) -> list[Any]:
    return [
        None if not math.isfinite(v) else round(v) if digits is None else round(v, digits)
        for v in np.asarray(values, dtype=float).tolist()
    ]


def _proc_children_supported() -> bool:
    return os.path.exists(f"/proc/{os.getpid()}/task/{threading.get_native_id()}/children")


_TASK_CHILDREN = _proc_children_supported()


def _task_children(pid: int) -> list[int]:
    """Direct children from Linux's per-thread children files (any thread may have forked)."""
    kids: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                kids.extend(int(x) for x in fh.read().split())
    except (FileNotFoundError, ProcessLookupError):
        pass  # the process or one of its threads ended while we read
    return kids


class _TreeLister:
    """Lists a process tree each tick by the cheaper of two ways: the per-thread children
    files (cost grows with the tree's threads) or psutil's scan of every process's parent
    (cost grows with the host's processes)."""

    def __init__(self) -> None:
        self._host_pids = 0
        self._ticks = 0

    def pids(self, root: psutil.Process, threads: float) -> tuple[list[int], bool]:
        """The root and its descendants (at most MAX_TREE), and whether the list was cut."""
        if self._ticks % HOST_PIDS_REFRESH_TICKS == 0:
            self._host_pids = len(psutil.pids())
        self._ticks += 1
        if _TASK_CHILDREN and not threads > self._host_pids:
            return _walk(root.pid, _task_children)
        try:
            found = [root.pid] + [c.pid for c in root.children(recursive=True)]
        except psutil.NoSuchProcess:
            found = [root.pid]
        return found[:MAX_TREE], len(found) > MAX_TREE


def _walk(root: int, children: Callable[[int], list[int]]) -> tuple[list[int], bool]:
    order, queue, seen = [root], [root], {root}
    while queue:
        for kid in children(queue.pop(0)):
            if kid in seen:
                continue
            if len(order) >= MAX_TREE:
                return order, True
            seen.add(kid)
            order.append(kid)
            queue.append(kid)
    return order, False


def _read_one(proc: psutil.Process) -> tuple[float, float, float, float]:
    """(rss bytes, cpu seconds so far, threads, fds) of one process; fds NaN if denied."""
    with proc.oneshot():
        if proc.status() == psutil.STATUS_ZOMBIE:
            raise psutil.ZombieProcess(proc.pid)
        times = proc.cpu_times()
        rss, threads = proc.memory_info().rss, proc.num_threads()
        try:
            fds = float(proc.num_fds()) if hasattr(proc, "num_fds") else NAN
        except psutil.AccessDenied:
            fds = NAN
    return float(rss), times.user + times.system, float(threads), fds


class _TreeReader:
    """Sums one process tree per tick. Keeps psutil.Process objects and CPU totals by pid,
    so CPU is the delta since the previous tick rather than since each process started."""

    def __init__(self, root: psutil.Process) -> None:
        self.root = root
        self.cut = False
        self._lister = _TreeLister()
        self._procs: dict[int, psutil.Process] = {root.pid: root}
        self._cpu_total: dict[int, float] = {}
        self._threads = 1.0

    def read(self, dt: float | None) -> tuple[float, float, float, float] | None:
        """(rss, cores, threads, fds) summed over the tree, or None once the root is gone."""
        try:
            first = _read_one(self.root)
        except psutil.NoSuchProcess:  # includes zombies: exited, not yet reaped
            return None
        pids, self.cut = self._lister.pids(self.root, self._threads)
        rows = [(first, self._cores(self.root.pid, first[1], dt, None))]
        for pid in pids[1:]:
            row = self._read_child(pid, dt)
            if row is not None:
                rows.append(row)
        live = {self.root.pid, *pids}
        self._procs = {p: v for p, v in self._procs.items() if p in live}
        self._cpu_total = {p: v for p, v in self._cpu_total.items() if p in live}
        rss, threads, fds = (sum(r[0][i] for r in rows) for i in (0, 2, 3))
        self._threads = threads
        return rss, sum(r[1] for r in rows), threads, fds

    def _read_child(self, pid: int, dt: float | None) -> tuple[tuple, float] | None:
        try:
            proc = self._procs.get(pid) or psutil.Process(pid)
            self._procs[pid] = proc
            values = _read_one(proc)
        except psutil.Error:  # ended between listing and reading, or not ours to read
            return None
        return values, self._cores(pid, values[1], dt, proc)

    def _cores(self, pid: int, total: float, dt: float | None, proc: Any) -> float:
        last = self._cpu_total.get(pid)
        self._cpu_total[pid] = total
        if dt is None or dt <= 0:
            return NAN
        if last is None or total < last:  # new to the tree (or a reused pid)
            born_recently = proc is not None and proc.create_time() >= time.time() - dt
            last = 0.0 if born_recently else total  # an old process only primes its total
        return (total - last) / dt


def _host_busy() -> tuple[float, float]:
    """(busy, total) host CPU seconds; our own delta, so other psutil.cpu_percent() callers
    in this process neither disturb nor are disturbed by the sampler."""
    t = psutil.cpu_times()
    total = sum(t) - getattr(t, "guest", 0.0) - getattr(t, "guest_nice", 0.0)
    return total - t.idle - getattr(t, "iowait", 0.0), total


def _next_tick(previous: float, now: float, interval: float) -> float:
    """The next slot after `now` on the original grid: late ticks are skipped, never bunched."""
    return previous + (math.floor((now - previous) / interval) + 1) * interval


class ProbeSampler:
    """Samples a process tree (or just the host, with ``process=None``) on a daemon thread.

    Use as a context manager or call ``start()`` / ``stop()``; ``stop()`` returns the
    ProbeSeries (and keeps returning it). Times are ``clock() - t0``: pass the load's ``t0``
    so probe and load share a time axis.
    """

    def __init__(
        self,
        process: psutil.Process | None,
        interval: float = DEFAULT_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
        t0: float | None = None,
    ) -> None:
        if not interval > 0:
            raise ValueError(f"interval must be > 0, got {interval!r}")
        self._process, self._interval, self._clock, self._t0 = process, float(interval), clock, t0
        self._tree = _TreeReader(process) if process is not None else None
        self._rows: list[tuple[float, ...]] = []
        self._notes: list[str] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="infratest-probe", daemon=True)
        self._gone_at: float | None = None
        self._last_tick: float | None = None
        self._host_last: tuple[float, float] | None = None
        self._cpu_used = 0.0
        self._slowed = False
        self._series: ProbeSeries | None = None

    @property
    def samples(self) -> int:
        """Ticks recorded so far (tests poll this instead of sleeping)."""
        with self._lock:
            return len(self._rows)

    @property
    def process_gone_at(self) -> float | None:
        """When the probed process was first seen gone, on the series' time axis."""
        return self._gone_at

    def start(self) -> ProbeSampler:
        """Begin sampling now; the first row is taken at once."""
        if self._t0 is None:
            self._t0 = self._clock()
        self._thread.start()
        return self

    def stop(self) -> ProbeSeries:
        """Stop, join the thread (bounded), and return the series."""
        if self._series is None:
            self._stopping.set()
            if self._thread.is_alive():
                self._thread.join(timeout=max(JOIN_TIMEOUT_S, 2 * self._interval))
            if self._thread.is_alive():
                self._note(f"sampler thread did not stop within {JOIN_TIMEOUT_S:g} s")
            self._series = self._build()
        return self._series

    def __enter__(self) -> ProbeSampler:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self) -> None:
        next_at = self._clock()
        try:
            while not self._stopping.is_set():
                spent = time.thread_time()
                self._tick()
                spent = time.thread_time() - spent
                now = self._clock()
                next_at = _next_tick(next_at, now, self._interval)
                if spent > CPU_BUDGET * self._interval:  # a big tree: thin out the ticks
                    next_at = _next_tick(next_at, now + spent / CPU_BUDGET, self._interval)
                    self._over_budget(spent)
                self._stopping.wait(max(next_at - now, 0.0))
        finally:
            self._cpu_used = time.thread_time()

    def _over_budget(self, spent: float) -> None:
        if not self._slowed:
            self._slowed = True
            self._note(
                f"probe sampled less often than every {self._interval:g} s: a reading took "
                f"{spent * 1e3:.1f} ms of CPU, over the budget of {CPU_BUDGET:.0%} of a core"
            )

    def _tick(self) -> None:
        now = self._clock()
        dt = None if self._last_tick is None else now - self._last_tick
        self._last_tick = now
        assert self._t0 is not None
        try:
            row = (now - self._t0, *self._read_process(now, dt), *self._read_host())
        except Exception as exc:  # keep sampling: one bad reading must not end the probe
            self._note(f"probe reading failed: {type(exc).__name__}: {exc}")
            return
        with self._lock:
            self._rows.append(row)

    def _read_process(self, now: float, dt: float | None) -> tuple[float, float, float, float]:
        if self._tree is None or self._gone_at is not None:
            return _NO_PROCESS
        values = self._tree.read(dt)
        if self._tree.cut:
            self._note(f"process tree has more than {MAX_TREE} processes: sampled the first")
        if values is None:
            assert self._t0 is not None
            self._gone_at = now - self._t0
            return _NO_PROCESS
        return values

    def _read_host(self) -> tuple[float, float]:
        busy, total = _host_busy()
        last, self._host_last = self._host_last, (busy, total)
        share = NAN
        if last is not None and total > last[1]:
            share = min(max((busy - last[0]) / (total - last[1]), 0.0), 1.0)
        return float(psutil.virtual_memory().available), share

    def _note(self, text: str) -> None:
        with self._lock:
            if text not in self._notes:
                self._notes.append(text)

    def _build(self) -> ProbeSeries:
        with self._lock:
            rows = np.array(self._rows, dtype=float).reshape(-1, 7)
            notes = list(self._notes)
        cols = [rows[:, i].copy() for i in range(7)]
        pid = self._process.pid if self._process is not None else None
        return ProbeSeries(*cols, pid, self._gone_at, self._cpu_used, notes)
