"""Load scenario and config files into validated, frozen models, or raise SpecError with every
problem found, each located at file:line:column."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from infratest.spec.body_files import resolve_body_files
from infratest.spec.checks import (
    Finding,
    check_assumption,
    check_names,
    check_scenario,
    check_target_ref,
    effective_probe,
)
from infratest.spec.config import Config
from infratest.spec.errors import keys_of, suggest, to_problems
from infratest.spec.load_sections import LoadSpec
from infratest.spec.merge import apply_defaults
from infratest.spec.problems import Problem, SpecError, SpecWarning
from infratest.spec.scenario import Assumption, Scenario
from infratest.spec.user_classes import with_user_class_origins
from infratest.spec.warnings import sample_size_findings
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
    keys = keys_of(LoadSpec)
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


@dataclass(frozen=True)
class _Loaded:
    """A valid scenario with the merged, marked document it came from."""

    scenario: Scenario
    data: MarkedDict


def _load(path: PathLike, config: Config | PathLike | None) -> _Loaded:
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
    scenario = resolve_body_files(_with_lines(scenario, data, file))
    scenario = with_user_class_origins(scenario, data)
    scenario = _resolve_probes(scenario, config) if config is not None else scenario
    return _Loaded(scenario, data)


def load_scenario(path: PathLike, config: Config | PathLike | None = None) -> Scenario:
    """Read, validate and cross-check a scenario; with a config, probes are resolved too."""
    return _load(path, config).scenario


@dataclass(frozen=True)
class ValidatedScenario:
    """A valid scenario and the warnings about it (checks that can never pass)."""

    scenario: Scenario
    warnings: tuple[SpecWarning, ...]


def validate_scenario(path: PathLike, config: Config | PathLike | None = None) -> ValidatedScenario:
    """As :func:`load_scenario`, plus located warnings; raises SpecError the same way."""
    loaded = _load(path, config)
    file = loaded.scenario.path
    warnings = tuple(
        SpecWarning(p.file, p.line, p.column, p.path, p.message)
        for p in locate(loaded.data, file, sample_size_findings(loaded.scenario))
    )
    return ValidatedScenario(loaded.scenario, warnings)


__all__ = ["ValidatedScenario", "load_config", "load_scenario", "validate_scenario"]
