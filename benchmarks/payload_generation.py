"""How long does drawing a pool of request bodies from a JSON Schema take? Part 1: the draw
time for a pool (default 10,000 bodies) of two realistic predict schemas. The pool is drawn
before a load starts, so this is start-up time, never a cap on the request rate.

    python -m benchmarks.payload_generation [--count 10000] [--seed 0]

(run from the repository root, so this checkout's infratest is the one imported).

Measured (2 shared cores, schemathesis 4.32.5, hypothesis 6.155.2): features[4] 15.7 s,
string + nested object 22.1 s for 10,000 bodies (~1.5-2.5 ms a body). An open object (no
`additionalProperties: false`) is slower, ~56 s for 10,000, since arbitrary extra members
are drawn too; a pool of 1,000 (a few seconds) is a sensible default.
"""

from __future__ import annotations

import argparse
import time

from infratest.bodies import draw_bodies

FEATURES = {
    "type": "object",
    "required": ["features"],
    "properties": {
        "features": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4}
    },
    "additionalProperties": False,
}
WITH_TEXT_AND_NESTED = {
    "type": "object",
    "required": ["model", "inputs"],
    "properties": {
        "model": {"type": "string", "maxLength": 32},
        "inputs": {
            "type": "object",
            "required": ["features"],
            "properties": {
                "features": {
                    "type": "array",
                    "items": {"type": "number", "minimum": -10, "maximum": 10},
                    "minItems": 4,
                    "maxItems": 4,
                },
                "request_id": {"type": "integer", "minimum": 0},
            },
            "additionalProperties": False,
        },
    },
    "additionalProperties": False,
}
SCHEMAS = {"features[4]": FEATURES, "string + nested object": WITH_TEXT_AND_NESTED}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    for name, schema in SCHEMAS.items():
        started = time.perf_counter()
        bodies = draw_bodies(schema, args.count, seed=args.seed)
        elapsed = time.perf_counter() - started
        print(
            f"{name}: {len(bodies)} bodies in {elapsed:.1f} s "
            f"({elapsed / max(len(bodies), 1) * 1e3:.2f} ms a body)"
        )


if __name__ == "__main__":
    main()
