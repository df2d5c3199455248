"""Parent side of a load run: run the plan in a Locust child (a warm one of the session's
pool, or a fresh one), read what it streams, stop it early when a watcher has decided,
always reap it.

Locust monkey-patches whatever process imports it, so it runs in a child process
(`locust_child`) and this module never imports it. The parent also measures the
child's CPU: a load generator that runs out of CPU reports its own queueing as the
target's latency, so callers need to know when that happened.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from infratest.workloads.child_process import spawn_module, stderr_tail, supervise, terminate
from infratest.workloads.child_stream import (
    ChildOutcome,
    StopRequest,
    StreamReader,
    Watcher,
    signal_stop,
)
from infratest.workloads.cpu_sampler import THREAD_JOIN_S, CpuSampler, cpu_peak
from infratest.workloads.load_plan import LoadPlan
from infratest.workloads.load_record import LoadRecord
from infratest.workloads.warm_generator import GeneratorPool

HARD_TIMEOUT_MARGIN_S = 30.0

__all__ = ["LoadRun", "LoadRunError", "StopRequest", "UserClassError", "Watcher", "run_load"]


class LoadRunError(Exception):
    """The load generator failed to start or crashed before streaming anything."""


class UserClassError(LoadRunError):
    """The scenario's own user class could not be loaded; says where it is written and why."""


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


def _run_child(
    work: Path, limit_s: float, record: LoadRecord, watcher: Watcher | None
) -> ChildOutcome:
    """Start a one-shot child in `work`, read its stream, sample its CPU, always reap it."""
    with open(work / "stderr.txt", "w+b") as stderr:
        proc = spawn_module("infratest.workloads.locust_child", ["plan.json"], work, stderr)
        sampler = CpuSampler(proc.pid)
        assert proc.stdout is not None
        reader = StreamReader(proc.stdout, sampler, record, watcher, signal_stop(proc))
        try:
            sampler.start()
            reader.start()
            timed_out = supervise(proc, limit_s)
        finally:
            if proc.returncode is None:  # a thread failed to start: still end and reap it
                terminate(proc)
            sampler.halt()
            if reader.ident is not None:  # Ctrl-C can land before it started: nothing to join
                reader.join(THREAD_JOIN_S)
            if proc.stdout is not None:
                proc.stdout.close()
        if reader.user_class_error is not None:
            raise UserClassError(reader.user_class_error)
        cpu = np.asarray(sampler.samples, dtype=np.float64).reshape(-1, 2)
        return ChildOutcome(proc.returncode, cpu, timed_out, reader.stop, stderr_tail(stderr))


def run_load(
    plan: LoadPlan,
    *,
    watcher: Watcher | None = None,
    hard_timeout_s: float | None = None,
    generators: GeneratorPool | None = None,
) -> LoadRun:
    """Run `plan` in a Locust child process and return what it streamed.

    `watcher(record, generator_cpu_peak)` is called after every tick (once a second) and
    may return a StopRequest to end the run early. Past `hard_timeout_s` (default:
    duration + timeout + 30 s) the child is terminated; what it streamed until then is kept.
    With `generators` (the session's pool) a warm child runs the plan, unless the plan
    loads the scenario's own user class (its module must not outlive the run); otherwise
    a fresh child does. Raises LoadRunError when the child streamed nothing at all.
    """
    limit = hard_timeout_s
    if limit is None:
        limit = plan.duration_s + plan.timeout_s + HARD_TIMEOUT_MARGIN_S
    record = LoadRecord.for_plan(plan)
    if generators is not None and not plan.own_user:
        outcome = generators.run(plan.to_json(), limit, record, watcher)
    else:
        with tempfile.TemporaryDirectory(prefix="infratest-load-") as tmp:
            work = Path(tmp)
            (work / "plan.json").write_text(plan.to_json())
            outcome = _run_child(work, limit, record, watcher)
    code = outcome.exit_code
    if not record.ticks:
        raise LoadRunError(
            f"load generator streamed no results (exit code {code}"
            f"{f'; hard timeout of {limit:.1f} s hit' if outcome.timed_out else ''})\n"
            f"--- stderr tail ---\n{outcome.stderr_tail}"
        )
    if record.final is None:
        record.close_unexpectedly(f"the load generator ended without finishing (exit code {code})")
    return LoadRun(
        record,
        outcome.cpu,
        cpu_peak(outcome.cpu),
        code,
        outcome.stderr_tail,
        outcome.stop,
        limit if outcome.timed_out else None,
    )
