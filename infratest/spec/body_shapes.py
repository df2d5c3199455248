"""How a request's bodies are shaped from their source: `columns` (a CSV row's cells placed
into body fields) and `sizes` (length ranges a JSON Schema's fields are drawn in). Parsed and
checked here, so a typo is refused with its line before any file is read."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema, field_validator

from infratest.spec.fields import Section

CELL_TYPES = ("auto", "string", "int", "float", "bool", "json")


def _split_columns(value: Any) -> Any:
    """``"f1,f2"`` and ``"f1..f64"`` are lists of columns; a plain name is one column."""
    if isinstance(value, str) and ("," in value or ".." in value):
        parts = [part.strip() for part in value.split(",")]
        if not all(parts):
            raise ValueError(f'an empty column name in "{value}"')
        return tuple(parts)
    return value


class ColumnMap(Section):
    """One body field: the column whose cell it holds, or the columns whose cells make a JSON
    array (``A..B``: every column from A to B in the header's order), and the cells' type."""

    column: Annotated[str | tuple[str, ...], BeforeValidator(_split_columns)] = Field(
        description='one column, or a list of columns ("f1,f2", [f1, f2], "f1..f64")'
    )
    type: Literal[CELL_TYPES] = Field(  # type: ignore[valid-type]
        default="auto",
        description="auto: int or float when the cell parses as one, else text; "
        "an empty cell is null (an empty string with type string)",
    )

    @field_validator("column")
    @classmethod
    def _named(cls, value: str | tuple[str, ...]) -> str | tuple[str, ...]:
        names = (value,) if isinstance(value, str) else value
        if not names or not all(name.strip() for name in names):
            raise ValueError("name at least one column")
        return value


def _column_shorthand(value: Any) -> Any:
    """``field: col`` and ``field: [c1, c2]`` are short for ``field: {column: ...}``."""
    return {"column": value} if isinstance(value, str | list | tuple) else value


Column = Annotated[
    ColumnMap,
    BeforeValidator(_column_shorthand, json_schema_input_type=str | list[str] | ColumnMap),
]

_RANGE = re.compile(r"^\s*(\d*)\s*(\.\.)?\s*(\d*)\s*$")
SizeRange = tuple[int | None, int | None]


def parse_size(value: Any) -> SizeRange:
    """``N`` exactly N; ``A..B`` from A to B; ``..B`` up to B and ``A..`` at least A (the
    schema's own bound on the open side). Lengths are items of an array, characters of a
    string."""
    if isinstance(value, tuple) and len(value) == 2:
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value, value
    match = _RANGE.match(value) if isinstance(value, str) else None
    ranged = match is not None and match[2] is not None
    if match is None or not (match[1] or match[3]) or (not ranged and match[3]):
        raise ValueError(f"expected a length such as 64, 64..512 or ..512, got {value!r}")
    low = int(match[1]) if match[1] else None
    high = int(match[3]) if match[3] else low if not ranged else None
    if low is not None and high is not None and high < low:
        raise ValueError(f"the range {value!r} ends below its start")
    return low, high


SizeHint = Annotated[
    tuple[int | None, int | None],
    BeforeValidator(parse_size),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 0},
                {"type": "string", "pattern": r"^\s*(\d+|\d*\s*\.\.\s*\d*)\s*$"},
            ],
            "description": "a length (items or characters): N, A..B, ..B or A..",
        }
    ),
]


def check_field_paths(names: Iterable[str]) -> None:
    """Raise ValueError unless every dotted body field path is well formed and none is
    inside another (``inputs`` and ``inputs.text`` cannot both be set)."""
    names = list(names)
    for name in names:
        if not name or any(not part.strip() for part in name.split(".")):
            raise ValueError(f"{name!r} is not a body field path such as inputs.text")
    for name in names:
        inner = next((other for other in names if other.startswith(name + ".")), None)
        if inner is not None:
            raise ValueError(f"{name!r} cannot hold a value and also {inner!r}")
