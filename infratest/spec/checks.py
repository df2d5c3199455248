"""Checks that span sections or need the config: targets exist and are allowed, limits hold,
every expected metric is one the workload measures, in a unit of the right dimension.

Each check returns (path, message) pairs; the loader turns them into located problems.
"""

from __future__ import annotations

from collections.abc import Iterator

from infratest.hosts import HostNotAllowed, check_allowed
from infratest.metrics import (
    LOAD_LIKE,
    METRICS,
    OPEN_MODEL_METRICS,
    PREDICTION_METRICS,
    RATE_STEP_METRICS,
    USER_STEP_METRICS,
    produced_by,
)
from infratest.spec.body_checks import body_file_findings
from infratest.spec.compare_checks import (
    change_findings,
    compare_findings,
    prediction_metric_findings,
)
from infratest.spec.config import Config, Limits, TargetConfig
from infratest.spec.errors import suggest
from infratest.spec.llm_checks import llm_findings
from infratest.spec.problems import Path
from infratest.spec.prom_checks import prometheus_findings
from infratest.spec.replay_checks import replay_findings
from infratest.spec.resource_sections import ProbeSpec
from infratest.spec.scenario import Assumption, Scenario
from infratest.spec.user_classes import user_class_findings
from infratest.units import Condition, Dimension, describe, fits, format_quantity

Finding = tuple[Path, str]

# Workloads that send traffic to the scenario's shared target instance; cold starts also need
# the target, but launch fresh instances of their own.
SHARED_TARGET_WORKLOADS = ("load", "replay", "llm", "sweep", "capacity", "fuzz")
TARGET_WORKLOADS = (*SHARED_TARGET_WORKLOADS, "cold_start")
LOAD_METRICS = tuple(m for m in produced_by("load") if m not in OPEN_MODEL_METRICS)
# Ratio metrics that are not a share of a whole: superlinear scaling is rare but real.
UNBOUNDED_RATIOS = ("scaling.efficiency",)
# gpu.* metrics only NVML gives (a Prometheus probe reads GPU memory only).
GPU_PROBE_ONLY = ("gpu.power.mean", "gpu.utilization.mean")


def effective_probe(assumption: Assumption, target: TargetConfig | None) -> ProbeSpec | None:
    """The probe that will run: as written, or by default the managed target's process tree
    (plus the host); cold starts measure their own instances instead."""
    if assumption.probe is not None:
        return assumption.probe if assumption.probe.enabled else None
    if assumption.workload == "cold_start":
        return None
    managed = target is not None and target.managed
    if managed and assumption.workload in (*LOAD_LIKE, "sweep", "capacity", "observe"):
        return ProbeSpec(target=True)
    return ProbeSpec()


def check_expect(
    metric: str, condition: Condition, offered: list[str], workload: str, path: Path
) -> Iterator[Finding]:
    """One `expect` (or SLO) entry: known, produced here, and in a fitting unit."""
    where = (*path, metric)
    if metric not in METRICS:
        hint = suggest(metric, list(METRICS))
        yield (
            where,
            f"unknown metric '{metric}'{hint}; a {workload} workload offers: " + ", ".join(offered),
        )
        return
    info = METRICS[metric]
    if metric not in offered:
        if metric.startswith("gpu."):
            yield where, _gpu_hint(metric, offered)
        elif metric.startswith(("host.", "process.")) and GPU_PROBE_ONLY[0] in offered:
            yield (
                where,
                f"{metric} is not read by a gpu probe (NVML gives gpu.* only): check it in "
                "another assumption with its own probe",
            )
        elif metric.startswith("host.") and "gpu.memory.used.peak" in offered:
            yield (  # only a Prometheus probe offers gpu.*; it reads the exporter's host
                where,
                f"{metric} is this machine's, read by psutil: a prometheus probe does not "
                "give it (check it in another assumption with `probe: host`)",
            )
        elif info.source == "probe" and metric.startswith("process."):
            yield (
                where,
                (
                    f"{metric} needs a probe on a process: add `probe: target` (managed "
                    "target) or `probe: {port: N}` / `{pid: N}` / `{name: ...}`"
                ),
            )
        else:
            yield (
                where,
                f"{metric} is not measured by a {workload} workload; it offers: "
                + ", ".join(offered),
            )
        return
    given = condition.text.lstrip("<>= ")
    if condition.is_change:
        return  # a change from a baseline: see infratest.spec.compare_checks
    if not fits(condition.dimension, info.dimension):
        yield where, f'expected {describe(info.dimension)}, got "{given}"'
    elif is_share(metric) and not 0.0 <= condition.bound <= 1.0:
        yield where, f'{metric} is a share between 0 and 100%, got "{given}"'


