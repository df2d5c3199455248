"""Size hints: the schema's length bounds rewritten on a copy, ranges outside the schema or
paths not in it refused with the field, drawn bodies within the ranges, pools keyed on them."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infratest.bodies import MODES
from infratest.bodies.drawing import body_strategy, draw_round
from infratest.bodies.sizes import SizeError, stratified, with_sizes
from infratest.measurements import MeasurementError
from infratest.spec.traffic import RequestSpec
from infratest.workloads.body_sources import bodies_of


def _schema(features: dict | None = None, text: dict | None = None) -> dict:
    return {
        "$defs": {"text": {"type": "string", **(text or {})}},
        "type": "object",
        "required": ["features", "inputs"],
        "properties": {
            "features": {"type": "array", "items": {"type": "number"}, **(features or {})},
            "inputs": {
                "type": "object",
                "required": ["text"],
                "properties": {"text": {"$ref": "#/$defs/text"}, "n": {"type": "integer"}},
            },
        },
    }


def test_sizes_set_item_and_length_bounds_on_a_copy() -> None:
    schema = _schema({"minItems": 1, "maxItems": 256}, {"maxLength": 5000})
    before = json.dumps(schema)
    out = with_sizes(schema, {"features": (64, 128), "inputs.text": (1000, 4000)})
    assert json.dumps(schema) == before
    assert (
        out["properties"]["features"]["minItems"],
        out["properties"]["features"]["maxItems"],
    ) == (
        64,
        128,
    )
    assert out["$defs"]["text"] == {"type": "string", "minLength": 1000, "maxLength": 4000}


def test_an_open_side_keeps_the_schema_bound() -> None:
    out = with_sizes(_schema({"minItems": 2, "maxItems": 9}), {"features": (None, 4)})
    assert out["properties"]["features"] | {} == {
        "type": "array",
        "items": {"type": "number"},
        "minItems": 2,
        "maxItems": 4,
    }
    out = with_sizes(_schema(), {"features": (3, None)})
    assert out["properties"]["features"]["minItems"] == 3
    assert "maxItems" not in out["properties"]["features"]


@pytest.mark.parametrize(
    ("sizes", "fragment"),
    [
        (
            {"features": (64, 512)},
            "64..512 reaches past the schema's own minItems/maxItems (1..256)",
        ),
        ({"features": (0, 8)}, "0..8 reaches past the schema's own"),
        ({"features": (300, None)}, "300.. reaches past"),
        ({"features": (None, 0)}, "..0 ends below the schema's minItems"),
        ({"text": (1, 2)}, "the schema has no field 'text' in the body (its fields: features, "),
        ({"inputs.txt": (1, 2)}, "no field 'txt' in inputs"),
        ({"features.x": (1, 2)}, "no field 'x' in features (its fields: none)"),
        ({"inputs.n": (1, 2)}, "sizes apply to arrays and strings; its type is integer"),
    ],
)
def test_sizes_the_schema_cannot_take_are_refused_with_the_field(
    sizes: dict, fragment: str
) -> None:
    with pytest.raises(SizeError) as info:
        with_sizes(_schema({"minItems": 1, "maxItems": 256}), sizes)
    assert fragment in str(info.value)
    assert info.value.field == next(iter(sizes))


bounds = st.tuples(st.integers(0, 6), st.integers(0, 6)).map(sorted)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.nested_given])
@given(bounds, bounds, st.integers(0, 2**16))
def test_every_drawn_body_has_its_field_lengths_in_range(
    items: list[int], chars: list[int], seed: int
) -> None:
    schema = _schema({"maxItems": 10}, {"maxLength": 12})
    sized = with_sizes(schema, {"features": tuple(items), "inputs.text": tuple(chars)})
    bodies = draw_round(body_strategy(sized, MODES["valid"]), 25, seed)
    assert bodies
    for body in bodies:
        jsonschema.validate(body, schema)
        assert items[0] <= len(body["features"]) <= items[1]
        assert chars[0] <= len(body["inputs"]["text"]) <= chars[1]


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 50), st.integers(0, 300), st.integers(1, 8))
def test_the_slices_of_a_range_cover_it_in_order(low: int, width: int, parts: int) -> None:
    schema = _schema({"maxItems": 400})
    copies = stratified(schema, {"features": (low, low + width)}, parts)
    slices = [
        (c["properties"]["features"]["minItems"], c["properties"]["features"]["maxItems"])
        for c in copies
    ]
    assert len(slices) == min(parts, width + 1)
    assert slices[0][0] == low and slices[-1][1] == low + width
    for (_, end), (start, _) in itertools.pairwise(slices):
        assert start == end + 1
    assert all(start <= end for start, end in slices)


def test_pools_are_keyed_on_the_sizes(tmp_path: Path) -> None:
    file = tmp_path / "request.json"
    file.write_text(json.dumps(_schema({"maxItems": 10})))

    def pool(sizes: dict | None) -> tuple:
        return bodies_of(
            RequestSpec(method="POST", path="/p", json_schema=str(file), pool=10, sizes=sizes)
        )

    assert {len(b["features"]) for b in pool({"features": 7})} == {7}
    assert {len(b["features"]) for b in pool({"features": "2..3"})} == {2, 3}
    spread = [len(b["features"]) for b in pool({"features": "..10"})]
    assert spread[:4] == sorted(spread[:4]) and max(spread) >= 8  # every slice, interleaved
    assert pool({"features": 7}) is pool({"features": "7"})  # the same pool, made once
    with pytest.raises(MeasurementError, match=r"POST /p: sizes\.features: 11 reaches past"):
        pool({"features": 11})
