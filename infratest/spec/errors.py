"""Turn pydantic's validation errors into located problems a user can act on."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from infratest.spec.problems import Path, Problem
from infratest.spec.yamlio import mark_at

_TYPE_WORDS = {
    "dict_type": "a mapping (key: value)",
    "model_type": "a mapping (key: value)",
    "model_attributes_type": "a mapping (key: value)",
    "list_type": "a list",
    "tuple_type": "a list",
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
}


SECRET_BEARING = ("headers", "env")


def describe_value(value: Any) -> str:
    """How a wrong value is quoted back: short, and never a whole nested structure."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= 60 else text[:57] + '..."'


def suggest(word: str, choices: list[str]) -> str:
    """' (did you mean "x"?)' for the closest choice, or ''."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.5)
    return f' (did you mean "{close[0]}"?)' if close else ""


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = args[0] if len(args) == 1 else annotation
            if len(args) != 1:
                return annotation
        else:
            return annotation


def model_at(root: type[BaseModel], loc: Path) -> type[BaseModel] | None:
    """The model class that validates the mapping at `loc`, following fields, lists and dicts."""
    current: Any = root
    for part in loc:
        current = _unwrap(current)
        origin = typing.get_origin(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = next(
                (f for n, f in current.model_fields.items() if (f.alias or n) == part), None
            )
            if field is None:
                return None
            current = field.annotation
        elif origin in (list, tuple):
            current = typing.get_args(current)[0]
        elif origin is dict:
            current = typing.get_args(current)[1]
        else:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def keys_of(model: type[BaseModel]) -> list[str]:
    """The keys a user may write for a model (aliases, not Python names)."""
    return [f.alias or n for n, f in model.model_fields.items() if not f.exclude]


def _message(error: Any, root: type[BaseModel], loc: Path) -> str:
    kind, value = error["type"], error.get("input")
    if any(part in SECRET_BEARING for part in loc):
        value = "***"  # header and environment values may be credentials: never echo them
    if kind == "missing":
        return f"missing required key '{loc[-1]}'"
    if kind == "extra_forbidden":
        model = model_at(root, loc[:-1])
        choices = keys_of(model) if model else []
        hint = suggest(str(loc[-1]), choices)
        known = f"; valid keys: {', '.join(choices)}" if choices else ""
        return f"unknown key '{loc[-1]}'{hint}{known}"
    if kind == "too_short":
        count = error["ctx"]["min_length"]
        return f"needs at least {count} item{'s' if count != 1 else ''}"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    if kind == "string_pattern_mismatch" and loc and loc[-1] in ("name", "scenario"):
        return (
            f"{describe_value(value)} is not a valid name: use letters, digits, '-', '_' "
            "and '.', starting with a letter or digit"
        )
    if kind in _TYPE_WORDS:
        return f"expected {_TYPE_WORDS[kind]}, got {describe_value(value)}"
    return f"{error['msg'][:1].lower()}{error['msg'][1:]}, got {describe_value(value)}"


def _clean_loc(loc: tuple[Any, ...]) -> Path:
    """Drop pydantic's internal steps (validator names) that are not keys of the file."""
    return tuple(
        p for p in loc if isinstance(p, int) or not str(p).startswith(("function-", "tagged-"))
    )


def to_problems(exc: ValidationError, root: type[BaseModel], data: Any, file: str) -> list[Problem]:
    """One located problem per pydantic error."""
    problems = []
    errors = exc.errors(include_url=False)
    deeper = {_clean_loc(e["loc"]) for e in errors}
    for error in errors:
        loc = _clean_loc(error["loc"])
        if error["type"] == "too_short" and any(d[: len(loc)] == loc and d != loc for d in deeper):
            continue  # a list emptied only because its items failed: those errors say why
        at_key = error["type"] == "extra_forbidden"
        mark = mark_at(data, loc, key=at_key)
        line, column = (mark.line, mark.column) if mark else (1, 1)
        problems.append(Problem(file, line, column, loc, _message(error, root, loc)))
    return problems
