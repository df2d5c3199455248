"""Size hints: a copy of a JSON Schema whose arrays and strings at given field paths are
bounded to a length range, so the drawn bodies exercise the sizes that drive a model's cost
(a schema's own bounds are usually far wider, and hypothesis favours short values)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from infratest.bodies.schema_file import SchemaError

Range = tuple[int | None, int | None]
LENGTH_KEYS = {"array": ("minItems", "maxItems"), "string": ("minLength", "maxLength")}


class SizeError(SchemaError):
    """A size hint the schema cannot take; `field` is the hint's body field path."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def with_sizes(schema: dict, sizes: Mapping[str, Range]) -> dict:
    """A copy of `schema` with each field's length bounds set to its range (an open side
    keeps the schema's own bound). A range reaching past the schema's own bounds is refused:
    the bodies drawn would not match the schema."""
    return _applied(schema, resolved(schema, sizes))


def stratified(schema: dict, sizes: Mapping[str, Range], parts: int = 4) -> list[dict]:
    """Copies of `schema` for `parts` equal slices of every field's range (fewer when the
    ranges hold fewer lengths): hypothesis draws mostly near a range's short end, so a pool
    drawn from each slice in turn covers the whole range."""
    ranges = resolved(schema, sizes)
    widths = [high - low + 1 for low, high in ranges.values() if high is not None]
    count = max(1, min(parts, max(widths, default=1)))
    return [
        _applied(schema, {field: _slice(r, index, count) for field, r in ranges.items()})
        for index in range(count)
    ]


def _slice(bounds: tuple[int, int | None], index: int, count: int) -> tuple[int, int | None]:
    low, high = bounds
    if high is None:
        return low, None
    width = high - low + 1
    start = low + index * width // count
    return start, max(start, low + (index + 1) * width // count - 1)


def resolved(schema: dict, sizes: Mapping[str, Range]) -> dict[str, tuple[int, int | None]]:
    """Each field's length range with its open sides filled from the schema; SizeError for
    a field the schema lacks, that is no array or string, or a range past the schema's own."""
    out: dict[str, tuple[int, int | None]] = {}
    for field, wanted in sizes.items():
        node = field_node(schema, field)
        low_key, high_key = LENGTH_KEYS[_kind(node, field)]
        own = (int(node.get(low_key, 0)), _maybe_int(node.get(high_key)))
        low = own[0] if wanted[0] is None else wanted[0]
        high = own[1] if wanted[1] is None else wanted[1]
        if low < own[0] or (own[1] is not None and max(low, high or 0) > own[1]):
            raise SizeError(
                f"{describe(wanted)} reaches past the schema's own {low_key}/{high_key} "
                f"({describe(own)}): the bodies drawn would not match the schema",
                field,
            )
        if high is not None and high < low:
            raise SizeError(f"{describe(wanted)} ends below the schema's {low_key}", field)
        out[field] = (low, high)
    return out


def _applied(schema: dict, ranges: Mapping[str, tuple[int, int | None]]) -> dict:
    rewritten = copy.deepcopy(schema)
    for field, (low, high) in ranges.items():
        node = field_node(rewritten, field)
        low_key, high_key = LENGTH_KEYS[_kind(node, field)]
        node[low_key] = low
        if high is not None:
            node[high_key] = high
    return rewritten


def describe(bounds: Range) -> str:
    """A range as written in `sizes`: 8, 64..512, ..512, 64..."""
    low, high = bounds
    if low is not None and low == high:
        return str(low)
    return f"{'' if low is None else low}..{'' if high is None else high}"


def field_node(root: dict, field: str) -> dict:
    """The subschema of the dotted body field, through `properties` and local `$ref`s."""
    node = _resolved(root, root)
    for depth, part in enumerate(parts := field.split(".")):
        properties = node.get("properties") if isinstance(node, dict) else None
        if not isinstance(properties, dict) or part not in properties:
            where = ".".join(parts[:depth]) or "the body"
            known = ", ".join(sorted(properties)) if isinstance(properties, dict) else "none"
            raise SizeError(
                f"the schema has no field {part!r} in {where} (its fields: {known})",
                field,
            )
        node = _resolved(root, properties[part])
    if not isinstance(node, dict):
        raise SizeError(f"its schema is {node!r}, not an array or a string", field)
    return node


def _resolved(root: dict, node: Any) -> Any:
    """Follow a local `$ref` (a few hops at most) to the subschema it names."""
    for _ in range(32):
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
            return node
        ref = node["$ref"]
        if not ref.startswith("#"):
            return node
        node = root
        for part in ref[1:].split("/")[1:]:
            part = unquote(part).replace("~1", "/").replace("~0", "~")
            node = node[int(part)] if isinstance(node, list) else node.get(part, {})
    return node


def _kind(node: dict, field: str) -> str:
    declared = node.get("type")
    types = {declared} if isinstance(declared, str) else set(declared or ())
    if "array" in types and "string" in types:
        raise SizeError("it may be an array or a string; a size needs one", field)
    if "array" in types or (not types and ("items" in node or "prefixItems" in node)):
        return "array"
    if "string" in types or (not types and ("minLength" in node or "maxLength" in node)):
        return "string"
    what = "/".join(sorted(str(t) for t in types)) or "untyped"
    raise SizeError(f"sizes apply to arrays and strings; its type is {what}", field)


def _maybe_int(value: Any) -> int | None:
    return None if value is None else int(value)
