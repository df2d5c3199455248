"""Bodies that try to break a model server's input handling: schemathesis' schema-breaking
bodies (wrong types, missing and extra fields, arrays of the wrong length, raw non-JSON) and
its valid edge cases, plus a few hostile documents any server should survive (NaN and
Infinity, deep nesting, long unicode, huge arrays). Drawn reproducibly by a seed; a failing
body is shrunk by hypothesis to the smallest that still fails."""

from __future__ import annotations

import json
import random
import warnings
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample
from schemathesis import GenerationMode

from infratest.bodies.drawing import body_strategy, draw_round
from infratest.bodies.isolation import without_local_constants
from infratest.bodies.schema_file import check_schema

Body = Any  # a JSON value, or raw bytes (a body that is not JSON at all)


def _nested(depth: int) -> Any:
    body: Any = 0
    for _ in range(depth):
        body = [body]
    return body


def hostile_bodies() -> st.SearchStrategy[Body]:
    """Documents no schema describes but every server should answer without a 5xx."""
    odd_numbers = st.sampled_from([float("nan"), float("inf"), float("-inf"), 1e308, -0.0])
    return st.one_of(
        st.sampled_from([{}, [], None, "", 0, True]),
        odd_numbers,
        st.dictionaries(st.text(max_size=8), odd_numbers, min_size=1, max_size=3),
        st.integers(50, 400).map(_nested),
        st.text(min_size=1, max_size=20).map(lambda t: t * 2000),
        st.integers(1000, 50_000).map(lambda n: [0] * n),
    )


# How one field of a valid body is broken; the shrinker moves towards the first.
MUTATIONS: dict[str, Callable[[Any], Any]] = {
    "empty": lambda v: [] if isinstance(v, list) else "" if isinstance(v, str) else {},
    "missing": lambda v: _MISSING,
    "null": lambda v: None,
    "wrong type": lambda v: "x" if not isinstance(v, str) else 0,
    "NaN": lambda v: [float("nan")] * max(len(v), 1) if isinstance(v, list) else float("nan"),
    "huge": lambda v: [v[0] if v else 0] * 100_000 if isinstance(v, list) else "x" * 1_000_000,
    "deep": lambda v: _nested(400),  # json.dumps recurses: stays under its limit
}
_MISSING = object()


def _mutated(body: Any, key: str, how: str) -> Any:
    if not isinstance(body, dict) or key not in body:
        return body
    broken = dict(body)
    value = MUTATIONS[how](broken[key])
    if value is _MISSING:
        del broken[key]
    else:
        broken[key] = value
    return broken


def field_mutations(schema: dict) -> st.SearchStrategy[Body] | None:
    """Valid bodies with one top-level field broken (emptied, dropped, nulled, retyped, NaN,
    huge, deeply nested): the edge cases schema-breaking generation rarely reaches."""
    fields = sorted((schema.get("properties") or {}).keys())
    if schema.get("type") != "object" or not fields:
        return None
    valid = body_strategy(schema, GenerationMode.POSITIVE)
    return st.builds(_mutated, valid, st.sampled_from(fields), st.sampled_from(list(MUTATIONS)))


def fuzz_strategy(schema: dict) -> st.SearchStrategy[Body]:
    """Broken fields of valid bodies, schema-breaking bodies, valid edge cases and hostile
    documents, mixed."""
    check_schema(schema)
    parts = [field_mutations(schema), body_strategy(schema, GenerationMode.NEGATIVE)]
    parts += [body_strategy(schema, GenerationMode.POSITIVE), hostile_bodies()]
    return st.one_of(*(p for p in parts if p is not None))


def draw_fuzz_bodies(schema: dict, count: int, seed: int) -> list[Body]:
    """`count` distinct bodies (fewer when hypothesis runs out of them), the same for a seed."""
    distinct: dict[str, Body] = {}
    for body in draw_round(fuzz_strategy(schema), 3 * count, seed):
        distinct.setdefault(json.dumps(body, sort_keys=True, default=repr), body)
    return list(distinct.values())[:count]


def shrink(schema: dict, fails: Callable[[Body], bool], seed: int, tries: int) -> Body | None:
    """The smallest body hypothesis finds for which `fails` holds (None if it finds none in
    `tries` examples): what a person reads to reproduce the failure."""
    quiet = settings(
        max_examples=tries,
        database=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
        deadline=None,
        verbosity=Verbosity.quiet,
        print_blob=False,
    )
    with warnings.catch_warnings(), without_local_constants():
        warnings.simplefilter("ignore")
        try:
            return find(fuzz_strategy(schema), fails, settings=quiet, random=_random(seed))
        except NoSuchExample:
            return None


def _random(seed: int) -> random.Random:
    return random.Random(seed)
