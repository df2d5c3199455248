"""A JSON Schema as the request body of a one-operation OpenAPI 3.1 document, the form
schemathesis draws from. The schema sits at #/components/schemas/Body, so its local `$ref`s
are rewritten to point inside it (they would otherwise resolve against the document)."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from infratest.bodies.schema_file import SchemaError, pointer

BODY_POINTER = "/components/schemas/Body"

#: Keywords whose values are data, not subschemas: a {"$ref": ...} in them stays as it is.
DATA_KEYWORDS = frozenset({"const", "default", "enum", "example", "examples"})


def request_document(schema: dict) -> dict:
    """The OpenAPI document for POST /body with `schema` as its JSON request body (a new
    structure: schemathesis modifies the dicts it is given)."""
    body = _rebased(schema, schema)
    content = {"application/json": {"schema": {"$ref": "#" + BODY_POINTER}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "bodies", "version": "1"},
        "paths": {
            "/body": {
                "post": {
                    "requestBody": {"required": True, "content": content},
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
        "components": {"schemas": {"Body": body}},
    }


def _rebased(node: Any, root: dict) -> Any:
    """A copy of `node` with every local `$ref` made relative to the document."""
    if isinstance(node, list):
        return [_rebased(item, root) for item in node]
    if not isinstance(node, dict):
        return node
    copy: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str):
            copy[key] = _rebased_ref(value, root)
        elif key in DATA_KEYWORDS:
            copy[key] = value
        else:
            copy[key] = _rebased(value, root)
    return copy


def _rebased_ref(ref: str, root: dict) -> str:
    if not ref.startswith("#") or (len(ref) > 1 and not ref.startswith("#/")):
        raise SchemaError(
            f"schema: $ref {ref!r}: only local JSON-pointer references (#/...) are supported"
        )
    _resolve(ref[1:], root, ref)
    return "#" + BODY_POINTER + ref[1:]


def _resolve(fragment: str, root: dict, ref: str) -> None:
    """Raise SchemaError unless the JSON pointer `fragment` names a part of `root`."""
    node: Any = root
    parts = [unquote(p).replace("~1", "/").replace("~0", "~") for p in fragment.split("/")[1:]]
    for depth, part in enumerate(parts):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise SchemaError(f"schema: $ref {ref!r}: nothing at {pointer(parts[: depth + 1])}")
