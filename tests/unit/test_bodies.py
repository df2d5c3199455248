"""Bodies drawn from a JSON Schema: valid against it, distinct, reproducible by seed (also in
a fresh process with another hash seed), and broken schemas refused with a readable reason."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import jsonschema
import pytest
from jsonschema.validators import validator_for

from infratest.bodies import SchemaError, draw_bodies, load_schema
from tests.support.predict_schemas import FEATURES

DRAFT7 = "http://json-schema.org/draft-07/schema#"
DRAFT2020 = "https://json-schema.org/draft/2020-12/schema"

PREDICT = FEATURES
NESTED = {
    "type": "object",
    "required": ["model", "inputs"],
    "properties": {
        "model": {"type": "string", "maxLength": 12},
        "inputs": {
            "type": "object",
            "required": ["features"],
            "properties": {
                "features": {
                    "type": "array",
                    "items": {"type": "number", "minimum": -10, "maximum": 10},
                    "minItems": 1,
                    "maxItems": 3,
                },
                "id": {"type": "integer", "exclusiveMinimum": 0},
            },
            "additionalProperties": False,
        },
        "tag": {"enum": ["a", "b", None]},
    },
    "additionalProperties": False,
}
SCHEMAS = {
    "predict": PREDICT,
    "nested": NESTED,
    "optional fields, open object": {
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"type": "string", "maxLength": 5}, "age": {"type": "integer"}},
    },
    "bounded numbers": {
        "type": "array",
        "items": {"type": "number", "minimum": 0.5, "exclusiveMaximum": 2},
        "maxItems": 6,
    },
    "enum in object": {
        "type": "object",
        "required": ["kind", "n"],
        "properties": {
            "kind": {"enum": ["cat", "dog", 3]},
            "n": {"type": "integer", "minimum": -5, "maximum": 500},
        },
        "additionalProperties": False,
    },
    "draft-07 definitions and tuple items": {
        "$schema": DRAFT7,
        "definitions": {"small": {"type": "integer", "minimum": 0, "maximum": 1000}},
        "type": "array",
        "items": [{"$ref": "#/definitions/small"}, {"type": "string", "maxLength": 3}],
        "additionalItems": False,
        "minItems": 1,
    },
    "2020-12 $defs and prefixItems": {
        "$schema": DRAFT2020,
        "$defs": {"word": {"type": "string", "minLength": 1, "maxLength": 8}},
        "type": "array",
        "prefixItems": [{"$ref": "#/$defs/word"}, {"type": "boolean"}],
        "items": False,
        "minItems": 2,
    },
}


@pytest.mark.parametrize("name", SCHEMAS)
def test_every_body_is_valid_and_distinct(name: str) -> None:
    schema = SCHEMAS[name]
    bodies = draw_bodies(schema, 60, seed=7)
    validator = validator_for(schema)(schema)
    assert len(bodies) == 60
    for body in bodies:
        errors = [error.message for error in validator.iter_errors(body)]
        assert not errors, (body, errors)
    assert len({json.dumps(body, sort_keys=True) for body in bodies}) == 60


def test_a_small_schema_gives_all_its_values_and_no_more() -> None:
    assert sorted(draw_bodies({"enum": ["x", "y", "z"]}, 50, seed=1)) == ["x", "y", "z"]
    assert sorted(draw_bodies({"type": "boolean"}, 5, seed=1)) == [False, True]
    assert draw_bodies({"const": {"a": 1}}, 5, seed=1) == [{"a": 1}]
    assert draw_bodies(PREDICT, 0, seed=1) == []


def test_same_seed_same_bodies_and_other_seeds_differ() -> None:
    first = draw_bodies(NESTED, 40, seed=3)
    assert draw_bodies(NESTED, 40, seed=3) == first
    assert draw_bodies(NESTED, 40, seed=4) != first
    assert draw_bodies(PREDICT, 40, seed=3) != draw_bodies(PREDICT, 40, seed=5)


DRAW_IN_CHILD = """
import json, sys
if sys.argv[2] == "with-literals":
    import literals  # a local module: hypothesis would mine its constants
