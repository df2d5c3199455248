"""Request bodies from a JSONL file (one JSON value a line): the inputs a compare sends to
both targets. Read at validation, so a bad line is reported with its number, not mid-run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from infratest.spec.text_files import read_utf8


class InputsError(ValueError):
    """The inputs file cannot be used; the message names the file and line."""


def inputs_path(scenario_path: str, given: str) -> Path:
    """The file as written, relative to the scenario file's directory."""
    path = Path(given).expanduser()
    if path.is_absolute() or not scenario_path:
        return path
    return Path(scenario_path).parent / path


def read_inputs(path: Path, limit: int | None = None) -> list[Any]:
    """The JSON bodies, in file order (blank lines skipped), at most `limit` of them."""
    text = read_utf8(path, "inputs file", InputsError)
    bodies: list[Any] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            bodies.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise InputsError(f"{path}:{number}: not a JSON value: {exc.msg}") from None
        if limit is not None and len(bodies) >= limit:
            break
    if not bodies:
        raise InputsError(f"inputs file {path} holds no JSON bodies")
    return bodies
