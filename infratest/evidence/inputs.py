"""The data files a scenario reads (body schemas, JSONL/CSV bodies, recorded traffic, compare
inputs), found by walking the loaded model, so an audit has every byte the run sent from."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from infratest.spec.scenario import Scenario

# Fields that name a file, relative to the scenario unless already resolved to absolute.
FILE_FIELDS = frozenset({"json_schema", "replay", "file", "inputs"})


def _named_files(value: Any) -> Iterator[str]:
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            child = getattr(value, name)
            if name in FILE_FIELDS and isinstance(child, str):
                yield child
            else:
                yield from _named_files(child)
    elif isinstance(value, list | tuple):
        for child in value:
            yield from _named_files(child)
    elif isinstance(value, dict):
        for child in value.values():
            yield from _named_files(child)


def referenced_files(scenario: Scenario) -> list[Path]:
    """Existing files the scenario names, in first-mention order, without repeats."""
    folder = Path(scenario.path).parent if scenario.path else Path.cwd()
    found: list[Path] = []
    for written in _named_files(scenario):
        path = Path(written) if Path(written).is_absolute() else folder / written
        if path.is_file() and path not in found:
            found.append(path)
    return found
