"""Request bodies kept in files (`json_schema:`, `replay:`): written relative to the scenario,
resolved to absolute paths once it is loaded, so every workload reads the same file wherever
pytest runs from."""

from __future__ import annotations

from pathlib import Path

from infratest.spec.scenario import Assumption, Scenario
from infratest.spec.traffic import RequestSpec

SECTIONS_WITH_REQUESTS = ("load", "sweep", "capacity", "cold_start")


def _absolute(request: RequestSpec, folder: Path) -> RequestSpec:
    update = {
        key: str((folder / value).resolve())
        for key in ("json_schema", "replay")
        if (value := getattr(request, key)) is not None and not Path(value).is_absolute()
    }
    return request.model_copy(update=update) if update else request


def _section_resolved(assumption: Assumption, folder: Path) -> Assumption:
    update = {}
    for name in SECTIONS_WITH_REQUESTS:
        section = getattr(assumption, name)
        if section is not None and any(r.body_file for r in section.requests):
            requests = tuple(_absolute(r, folder) for r in section.requests)
            update[name] = section.model_copy(update={"requests": requests})
    return assumption.model_copy(update=update) if update else assumption


def resolve_body_files(scenario: Scenario) -> Scenario:
    """The scenario with its requests' body files as absolute paths."""
    folder = Path(scenario.path).parent if scenario.path else Path.cwd()
    assumptions = tuple(_section_resolved(a, folder) for a in scenario.assumptions)
    return scenario.model_copy(update={"assumptions": assumptions})
