"""Running assumptions: resolve the target, run the workload, decide the verdict.

One :class:`Runner` lives for a whole pytest session, so managed targets start once and are
shared by the assumptions that use them; closing it stops every process it started.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from infratest.compare_probes import compared_probes
from infratest.hosts import HostNotAllowed
from infratest.measurements import MeasurementError, Measurements
from infratest.observation import start_observation
from infratest.results.contract import utc_timestamp
from infratest.spec.checks import SHARED_TARGET_WORKLOADS
from infratest.spec.config import Config, TargetConfig
from infratest.spec.scenario import Assumption, Scenario
from infratest.targets import Target, TargetError, TargetPool, TargetSpec
from infratest.trace_evidence import with_evidence
from infratest.verdict import Outcome, error_outcome, evaluate
from infratest.workloads.context import Progress, WorkloadContext
from infratest.workloads.warm_generator import GeneratorPool

Workload = Callable[[WorkloadContext], Measurements]


def _load(ctx: WorkloadContext) -> Measurements:
    if ctx.assumption.compare is not None:
        from infratest.workloads.compare import run_compare_workload

        return run_compare_workload(ctx)
    from infratest.workloads.load import run_load_workload

    return run_load_workload(ctx)


def _observe(ctx: WorkloadContext) -> Measurements:
    from infratest.workloads.observe import run_observe_workload

    return run_observe_workload(ctx)


def _cold_start(ctx: WorkloadContext) -> Measurements:
    from infratest.workloads.cold_start import run_cold_start_workload

    return run_cold_start_workload(ctx)


def _disk(ctx: WorkloadContext) -> Measurements:
    from infratest.workloads.disk import run_disk

    assert ctx.assumption.disk is not None
    return run_disk(ctx.assumption.disk, ctx.confidence)


def _network(ctx: WorkloadContext) -> Measurements:
    from infratest.workloads.network import run_network

    spec = ctx.assumption.network
    assert spec is not None
    if spec.target is not None:
        spec = spec.at(ctx.targets.get(spec.target).url)
    return run_network(spec, ctx.confidence, ctx.allow_hosts)


def _s3(ctx: WorkloadContext) -> Measurements:
    from infratest.workloads.s3 import run_s3_workload

    return run_s3_workload(ctx)


def _sweep(ctx: WorkloadContext) -> Measurements:
    from infratest.workloads.sweep import run_sweep_workload

    return run_sweep_workload(ctx)


def _capacity(ctx: WorkloadContext) -> Measurements:
    from infratest.workloads.capacity import run_capacity_workload

    return run_capacity_workload(ctx)


def _replay(ctx: WorkloadContext) -> Measurements:
    from infratest.workloads.replay import run_replay_workload

    return run_replay_workload(ctx)


def _llm(ctx: WorkloadContext) -> Measurements:
    from infratest.workloads.llm import run_llm_workload

    return run_llm_workload(ctx)


def _fuzz(ctx: WorkloadContext) -> Measurements:
    from infratest.workloads.fuzz import run_fuzz_workload

    return run_fuzz_workload(ctx)


# Imported lazily: a session that only checks disks never loads the load generator's code.
WORKLOADS: dict[str, Workload] = {
    "load": _load,
    "replay": _replay,
    "llm": _llm,
    "observe": _observe,
    "cold_start": _cold_start,
    "disk": _disk,
    "network": _network,
    "s3": _s3,
    "sweep": _sweep,
    "capacity": _capacity,
    "fuzz": _fuzz,
}


@dataclass
class AssumptionResult:
    """One assumption's verdict with everything measured, ready for the results file."""

    id: str
    scenario: Scenario
    assumption: Assumption
    outcome: Outcome
    measurements: Measurements
    started_at: str
    duration_s: float
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The results-file form (see the README's results section)."""
        from infratest.results.contract import result_to_dict

        return result_to_dict(self)


def target_spec(name: str, target: TargetConfig) -> TargetSpec:
    """A config target as the process manager takes it."""
    return TargetSpec(
        name=name,
        url=target.url,
        launch=target.launch,
        ready=target.ready,
        ready_timeout_s=target.ready_timeout,
        stop_timeout_s=target.stop_timeout,
        env=dict(target.env),
        cwd=target.cwd,
        version=target.version,
    )


def _needs_target(assumption: Assumption) -> bool:
    """Whether the scenario's shared target instance must run for this assumption."""
    probe = assumption.probe
    probe_target = probe is not None and (probe.target or probe.on_target)
    return assumption.workload in SHARED_TARGET_WORKLOADS or probe_target


class Runner:
    """Runs assumptions for one session and owns the targets it starts."""

    def __init__(self, config: Config) -> None:
        self.config = config
        specs = {name: target_spec(name, t) for name, t in config.targets.items()}
        self.pool = TargetPool(specs, config.allow.hosts)
        self.generators = GeneratorPool()  # warm Locust children, reused run after run

    def _measure(
        self, scenario: Scenario, assumption: Assumption, progress: Progress | None
    ) -> Measurements:
        workload = WORKLOADS.get(assumption.workload)
        if workload is None:
            raise MeasurementError(
                f"the {assumption.workload} workload is not available in this version of infratest"
            )
        target = self.pool.get(scenario.target) if _needs_target(assumption) else None
        ctx = WorkloadContext(
            scenario,
            assumption,
            target,
            self.pool,
            self.pool.allow_hosts,
            progress,
            generators=self.config.generators,
            max_in_flight_limit=self.config.limits.max_in_flight,
            trace_headers=self.config.trace_headers,
            generator_pool=self.generators,
        )
        candidate = self._candidate(assumption)
        compared_blind = assumption.compare is not None and candidate is None
        # a compare probes both processes or neither: one side's figures must never pass
        # for the other's
        hosts = self.pool.allow_hosts
        observation = None if compared_blind else start_observation(assumption, target, hosts)
        other = start_observation(assumption, candidate) if candidate is not None else None
        try:
            found = workload(ctx)
        except BaseException:
            for running in (observation, other):
                if running is not None:
                    running.abandon()
            raise
        if observation is not None and other is not None:
            found.merge(compared_probes(assumption, found, observation, other, ctx.confidence))
        elif observation is not None:
            found.merge(observation.finish(assumption, found, ctx.confidence))
        for running_target in (target, candidate):
            if running_target is not None:
                _check_alive(running_target, found)
        if found.traces is not None:
            found.traces = with_evidence(found.traces, self.config.trace_url, target)
        return found

    def _candidate(self, assumption: Assumption) -> Target | None:
        """A compare's candidate, when its process is probed beside the baseline's."""
        compare, probe = assumption.compare, assumption.probe
        if compare is None or probe is None or not probe.enabled or not probe.target:
            return None
        if not self.config.targets[compare.candidate].managed:
            return None
        return self.pool.get(compare.candidate)

    def run(
        self,
        scenario: Scenario,
        assumption: Assumption,
        node_id: str,
        progress: Progress | None = None,
    ) -> AssumptionResult:
        """Measure one assumption and decide its verdict; failures become `error` verdicts."""
        started, clock = utc_timestamp(), time.monotonic()
        extra: dict[str, Any] = {}
        try:
            found = self._measure(scenario, assumption, progress)
            outcome = evaluate(assumption.expect, found)
        except (MeasurementError, TargetError, HostNotAllowed) as exc:
            found = Measurements(error=str(exc))
            outcome = error_outcome(assumption.expect, str(exc))
        except Exception as exc:  # nothing escapes: a bug is an `error` verdict, not a crash
            reason = f"infratest failed while measuring: {type(exc).__name__}: {exc}"
            found = Measurements(error=_one_line(reason))
            outcome = error_outcome(assumption.expect, found.error or reason)
            extra["traceback"] = traceback.format_exc()
        return AssumptionResult(
            node_id, scenario, assumption, outcome, found, started, time.monotonic() - clock, extra
        )

    def close(self) -> None:
        """Stop every process started for this session."""
        try:
            self.generators.close()
        finally:
            self.pool.close()


def _one_line(text: str, limit: int = 300) -> str:
    """A reason for the terminal: the first line, cut to a readable length."""
    first = text.strip().splitlines()[0] if text.strip() else text
    return first if len(first) <= limit else first[: limit - 1] + "…"


def _check_alive(target: Target, found: Measurements) -> None:
    """A target that died during the run makes the measurement an error, with its output."""
    try:
        target.check_alive()
    except TargetError as exc:
        found.error = f"target died during the run: {exc}"
