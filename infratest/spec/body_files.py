"""Request bodies kept in files (`json_schema:`, `replay:`): written relative to the scenario,
resolved to absolute paths once it is loaded, so every workload reads the same file wherever
pytest runs from."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from infratest.spec.scenario import Assumption, Scenario

SECTIONS_WITH_REQUESTS = ("load", "sweep", "capacity", "cold_start")
REQUEST_FILES = ("json_schema", "replay")
T = TypeVar("T", bound=BaseModel)


def _absolute(model: T, keys: tuple[str, ...], folder: Path) -> T:
    """`model` with the files named by `keys` made absolute (and its answer check's)."""
    update: dict[str, object] = {
        key: str((folder / value).resolve())
        for key in keys
        if (value := getattr(model, key, None)) is not None and not Path(value).is_absolute()
    }
    check = getattr(model, "answer_check", None)
    if check is not None and check.json_schema is not None:
        update["answer_check"] = _absolute(check, ("json_schema",), folder)
    return model.model_copy(update=update) if update else model


def _section_resolved(assumption: Assumption, folder: Path) -> Assumption:
    update = {}
    for name in SECTIONS_WITH_REQUESTS:
        section = getattr(assumption, name)
        if section is None:
            continue
        requests = tuple(_absolute(r, REQUEST_FILES, folder) for r in section.requests)
        update[name] = _absolute(section, (), folder).model_copy(update={"requests": requests})
    if assumption.replay is not None:
        update["replay"] = _absolute(assumption.replay, ("file",), folder)
    if assumption.llm is not None:
        update["llm"] = _absolute(assumption.llm, ("prompts",), folder)
    if assumption.fuzz is not None:
        update["fuzz"] = _absolute(assumption.fuzz, ("json_schema",), folder)
    return assumption.model_copy(update=update) if update else assumption


def resolve_body_files(scenario: Scenario) -> Scenario:
    """The scenario with its requests' body files as absolute paths."""
    folder = Path(scenario.path).parent if scenario.path else Path.cwd()
    assumptions = tuple(_section_resolved(a, folder) for a in scenario.assumptions)
    return scenario.model_copy(update={"assumptions": assumptions})
