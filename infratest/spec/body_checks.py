"""Checks of requests whose bodies come from files: the file reads, its lines are JSON, the
schema is a schema. Reported at the request's key with the file's own line when it has one."""

from __future__ import annotations

from collections.abc import Iterator

from infratest.spec.body_files import SECTIONS_WITH_REQUESTS
from infratest.spec.inputs_file import InputsError, inputs_path, read_inputs
from infratest.spec.problems import Path as SpecPath
from infratest.spec.scenario import Assumption
from infratest.spec.traffic import RequestSpec

Finding = tuple[SpecPath, str]


def schema_problem(scenario_path: str, file: str | None) -> str | None:
    if file is None:
        return None
    from infratest.bodies import SchemaError, load_schema  # schemathesis: loaded on need

    try:
        load_schema(inputs_path(scenario_path, file))
    except SchemaError as exc:
        return str(exc)
    return None


def _problem(request: RequestSpec, scenario_path: str) -> tuple[tuple[str, ...], str] | None:
    """(key path, message) when a file the request names cannot be used."""
    if request.replay is not None:
        try:
            read_inputs(inputs_path(scenario_path, request.replay), request.pool)
        except InputsError as exc:
            return ("replay",), str(exc)
    problem = schema_problem(scenario_path, request.json_schema)
    if problem:
        return ("json_schema",), problem
    check = request.answer_check
    problem = schema_problem(scenario_path, check.json_schema if check else None)
    return (("validate", "json_schema"), problem) if problem else None


def body_file_findings(a: Assumption, scenario_path: str, base: SpecPath) -> Iterator[Finding]:
    """Every request of every section of `a` whose body file is unusable (and a fuzz's
    schema)."""
    if a.fuzz is not None:
        problem = schema_problem(scenario_path, a.fuzz.json_schema)
        if problem:
            yield (*base, "fuzz", "json_schema"), problem
    for name in SECTIONS_WITH_REQUESTS:
        section = getattr(a, name)
        if section is None:
            continue
        check = getattr(section, "answer_check", None)
        problem = schema_problem(scenario_path, check.json_schema if check else None)
        if problem:
            yield (*base, name, "validate", "json_schema"), problem
        for index, request in enumerate(section.requests):
            found = _problem(request, scenario_path)
            if found is not None:
                keys, message = found
                yield (*base, name, "requests", index, *keys), message
