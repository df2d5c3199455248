"""The JSON Schema of a `/predict` body (`{"features": [four numbers]}`) that tests and
benchmarks draw, fuzz and validate with: written once."""

from __future__ import annotations

from typing import Any


def features_schema(**number: Any) -> dict[str, Any]:
    """`{"features": [4 numbers]}`, nothing else; `number` adds bounds to each number."""
    return {
        "type": "object",
        "required": ["features"],
        "properties": {
            "features": {
                "type": "array",
                "items": {"type": "number", **number},
                "minItems": 4,
                "maxItems": 4,
            }
        },
        "additionalProperties": False,
    }


FEATURES = features_schema()
