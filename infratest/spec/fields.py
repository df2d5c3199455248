"""Field types shared by the scenario and config models: quantities already in SI units,
conditions, and the base model every section uses (frozen, unknown keys refused)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainValidator, WithJsonSchema

from infratest.units import (
    OPS,
    Condition,
    Dimension,
    QuantityError,
    describe,
    parse_as,
    parse_condition,
)


class Section(BaseModel):
    """Base of every model read from YAML: immutable, and strict about unknown keys."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


_QUANTITY_PATTERN = r"^\s*\d+(\.\d*)?([eE][+-]?\d+)?\s*"


def _quantity(dimension: Dimension, pattern: str, bare_ok: bool = False) -> Any:
    def parse(value: Any) -> float:
        if isinstance(value, int | float) and not isinstance(value, bool) and not bare_ok:
            raise QuantityError(f"expected {describe(dimension)}, got {value!r} (add a unit)")
        return parse_as(value, dimension)

    schema: dict[str, Any] = {
        "type": "string",
        "pattern": pattern,
        "description": f"{describe(dimension)}",
    }
    if bare_ok:
        schema = {
            "anyOf": [schema, {"type": "number", "minimum": 0}],
            "description": describe(dimension),
        }
    return Annotated[float, BeforeValidator(parse), WithJsonSchema(schema)]


Duration = _quantity(Dimension.DURATION, _QUANTITY_PATTERN + r"(ns|us|µs|ms|s|min|m|h)\s*$")
Bytes = _quantity(Dimension.BYTES, _QUANTITY_PATTERN + r"(B|kB|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$")
Rate = _quantity(Dimension.RATE, _QUANTITY_PATTERN + r"/\s*(ns|us|µs|ms|s|min|m|h)\s*$")
Ratio = _quantity(Dimension.RATIO, _QUANTITY_PATTERN + r"%?\s*$", bare_ok=True)

CONDITION_PATTERN = (
    r"^\s*(<=|>=|<|>)\s*[+-]?\d+(\.\d*)?([eE][+-]?\d+)?\s*[A-Za-zµ%]*(\s*/\s*[a-zµ]+)?\s*$"
)


def _condition(value: Any) -> Condition:
    if isinstance(value, Condition):
        return value
    return parse_condition(value)


ConditionField = Annotated[
    Condition,
    PlainValidator(_condition),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": CONDITION_PATTERN,
            "description": f"'<op> <quantity>' with op one of {' '.join(OPS)}, e.g. '< 200ms'",
        }
    ),
]

Name = Annotated[
    str,
    Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=100),
]


def _worker_count(value: Any) -> int | Literal["auto"]:
    if value == "auto":
        return "auto"
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise ValueError(f"workers must be a whole number >= 1 or 'auto', got {value!r}")


# Locust worker processes for a load: a count, or "auto" for one per core.
WorkerCount = Annotated[
    int | Literal["auto"],
    PlainValidator(_worker_count),
    WithJsonSchema({"anyOf": [{"type": "integer", "minimum": 1}, {"const": "auto"}]}),
]
