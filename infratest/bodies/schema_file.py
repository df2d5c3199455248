"""A JSON Schema file read and checked up front, so a broken schema fails with its file and
JSON pointer before any load starts rather than as an odd error from the generator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from jsonschema import Draft7Validator, Draft202012Validator
from jsonschema.validators import validator_for

#: The dialects bodies are drawn for; a schema without `$schema` is read as 2020-12.
DIALECTS = (Draft202012Validator, Draft7Validator)


class SchemaError(ValueError):
    """The schema is unusable; the message names the file (and JSON pointer) and why."""


def load_schema(path: Path) -> dict:
    """The schema in a JSON file (or YAML, by a .yaml/.yml suffix), checked against its
    dialect's metaschema."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise SchemaError(f"{path}: cannot read the schema file: {error.strerror}") from error
    schema = _parse(text, path)
    check_schema(schema, source=str(path))
    return schema


def check_schema(schema: Any, source: str = "schema") -> None:
    """Raise SchemaError unless `schema` is a valid draft-07 or 2020-12 JSON Schema object."""
    if not isinstance(schema, dict):
        raise SchemaError(f"{source}: a schema must be a JSON object, not {type(schema).__name__}")
    validator = _validator(schema, source)
    try:
        validator.check_schema(schema)
    except jsonschema.SchemaError as error:
        raise SchemaError(f"{source}: at {pointer(error.path)}: {error.message}") from error


def pointer(parts: Any) -> str:
    """The JSON pointer (RFC 6901) of a path of keys and indexes; "" is the whole document."""
    escaped = (str(part).replace("~", "~0").replace("/", "~1") for part in parts)
    return "".join("/" + part for part in escaped) or '"" (the whole schema)'


def _parse(text: str, path: Path) -> Any:
    if Path(path).suffix.lower() in (".yaml", ".yml"):
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise SchemaError(f"{path}: not valid YAML: {error}") from error
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno} column {error.colno}"
        raise SchemaError(f"{path}: not valid JSON at {where}: {error.msg}") from error


def _validator(schema: dict, source: str) -> type:
    declared = schema.get("$schema")
    if declared is None:
        return Draft202012Validator
    for dialect in DIALECTS:
        if str(declared).rstrip("#") == dialect.META_SCHEMA["$id"].rstrip("#"):
            return validator_for(schema)
    known = ", ".join(dialect.META_SCHEMA["$id"] for dialect in DIALECTS)
    raise SchemaError(f"{source}: at /$schema: unsupported dialect {declared!r} (use {known})")