def _gpu_hint(metric: str, offered: list[str]) -> str:
    """Why a gpu.* metric is not offered, and the probe that would give it."""
    local = "`probe: {gpu: all}` (or `{gpu: 0}`: this machine's GPUs through NVML)"
    if metric in GPU_PROBE_ONLY:
        prometheus = "gpu.memory.used.peak" in offered  # the only gpu.* metric it reads
        extra = "; a Prometheus probe reads only gpu.memory.used.peak" if prometheus else ""
        return f"{metric} needs a gpu probe: add {local}{extra}"
    return (
        f"{metric} needs a GPU probe: add {local}, or a Prometheus probe on a GPU exporter "
        "(Triton or DCGM): `probe: {prometheus: /metrics}` or "
        "`{prometheus: http://HOST:PORT/metrics}`"
    )


def is_share(metric: str) -> bool:
    """Whether a metric's values are a share of a whole (0..100%), such as errors.rate or
    host.cpu.mean, so a bound outside that range is a mistake."""
    return METRICS[metric].dimension == Dimension.RATIO and metric not in UNBOUNDED_RATIOS


def _offered(assumption: Assumption, probe: ProbeSpec | None) -> list[str]:
    network = assumption.network.kind if assumption.network else None
    names = produced_by(assumption.workload, network, probed=probe is not None)
    if probe is not None and not probe.selects_process:
        names = [n for n in names if not n.startswith("process.")]
    names = [n for n in names if _probe_reads(probe, n)]
    if assumption.compare is not None and assumption.compare.predictions is not None:
        names = [*names, *sorted(PREDICTION_METRICS)]
    section = assumption.load or assumption.sweep or assumption.capacity
    rated = section or assumption.llm
    open_model = assumption.replay is not None or (rated is not None and bool(rated.rate))
    if not open_model:  # closed model: no schedule
        names = [n for n in names if n not in OPEN_MODEL_METRICS]
    if assumption.sweep is not None or assumption.capacity is not None:
        by_rate = section is not None and section.rate is not None
        names = [n for n in names if n not in (USER_STEP_METRICS if by_rate else RATE_STEP_METRICS)]
    return names


def _probe_reads(probe: ProbeSpec | None, metric: str) -> bool:
    """Whether a probe-made metric comes out of this probe: psutil reads this machine's host
    and processes, a Prometheus probe an exporter's process and GPU memory, a gpu probe only
    this machine's GPUs."""
    if probe is None or not metric.startswith(("host.", "process.", "gpu.")):
        return True
    if probe.reads_gpus:
        return metric.startswith("gpu.")
    if probe.prometheus is not None:
        return not metric.startswith("host.") and metric not in GPU_PROBE_ONLY
    return not metric.startswith("gpu.")


def _target_findings(
    target_name: str | None, a: Assumption, config: Config, base: Path
) -> Iterator[Finding]:
    probe_on_target = a.probe is not None and (a.probe.target or a.probe.on_target)
    if a.workload not in TARGET_WORKLOADS and not probe_on_target:
        return
    if target_name is None:
        yield (*base, a.workload), "needs a target: set `target:` at the top of the scenario"
        return
    target = config.targets.get(target_name)
    if target is None:
        return  # reported once, for the scenario's `target`
    if a.workload == "cold_start" and not target.managed:
        yield (
            (*base, "cold_start"),
            (
                f"needs a managed target (one with `launch` in the "
                f"config); '{target_name}' is remote"
            ),
        )
    if a.probe and a.probe.target and not target.managed:
        yield (
            (*base, "probe"),
            (
                f"probe: target needs a managed target; '{target_name}' "
                "is remote: select a local process with pid, port, name or "
                "cmdline"
            ),
        )