from infratest.bodies import draw_bodies
print(json.dumps(draw_bodies(json.loads(sys.argv[1]), 40, seed=11)))
"""

#: Literals hypothesis could otherwise draw for NESTED (numbers in [-10, 10], short strings).
LITERALS = "VALUES = [0.8, -3.25, 7, 9.5, 'zebra', 'x1', 'model-a', 1234, 2.5e-3]\n"


def test_same_seed_same_bodies_in_fresh_processes(tmp_path: Path) -> None:
    """Also with another hash seed, and with other local modules loaded than in this one."""
    expected = draw_bodies(NESTED, 40, seed=11)
    (tmp_path / "literals.py").write_text(LITERALS)
    path = os.pathsep.join([str(Path(__file__).resolve().parents[2]), str(tmp_path)])
    for hash_seed, extra in (("1", "plain"), ("987", "with-literals")):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": path}
        child = subprocess.run(
            [sys.executable, "-c", DRAW_IN_CHILD, json.dumps(NESTED), extra],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=300,
            check=True,
        )
        assert json.loads(child.stdout) == expected, extra


def test_drawing_prints_and_warns_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        draw_bodies(NESTED, 30, seed=2)
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
    assert [str(w.message) for w in caught] == []


def test_invalid_mode_draws_bodies_that_break_the_schema_and_unknown_modes_are_refused() -> None:
    validator = jsonschema.validators.validator_for(PREDICT)(PREDICT)
    broken = draw_bodies(PREDICT, 30, seed=1, mode="invalid")
    documents = [b for b in broken if not isinstance(b, bytes)]  # raw bytes: not even JSON
    assert len(broken) >= 10 and all(not validator.is_valid(b) for b in documents)
    with pytest.raises(ValueError, match="mode"):
        draw_bodies(PREDICT, 3, seed=1, mode="weird")


@pytest.mark.parametrize("dialect", [DRAFT7, DRAFT2020, None])
def test_load_schema_reads_both_dialects(tmp_path: Path, dialect: str | None) -> None:
    schema = dict(PREDICT) if dialect is None else {"$schema": dialect, **PREDICT}
    path = tmp_path / "predict-request.json"
    path.write_text(json.dumps(schema))
    assert load_schema(path) == schema
    assert len(draw_bodies(load_schema(path), 5, seed=1)) == 5


def test_load_schema_reads_yaml(tmp_path: Path) -> None:
    path = tmp_path / "predict.yaml"
    path.write_text("type: object\nrequired: [x]\nproperties:\n  x: {type: integer}\n")
    assert load_schema(path)["properties"] == {"x": {"type": "integer"}}


BROKEN_FILES = {
    "not json": ('{"type": "object",\n  "properties": }', ["line 2", "not valid JSON"]),
    "bad keyword value": (
        '{"type": "object", "properties": {"a": {"type": "strin"}}}',
        ["/properties/a/type", "'strin'"],
    ),
    "bad minItems": ('{"type": "array", "minItems": -1}', ["/minItems", "-1"]),
    "unknown dialect": ('{"$schema": "http://example.com/mine"}', ["/$schema", "example.com"]),
    "not an object": ("[1, 2]", ["must be a JSON object"]),
}


@pytest.mark.parametrize("name", BROKEN_FILES)
def test_a_broken_schema_file_says_where_and_why(tmp_path: Path, name: str) -> None:
    text, fragments = BROKEN_FILES[name]
    path = tmp_path / "request.json"
    path.write_text(text)
    with pytest.raises(SchemaError) as raised:
        load_schema(path)
    message = str(raised.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message


def test_a_missing_file_is_a_schema_error(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="cannot read"):
        load_schema(tmp_path / "absent.json")


@pytest.mark.parametrize(
    ("schema", "fragment"),
    [
        ({"properties": {"a": {"$ref": "#/$defs/missing"}}}, "nothing at /$defs"),
        ({"$ref": "https://example.com/remote.json"}, "only local"),
        ({"type": "string", "minLength": 5, "maxLength": 2}, "no body satisfies"),
    ],
)
def test_a_schema_nothing_can_be_drawn_from_is_a_schema_error(schema: dict, fragment: str) -> None:
    with pytest.raises(SchemaError, match=re.escape(fragment)):
        draw_bodies(schema, 5, seed=1)
