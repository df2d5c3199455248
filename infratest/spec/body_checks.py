"""Checks of requests whose bodies come from files: the file reads, its lines are JSON (its
rows have the columns named), the schema is a schema (and takes the size hints). Reported at
the request's key with the file's own line when it has one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from infratest.spec.body_files import SECTIONS_WITH_REQUESTS
from infratest.spec.csv_bodies import ColumnError, is_table
from infratest.spec.inputs_file import InputsError, inputs_path
from infratest.spec.problems import Path as SpecPath
from infratest.spec.replay_file import read_replay
from infratest.spec.scenario import Assumption
from infratest.spec.traffic import RequestSpec

Finding = tuple[SpecPath, str]
Problem = tuple[tuple[str, ...], str]


def schema_problem(scenario_path: str, file: str | None) -> str | None:
    if file is None:
        return None
    from infratest.bodies import SchemaError, load_schema  # schemathesis: loaded on need

    try:
        load_schema(inputs_path(scenario_path, file))
    except SchemaError as exc:
        return str(exc)
    return None


def _sizes_problem(request: RequestSpec, scenario_path: str) -> Problem | None:
    """The request's schema cannot be read, or cannot take its size hints."""
    if request.json_schema is None:
        return None
    from infratest.bodies import SchemaError, load_schema  # schemathesis: loaded on need
    from infratest.bodies.sizes import SizeError, with_sizes

    try:
        schema = load_schema(inputs_path(scenario_path, request.json_schema))
        with_sizes(schema, request.sizes or {})
    except SizeError as exc:
        return ("sizes", exc.field), str(exc)
    except SchemaError as exc:
        return ("json_schema",), str(exc)
    return None


def _shape_problem(request: RequestSpec) -> Problem | None:
    """`columns` or `sizes` given to a request whose bodies cannot use them."""
    if request.columns is not None and not (request.replay and is_table(Path(request.replay))):
        return ("columns",), "columns applies to a CSV or TSV replay file (replay: FILE.csv)"
    if request.sizes is not None and request.json_schema is None:
        return ("sizes",), "sizes applies to bodies drawn from a schema (json_schema: FILE)"
    return None


def _replay_problem(request: RequestSpec, scenario_path: str) -> Problem | None:
    if request.replay is None:
        return None
    try:
        read_replay(inputs_path(scenario_path, request.replay), request.pool, request.columns)
    except ColumnError as exc:
        return ("columns", exc.field), str(exc)
    except InputsError as exc:
        return ("replay",), str(exc)
    return None


def _problem(request: RequestSpec, scenario_path: str) -> Problem | None:
    """(key path, message) when a file the request names cannot be used."""
    problem = (
        _shape_problem(request)
        or _replay_problem(request, scenario_path)
        or _sizes_problem(request, scenario_path)
    )
    if problem:
        return problem
    check = request.answer_check
    message = schema_problem(scenario_path, check.json_schema if check else None)
    return (("validate", "json_schema"), message) if message else None


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
