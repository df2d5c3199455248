"""Fuzzing a model server's input handling against real loopback servers: the crash is found
and shrunk to its smallest body; a server that refuses every malformed body passes."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from infratest.results.contract import document
from infratest.results.html import render_html
from infratest.results.markdown import render_markdown
from infratest.terminal import failure_table
from infratest.verdict import Verdict
from tests.support.assumptions import behaviour_config, run_assumption
from tests.support.predict_schemas import FEATURES

pytestmark = [pytest.mark.load, pytest.mark.usefixtures("no_leftover_processes")]

SCHEMA = FEATURES
FUZZ = (
    "fuzz: {path: /predict, json_schema: request.json, examples: 150, timeout: 2s}\n"
    "expect: {fuzz.server_errors: < 1}\n"
)


def _schema(folder: Path) -> None:
    (folder / "request.json").write_text(json.dumps(SCHEMA))


def test_the_crash_is_found_and_shrunk_to_its_smallest_body(tmp_path: Path) -> None:
    _schema(tmp_path)
    config = behaviour_config(tmp_path, "--validate-features", "--crash-on-empty-features")
    started = time.monotonic()
    result = run_assumption(tmp_path, config, FUZZ)
    assert result.outcome.verdict == Verdict.FAIL, result.outcome.reason
    assert 'smallest body that reproduced it: {"features": []}' in result.outcome.reason
    fuzz = result.measurements.series["fuzz"]
    assert fuzz["smallest"] == '{"features": []}' and fuzz["kinds"].keys() == {"HTTP 500"}
    assert result.measurements.values["fuzz.examples"].value == fuzz["examples"] > 100
    assert 1 <= fuzz["server_errors"] < fuzz["examples"]
    assert time.monotonic() - started < 120
    [kind] = fuzz["error_kinds"]
    assert kind["key"] == "HTTP 500" and kind["count"] == fuzz["server_errors"]
    assert kind["smallest"] == '{"features": []}' and 1 <= len(kind["examples"]) <= 3
    doc = document([result.to_dict()], config="c", started_at="s", finished_at="f")
    row = "<td>HTTP 500</td><td>{}</td><td>smallest body: {{&quot;features&quot;: []}}"
    assert row.format(kind["count"]) in render_html(doc)
    assert f'- HTTP 500 ×{kind["count"]}: smallest body: {{"features": []}}' in render_markdown(doc)
    assert f'failures: HTTP 500 ×{kind["count"]}: smallest body: {{"features": []}}' in (
        failure_table(result)
    )


def test_a_server_that_refuses_every_malformed_body_passes(tmp_path: Path) -> None:
    _schema(tmp_path)
    config = behaviour_config(tmp_path, "--validate-features")
    result = run_assumption(tmp_path, config, FUZZ)
    assert result.outcome.verdict == Verdict.PASS, result.outcome.reason
    assert result.measurements.series["fuzz"]["server_errors"] == 0
    assert result.measurements.series["fuzz"]["smallest"] is None


def test_a_server_that_hangs_on_bad_input_fails_within_the_time_bound(tmp_path: Path) -> None:
    _schema(tmp_path)
    config = behaviour_config(tmp_path, "--hang-after-requests", "3")
    started = time.monotonic()
    result = run_assumption(
        tmp_path,
        config,
        "fuzz: {path: /predict, json_schema: request.json, examples: 50, timeout: 0.5s,"
        " max_duration: 4s, shrink: 20}\nexpect: {fuzz.server_errors: < 1}\n",
    )
    assert result.outcome.verdict == Verdict.FAIL
    assert "hang past 0.5s" in result.measurements.series["fuzz"]["kinds"]
    assert time.monotonic() - started < 30  # max_duration, plus half of it to shrink
