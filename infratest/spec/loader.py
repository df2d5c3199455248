"""Load scenario and config files into validated, frozen models, or raise SpecError with every
problem found, each located at file:line:column."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from infratest.spec.checks import (
    Finding,
    check_assumption,
    check_names,
    check_scenario,
    check_target_ref,
    effective_probe,
)
from infratest.spec.config import Config
from infratest.spec.errors import suggest, to_problems
from infratest.spec.merge import apply_defaults
from infratest.spec.problems import Problem, SpecError
from infratest.spec.scenario import Assumption, LoadSpec, Scenario
from infratest.spec.yamlio import MarkedDict, load_marked, mark_at

PathLike = str | os.PathLike[str]


def display_path(path: PathLike) -> str:
    """Paths are shown relative to the working directory when inside it, as pytest does."""
    absolute = Path(path).resolve()
    try:
        return str(absolute.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _validate(model: type[BaseModel], data: MarkedDict, file: str, extra: dict[str, Any]) -> Any:
    try:
        return model.model_validate({**data, **extra})
    except ValidationError as exc:
        raise SpecError(to_problems(exc, model, data, file)) from None


def locate(data: MarkedDict, file: str, findings: Any, key: bool = False) -> list[Problem]:
    """Attach file:line:column to (path, message) findings."""
    problems = []
    for path, message in findings:
        mark = mark_at(data, path, key=key)
        line, column = (mark.line, mark.column) if mark else (1, 1)
        problems.append(Problem(file, line, column, path, message))
    return problems


def load_config(path: PathLike) -> Config:
    """Read and validate one environment config file."""
    file = display_path(path)
    data = load_marked(path, file, expect_key="targets")
    return _validate(Config, data, file, {"path": file})


def _defaults_findings(data: MarkedDict) -> list[tuple[tuple[str | int, ...], str]]:
    """Unknown keys in `defaults.load` would otherwise vanish silently when nothing uses them."""
    defaults = data.get("defaults")
    load = defaults.get("load") if isinstance(defaults, dict) else None
    if not isinstance(load, dict):
        return []
    keys = [f.alias or n for n, f in LoadSpec.model_fields.items()]
    return [
        (
            ("defaults", "load", key),
            f"unknown key '{key}'{suggest(str(key), keys)}; valid keys: " + ", ".join(keys),
        )
        for key in load
        if key not in keys
    ]


def _line(data: MarkedDict, path: tuple[str | int, ...]) -> int:
    mark = mark_at(data, path)
    return mark.line if mark else 0


def _with_lines(scenario: Scenario, data: MarkedDict, file: str) -> Scenario:
    """Each assumption remembers its line, so reports can point at it."""
    assumptions = tuple(
        a.model_copy(update={"line": _line(data, ("assumptions", i))})
        for i, a in enumerate(scenario.assumptions)
    )
    return scenario.model_copy(update={"assumptions": assumptions, "path": file})


def _resolve_probes(scenario: Scenario, config: Config) -> Scenario:
    target = config.targets.get(scenario.target) if scenario.target else None
    assumptions = tuple(
        a.model_copy(update={"probe": effective_probe(a, target)}) for a in scenario.assumptions
    )
    return scenario.model_copy(update={"assumptions": assumptions})


def _partial_findings(data: MarkedDict, config: Config | None) -> list[Finding]:
    """When the file as a whole does not validate, still check every assumption that does,
    so one run shows every problem."""
    target = data.get("target") if isinstance(data.get("target"), str) else None
    findings = list(check_target_ref(target, config))
    raw_assumptions = data.get("assumptions")
    if not isinstance(raw_assumptions, list):
        return findings
    names = [a.get("name") for a in raw_assumptions if isinstance(a, dict)]
    findings += check_names(names)
    for index, raw in enumerate(raw_assumptions):
        try:
            assumption = Assumption.model_validate(raw)
        except ValidationError:
            continue
        findings += check_assumption(target, assumption, index, config)
    return findings


def load_scenario(path: PathLike, config: Config | PathLike | None = None) -> Scenario:
    """Read, validate and cross-check a scenario; with a config, probes are resolved too."""
    if config is not None and not isinstance(config, Config):
        config = load_config(config)
    file = display_path(path)
    raw = load_marked(path, file, expect_key="assumptions")
    problems = locate(raw, file, _defaults_findings(raw), key=True)
    data = apply_defaults(raw)
    extra = {"path": file} if "scenario" in data else {"path": file, "scenario": Path(path).stem}
    try:
        scenario = _validate(Scenario, data, file, extra)
    except SpecError as exc:
        partial = locate(data, file, _partial_findings(data, config))
        raise SpecError(problems + exc.problems + partial) from None
    problems += locate(data, file, check_scenario(scenario, config))
    if problems:
        raise SpecError(problems)
    scenario = _with_lines(scenario, data, file)
    return _resolve_probes(scenario, config) if config is not None else scenario


__all__ = ["load_config", "load_scenario"]