def _address_findings(a: Assumption, config: Config, base: Path) -> Iterator[Finding]:
    if a.network is not None and a.network.target is not None:
        yield from _config_target(a.network.target, config, (*base, "network", "target"))
    elif a.network is not None and a.network.kind in ("tcp", "http"):
        address = a.network.tcp or a.network.http or ""
        yield from _allowed(address, config, (*base, "network", a.network.kind))
    if a.s3 is not None and a.s3.target is not None:
        yield from _config_target(a.s3.target, config, (*base, "s3", "target"))
    if a.probe is not None and a.probe.prometheus is not None and not a.probe.on_target:
        yield from _allowed(a.probe.prometheus, config, (*base, "probe", "prometheus"))


def _config_target(name: str, config: Config, path: Path) -> Iterator[Finding]:
    """A section's own `target`: it exists in the config and its host is allowed."""
    if name not in config.targets:
        yield path, f"unknown target '{name}'{suggest(name, list(config.targets))}"
    else:
        yield from _allowed(config.targets[name].url, config, path)


def _allowed(address: str, config: Config, path: Path) -> Iterator[Finding]:
    try:
        check_allowed(address, config.allow.hosts)
    except HostNotAllowed as exc:
        yield path, str(exc)
    except ValueError as exc:
        yield path, f"cannot read a host from {address!r}: {exc}"


def _limit_findings(a: Assumption, config: Config, base: Path) -> Iterator[Finding]:
    limits, source = config.limits, config.path or "the config"
    users: list[tuple[Path, int]] = []
    durations: list[tuple[Path, float]] = []
    for name in ("load", "llm"):  # an llm section is a load section with another client
        section = getattr(a, name)
        if section is None:
            continue
        if section.users is not None:
            users.append(((name, "users"), section.users))
        durations.append(((name, "duration"), section.duration))
        path = (*base, name)
        yield from _open_model_findings(section.rate, section.max_in_flight, limits, source, path)
    if a.sweep:
        if a.sweep.users is not None:
            users.append((("sweep", "users"), max(a.sweep.users)))
        durations.append((("sweep", "step"), a.sweep.step * len(a.sweep.levels)))
        top = max(a.sweep.rate) if a.sweep.rate else None
        yield from _open_model_findings(
            top, a.sweep.max_in_flight, limits, source, (*base, "sweep")
        )
    if a.capacity:
        if a.capacity.users is not None:
            users.append((("capacity", "users", "max"), a.capacity.users.max))
        durations.append((("capacity", "step"), a.capacity.step * a.capacity.max_steps))
        top = a.capacity.rate.max if a.capacity.rate else None
        path = (*base, "capacity")
        yield from _open_model_findings(top, a.capacity.max_in_flight, limits, source, path)
    if a.observe:
        durations.append((("observe", "duration"), a.observe.duration))
    for path, count in users:
        if count > limits.max_users:
            yield (
                base + path,
                (f"{count} users is above limits.max_users ({limits.max_users}) of {source}"),
            )
    for path, seconds in durations:
        if seconds > limits.max_duration:
            total = format_quantity(seconds, Dimension.DURATION)
            cap = format_quantity(limits.max_duration, Dimension.DURATION)
            yield base + path, f"runs up to {total}, above limits.max_duration ({cap}) of {source}"


