"""JSON Schema of scenario and config files, for editors (yaml-language-server) and CI linters."""

from __future__ import annotations

from typing import Any

from infratest import __version__
from infratest.metrics import METRICS
from infratest.spec.config import Config
from infratest.spec.load_sections import CapacitySpec
from infratest.spec.scenario import Assumption, Scenario


def _drop_internal(schema: dict[str, Any], *where: tuple[str | None, str]) -> None:
    """Fields the loader sets (file path, line) are not for users to write."""
    for definition, field in where:
        node = schema if definition is None else schema["$defs"][definition]
        node["properties"].pop(field, None)


def _metric_keys(schema: dict[str, Any], model: type, field: str) -> None:
    definition = schema["$defs"][model.__name__]["properties"][field]
    definition["propertyNames"] = {"enum": sorted(METRICS)}


def scenario_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file."""
    schema = Scenario.model_json_schema(mode="validation")
    _drop_internal(schema, (None, "path"), ("Assumption", "line"))
    for section in ("LoadSpec", "SweepSpec", "CapacitySpec"):
        _drop_internal(schema, (section, "user_class_at"), (section, "user_class_folder"))
    _metric_keys(schema, Assumption, "expect")
    _metric_keys(schema, CapacitySpec, "slo")
    schema["required"] = [r for r in schema.get("required", []) if r != "scenario"]
    return _header(schema, "infratest scenario")


def config_schema() -> dict[str, Any]:
    """The JSON Schema of an environment config file."""
    schema = Config.model_json_schema(mode="validation")
    _drop_internal(schema, (None, "path"))
    return _header(schema, "infratest config")


def _header(schema: dict[str, Any], title: str) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"{title} (infratest {__version__})",
        **{k: v for k, v in schema.items() if k != "title"},
    }
