"""Bodies drawn from a JSON Schema by schemathesis (on hypothesis), through its public API: a
one-operation OpenAPI 3.1 document whose request body is the schema. Drawn into a list up
front, reproducibly by a seed, so the load only cycles through it."""

from __future__ import annotations

import json
import warnings
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis.errors import HypothesisException, Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core import NotSet

from infratest.bodies.isolation import without_local_constants
from infratest.bodies.openapi_document import request_document
from infratest.bodies.schema_file import SchemaError, check_schema

#: Body kinds by the `mode` a caller names: valid for the schema, or breaking it on purpose.
MODES = {"valid": GenerationMode.POSITIVE, "invalid": GenerationMode.NEGATIVE}

#: A round that asks for fewer new examples wastes most of its time on engine start-up.
MIN_ROUND = 100


def draw_bodies(schema: dict, count: int, seed: int, mode: str = "valid") -> list[Any]:
    """`count` distinct bodies, the same list in the same order for the same schema, count,
    seed (and schemathesis/hypothesis versions) in any process. Shorter than `count` only
    when the schema allows fewer distinct values: then it holds all of them."""
    if mode not in MODES:
        raise ValueError(f"mode {mode!r} is not supported (one of {', '.join(MODES)})")
    if count < 0:
        raise ValueError(f"count must be >= 0, not {count}")
    check_schema(schema)
    strategy = body_strategy(schema, MODES[mode])
    bodies: dict[str, Any] = {}
    round_index = 0
    while len(bodies) < count:
        wanted = max(count - len(bodies), MIN_ROUND)
        drawn = draw_round(strategy, wanted, _round_seed(seed, round_index))
        before = len(bodies)
        for body in drawn:
            bodies.setdefault(json.dumps(body, sort_keys=True, default=repr), body)
        if len(drawn) < wanted or len(bodies) == before:
            break  # hypothesis ran out of distinct inputs: the schema allows no more
        round_index += 1
    return list(bodies.values())[:count]


def draw_interleaved(schemas: list[dict], count: int, seed: int) -> list[Any]:
    """`count` bodies drawn in equal shares from each schema (the slices of a size range),
    interleaved so a pool taken in order also varies; one schema is `draw_bodies` itself."""
    shares = [count // len(schemas) + (i < count % len(schemas)) for i in range(len(schemas))]
    drawn = [
        draw_bodies(schema, share, seed) for schema, share in zip(schemas, shares, strict=True)
    ]
    distinct: dict[str, Any] = {}
    for index in range(max(shares, default=0)):
        for bodies in drawn:
            if index < len(bodies):
                distinct.setdefault(
                    json.dumps(bodies[index], sort_keys=True, default=repr), bodies[index]
                )
    return list(distinct.values())


def body_strategy(schema: dict, generation_mode: GenerationMode) -> Any:
    """A hypothesis strategy of request bodies for the schema (valid or schema-breaking)."""
    document = request_document(schema)
    loaded = schemathesis.openapi.from_dict(document, config=schemathesis.Config())
    (result,) = loaded.get_all_operations()
    if not hasattr(result, "ok"):
        raise SchemaError(f"schema: schemathesis cannot use it: {result.err()}")
    return result.ok().as_strategy(generation_mode=generation_mode).map(lambda case: case.body)


def _round_seed(base: int, round_index: int) -> int | str:
    """Round 0 uses the seed itself; later rounds (only after duplicates) a string derived
    from it, which Random hashes the same way in every process."""
    return base if round_index == 0 else f"{base}/{round_index}"


def draw_round(strategy: Any, count: int, round_seed: int | str) -> list[Any]:
    """Up to `count` bodies from one hypothesis run: generation only, no database, no
    shrinking, no health checks, nothing printed."""
    drawn: list[Any] = []

    @settings(
        max_examples=count,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
        derandomize=False,
        verbosity=Verbosity.quiet,
        print_blob=False,
    )
    @seed(round_seed)
    @given(strategy)
    def collect(body: Any) -> None:
        if isinstance(body, NotSet):
            raise SchemaError("schema: schemathesis drew a request without a body")
        drawn.append(body)

    with warnings.catch_warnings(), without_local_constants():
        warnings.simplefilter("ignore")
        try:
            collect()
        except Unsatisfiable as error:
            raise SchemaError(f"schema: no body satisfies it: {error}") from error
        except HypothesisException as error:
            raise SchemaError(f"schema: cannot draw bodies from it: {error}") from error
    return drawn