def _open_model_findings(
    rate: float | None, max_in_flight: int | None, limits: Limits, source: str, path: Path
) -> Iterator[Finding]:
    """A rate (the largest a workload asks), and the requests it may keep in flight, within
    the config's ceilings."""
    if rate is not None and rate > limits.max_rate:
        asked = format_quantity(rate, Dimension.RATE)
        cap = format_quantity(limits.max_rate, Dimension.RATE)
        yield (*path, "rate"), f"rate {asked} is above limits.max_rate ({cap}) of {source}"
    if max_in_flight is not None and max_in_flight > limits.max_in_flight:
        yield (
            (*path, "max_in_flight"),
            f"max_in_flight {max_in_flight} is above limits.max_in_flight "
            f"({limits.max_in_flight}) of {source}",
        )


def _traffic_findings(a: Assumption, base: Path) -> Iterator[Finding]:
    section = a.load or a.sweep or a.capacity
    if section is not None and not section.requests and not section.own_user:
        yield (
            (*base, a.workload),
            (
                f"no requests to send: give {a.workload}.requests or defaults.load.requests "
                '(or user_class: "module:Class", your own Locust user)'
            ),
        )
    yield from user_class_findings(a, base)
    if section is None and a.workload not in LOAD_LIKE and "latency_of" in a.model_fields_set:
        yield (
            (*base, "latency_of"),
            (
                f"latency_of applies to load, replay, llm, sweep and capacity (their latency "
                f"figures); "
                f"a {a.workload} workload has none"
            ),
        )


def check_assumption(
    target_name: str | None,
    a: Assumption,
    index: int,
    config: Config | None,
    scenario_path: str = "",
) -> Iterator[Finding]:
    """Every finding about one assumption of a scenario whose target is `target_name`."""
    base: Path = ("assumptions", index)
    target = config.targets.get(target_name) if config and target_name else None
    probe = effective_probe(a, target)
    offered = _offered(a, probe)
    yield from prometheus_findings(probe, [m for m in a.expect if m in offered], base)
    for metric, condition in a.expect.items():
        yield from check_expect(metric, condition, offered, a.workload, (*base, "expect"))
    if a.capacity is not None:
        for metric, condition in a.capacity.slo.items():
            yield from check_expect(
                metric, condition, list(LOAD_METRICS), "load", (*base, "capacity", "slo")
            )
    yield from _traffic_findings(a, base)
    yield from change_findings(a, base)
    yield from prediction_metric_findings(a, base)
    yield from compare_findings(a, scenario_path, config, base)
    yield from body_file_findings(a, scenario_path, base)
    if a.replay is not None:
        yield from replay_findings(a.replay, scenario_path, config, base)
    if a.llm is not None:
        yield from llm_findings(a.llm, a.expect, scenario_path, base)
    if config is not None and a.compare is not None and a.compare.candidate in config.targets:
        yield from _config_target(a.compare.candidate, config, (*base, "compare", "candidate"))
    if config is not None:
        yield from _target_findings(target_name, a, config, base)
        yield from _address_findings(a, config, base)
        yield from _limit_findings(a, config, base)


def check_target_ref(target_name: str | None, config: Config | None) -> Iterator[Finding]:
    """The scenario's `target` names a target of the config, on an allowed host."""
    if config is None or target_name is None:
        return
    if target_name not in config.targets:
        hint = suggest(target_name, list(config.targets))
        known = ", ".join(config.targets) or "none"
        where = config.path or "the config"
        yield ("target",), f"unknown target '{target_name}'{hint}; targets in {where}: {known}"
    else:
        yield from _allowed(config.targets[target_name].url, config, ("target",))


def check_names(names: list[object]) -> Iterator[Finding]:
    """Assumption names are test ids: each must be unique in its file."""
    seen: set[object] = set()
    for index, name in enumerate(names):
        if name in seen:
            yield ("assumptions", index, "name"), f"duplicate assumption name '{name}'"
        seen.add(name)


def check_scenario(scenario: Scenario, config: Config | None) -> Iterator[Finding]:
    """Every finding about a valid scenario: its target, unique names, and each assumption."""
    yield from check_target_ref(scenario.target, config)
    yield from check_names([a.name for a in scenario.assumptions])
    for index, assumption in enumerate(scenario.assumptions):
        yield from check_assumption(scenario.target, assumption, index, config, scenario.path)
