"""Checks of a `replay` section that need its recording or the config: the file reads and every
line is a request, something is left after `paths`, recorded hosts (when kept) are allowed, and
the run fits the config's limits. Reported at the section's key, with the file's own line."""

from __future__ import annotations

from collections.abc import Iterator

from infratest.hosts import HostNotAllowed, check_allowed
from infratest.spec.body_checks import schema_problem
from infratest.spec.config import Config
from infratest.spec.inputs_file import inputs_path
from infratest.spec.problems import Path as SpecPath
from infratest.spec.replay_section import ReplaySpec
from infratest.spec.traffic_file import RecordedRequest, TrafficFileError, read_traffic
from infratest.units import Dimension, format_quantity

Finding = tuple[SpecPath, str]


def replay_findings(
    spec: ReplaySpec, scenario_path: str, config: Config | None, base: SpecPath
) -> Iterator[Finding]:
    """Every reason the replay cannot run as written."""
    where = (*base, "replay")
    check = spec.answer_check
    problem = schema_problem(scenario_path, check.json_schema if check else None)
    if problem:
        yield (*where, "validate", "json_schema"), problem
    try:
        traffic = read_traffic(inputs_path(scenario_path, spec.file))
    except TrafficFileError as exc:
        yield (*where, "file"), str(exc)
        return
    kept = spec.kept(traffic)
    if not kept:
        yield (
            (*where, "paths" if spec.paths else "duration"),
            f"no request of {spec.file} is left to replay ({len(traffic.requests)} recorded; "
            f"paths {list(spec.paths) or 'any'})",
        )
        return
    if config is None:
        return
    if spec.hosts == "recorded":
        yield from _recorded_host_findings(kept, spec, config, where)
    limits, source = config.limits, config.path or "the config"
    length = spec.run_length(kept)
    if length > limits.max_duration:
        total, cap = (format_quantity(x, Dimension.DURATION) for x in (length, limits.max_duration))
        yield (
            (*where, "speed" if spec.duration is None else "duration"),
            f"the replay runs {total} at {spec.speed:g}× speed, above limits.max_duration "
            f"({cap}) of {source}: raise speed or set duration",
        )
    rate = len(kept) / length
    if rate > limits.max_rate:
        asked, cap = (format_quantity(x, Dimension.RATE) for x in (rate, limits.max_rate))
        yield (
            (*where, "speed"),
            f"the replay sends {asked} on average at {spec.speed:g}× speed, above "
            f"limits.max_rate ({cap}) of {source}",
        )
    if spec.max_in_flight is not None and spec.max_in_flight > limits.max_in_flight:
        yield (
            (*where, "max_in_flight"),
            f"max_in_flight {spec.max_in_flight} is above limits.max_in_flight "
            f"({limits.max_in_flight}) of {source}",
        )


def _recorded_host_findings(
    kept: list[RecordedRequest], spec: ReplaySpec, config: Config, where: SpecPath
) -> Iterator[Finding]:
    """With `hosts: recorded`, each recorded host is checked once, at its first line."""
    seen: set[str] = set()
    for request in kept:
        origin = request.origin
        if origin is None or origin in seen:
            continue
        seen.add(origin)
        try:
            check_allowed(origin, config.allow.hosts)
        except HostNotAllowed as exc:
            yield (*where, "hosts"), f"{spec.file}:{request.line}: {exc}"
