"""Checks of requests whose bodies come from files: the file reads, its lines are JSON, the
schema is a schema. Reported at the request's key with the file's own line when it has one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from infratest.spec.body_files import SECTIONS_WITH_REQUESTS
from infratest.spec.inputs_file import InputsError, inputs_path, read_inputs
from infratest.spec.problems import Path as SpecPath
from infratest.spec.scenario import Assumption
from infratest.spec.traffic import RequestSpec

Finding = tuple[SpecPath, str]


def _problem(request: RequestSpec, folder_of: str) -> tuple[str, str] | None:
    """(key, message) when the request's body file cannot be used."""
    if request.replay is not None:
        try:
            read_inputs(inputs_path(folder_of, request.replay), request.pool)
        except InputsError as exc:
            return "replay", str(exc)
    if request.json_schema is not None:
        from infratest.bodies import SchemaError, load_schema  # schemathesis: loaded on need

        try:
            load_schema(Path(inputs_path(folder_of, request.json_schema)))
        except SchemaError as exc:
            return "json_schema", str(exc)
    return None


def body_file_findings(a: Assumption, scenario_path: str, base: SpecPath) -> Iterator[Finding]:
    """Every request of every section of `a` whose body file is unusable."""
    for name in SECTIONS_WITH_REQUESTS:
        section = getattr(a, name)
        if section is None:
            continue
        for index, request in enumerate(section.requests):
            found = _problem(request, scenario_path)
            if found is not None:
                key, message = found
                yield (*base, name, "requests", index, key), message
