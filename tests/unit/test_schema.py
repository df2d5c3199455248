"""The JSON Schema accepts what the loader accepts (for every valid file we ship) and the
committed schema files match what `infratest schema` prints."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from infratest.spec.schema import config_schema, scenario_schema

ROOT = Path(__file__).parent.parent.parent
VALID = ROOT / "tests" / "fixtures" / "valid"


def _yaml(path: Path):
    return yaml.safe_load(path.read_text())


@pytest.mark.parametrize(
    "path",
    [
        VALID / "format-example.yaml",
        VALID / "early-deciding.yaml",
        *sorted((ROOT / "scenarios").glob("*.yaml")),
    ],
    ids=lambda p: p.name,
)
def test_valid_scenarios_pass_the_schema(path: Path) -> None:
    jsonschema.validate(_yaml(path), scenario_schema())


@pytest.mark.parametrize(
    "path",
    [VALID / "format-example-config.yaml", ROOT / "configs" / "local.yaml"],
    ids=lambda p: p.name,
)
def test_valid_configs_pass_the_schema(path: Path) -> None:
    jsonschema.validate(_yaml(path), config_schema())


def test_schema_rejects_unknown_keys_and_metrics() -> None:
    schema = scenario_schema()
    base = {
        "assumptions": [{"name": "a", "disk": {"path": "/tmp"}, "expect": {"disk.free": "> 1GB"}}]
    }
    jsonschema.validate(base, schema)
    bad_key = {**base, "assumptons": []}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad_key, schema)
    bad_metric = {"assumptions": [{**base["assumptions"][0], "expect": {"disk.fre": "> 1GB"}}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad_metric, schema)


@pytest.mark.parametrize(
    ("name", "build"), [("scenario", scenario_schema), ("config", config_schema)]
)
def test_committed_schema_files_are_current(name: str, build) -> None:
    committed = json.loads((ROOT / "schemas" / f"{name}.schema.json").read_text())
    assert committed == build(), (
        f"run: infratest schema {'--config ' if name == 'config' else ''}"
        f"> schemas/{name}.schema.json"
    )
