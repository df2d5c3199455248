"""Parent side of a distributed load run: start Locust's master and the local workers (each
in a process group of its own), read what the master relays, always reap every process.

Like the single-process run (:mod:`infratest.workloads.load_runner`) this module never
imports Locust. A worker that dies is noticed twice: the master prints it as lost when its
heartbeats stop, and a local one's exit code is read here; the run ends with what the
others measured either way.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from infratest.workloads import fleet_protocol as proto
from infratest.workloads.child_process import (
    TERM_GRACE_S,
    child_env,
    stderr_tail,
    supervise,
    terminate,
)
from infratest.workloads.child_stream import StopRequest, StreamReader, Watcher, signal_stop
from infratest.workloads.cpu_sampler import THREAD_JOIN_S, CpuSampler, cpu_peak
from infratest.workloads.fleet import FleetSettings
from infratest.workloads.load_plan import LoadPlan
from infratest.workloads.load_record import LoadRecord
from infratest.workloads.load_runner import HARD_TIMEOUT_MARGIN_S, LoadRun, LoadRunError
from infratest.workloads.worker_policy import WorkerPolicy

_NULL = subprocess.DEVNULL


class _FleetMarks:
    """The master's marks: who joined, who was lost, and why the run could not start."""

    def __init__(self, record: LoadRecord) -> None:
        self.record = record
        self.joined: list[str] = []
        self.error: str | None = None

    def __call__(self, message: dict[str, Any]) -> None:
        event = message.get("event")
        if event == proto.JOINED:
            self.joined.append(str(message.get("worker")))
        elif event == proto.LOST:
            self.record.workers.mark_lost(str(message.get("worker")), str(message.get("why")))
        elif event == proto.FAILED:
            self.error = str(message.get("why"))


def _spawn(work: Path, args: list[str], stdout: int, stderr: IO[bytes]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", *args],
        cwd=work,
        env=child_env(),
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
        text=True,
        bufsize=1,
        start_new_session=True,
    )


@contextlib.contextmanager
def _local_workers(
    work: Path, fleet: FleetSettings, record: LoadRecord
) -> Iterator[list[subprocess.Popen[str]]]:
    """Start the local workers; on the way out note the ones that died, then reap them all."""
    master = f"{fleet.connect_host}:{fleet.port}"
    procs: dict[str, subprocess.Popen[str]] = {}
    with contextlib.ExitStack() as files:
        try:
            for name in fleet.local_names():
                stderr = files.enter_context(open(work / f"{name}.stderr", "w+b"))
                args = ["infratest.workloads.locust_worker", "--master", master, "--name", name]
                procs[name] = _spawn(work, [*args, "--policy", "policy.json"], _NULL, stderr)
            yield list(procs.values())
        finally:
            _reap_workers(procs, record)


def _reap_workers(procs: dict[str, subprocess.Popen[str]], record: LoadRecord) -> None:
    """Note the local workers that died, then let the rest exit (the master's quit ends
    them) or end them."""
    for name, proc in procs.items():
        code = proc.poll()
        if code is not None and code != 0:
            record.workers.mark_lost(name, f"its process exited with code {code}")
    for proc in procs.values():
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(TERM_GRACE_S)
        if proc.returncode is None:
            terminate(proc)


def _run_master(
    work: Path, limit_s: float, record: LoadRecord, watcher: Watcher | None, marks: _FleetMarks
) -> tuple[int, list[tuple[float, float]], str, bool, StopRequest | None]:
    """Run the master until it ends (or its hard limit): exit code, its CPU samples, its
    stderr tail, whether the limit hit, and a watcher's stop if one came."""
    with open(work / "master.stderr", "w+b") as stderr:
        args = ["infratest.workloads.locust_master", "plan.json", "fleet.json"]
        proc = _spawn(work, args, subprocess.PIPE, stderr)
        sampler = CpuSampler(proc.pid)
        assert proc.stdout is not None
        reader = StreamReader(proc.stdout, sampler, record, watcher, signal_stop(proc), marks)
        try:
            sampler.start()
            reader.start()
            timed_out = supervise(proc, limit_s)
        finally:
            if proc.returncode is None:
                terminate(proc)
            sampler.halt()
            if reader.ident is not None:  # Ctrl-C can land before it started
                reader.join(THREAD_JOIN_S)
            if proc.stdout is not None:
                proc.stdout.close()
        tail = stderr_tail(stderr)
    return proc.returncode, sampler.samples, tail, timed_out, reader.stop


def run_fleet(
    plan: LoadPlan,
    fleet: FleetSettings,
    policy: WorkerPolicy,
    *,
    watcher: Watcher | None = None,
    hard_timeout_s: float | None = None,
) -> LoadRun:
    """Run `plan` on a Locust master with `fleet.local_workers` local workers (and the remote
    ones it expects); the same LoadRun as a single-process run, with workers in the record.
    Raises LoadRunError when the workers did not all join or one refused the plan."""
    limit = hard_timeout_s
    if limit is None:
        limit = fleet.wait_s + plan.duration_s + plan.timeout_s + HARD_TIMEOUT_MARGIN_S
    record = LoadRecord.for_plan(plan)
    marks = _FleetMarks(record)
    with tempfile.TemporaryDirectory(prefix="infratest-fleet-") as tmp:
        work = Path(tmp)
        (work / "plan.json").write_text(plan.to_json())
        (work / "fleet.json").write_text(fleet.to_json())
        (work / "policy.json").write_text(policy.to_json())
        with _local_workers(work, fleet, record):
            code, samples, tail, timed_out, stop = _run_master(work, limit, record, watcher, marks)
    if marks.error is not None:
        raise LoadRunError(marks.error)
    if not record.ticks:
        raise LoadRunError(
            f"the load generators streamed no results (master exit code {code})\n"
            f"--- master stderr tail ---\n{tail}"
        )
    if record.final is None:
        record.close_unexpectedly(f"no worker finished its run (master exit code {code})")
    cpu = np.asarray(samples, dtype=np.float64).reshape(-1, 2)
    peak = max([cpu_peak(cpu), *(v.cpu_peak for v in record.workers.by_name.values())])
    return LoadRun(record, cpu, peak, code, tail, stop, limit if timed_out else None)
