"""The open-model keys of `load`: read in SI units, defaults as documented, accepted by the JSON
Schema, and turned into a plan with one scheduler user and a recorded seed."""

from __future__ import annotations

import textwrap
from pathlib import Path

import jsonschema
import pytest
import yaml

from infratest import load_config, load_scenario
from infratest.spec.schema import scenario_schema
from infratest.workloads.load import build_plan, open_model_plan

CONFIG = Path(__file__).parent.parent / "fixtures" / "config.yaml"
SCENARIO = """\
target: demo
assumptions:
  - name: at-a-rate
    load:
      rate: 300/min
      duration: 10s
      warmup: 1s
      timeout: 2s
      requests: [GET /]
    expect: {latency.p95: < 200ms, arrival.lag.p99: < 20ms, requests.rate: ">= 4.9/s"}
  - name: seeded
    load: {rate: 200/s, arrivals: uniform, seed: 42, max_in_flight: 50, max_lag: 5ms,
           duration: 5s, requests: [GET /]}
    expect: {latency.p99: < 1s}
"""


@pytest.fixture
def scenario(tmp_path: Path):
    path = tmp_path / "rate.yaml"
    path.write_text(textwrap.dedent(SCENARIO))
    return path, load_scenario(path, load_config(CONFIG))


def test_rate_keys_load_in_si_units_with_defaults(scenario) -> None:
    _, loaded = scenario
    first, second = (a.load for a in loaded.assumptions)
    assert first.rate == pytest.approx(5.0) and first.users is None
    assert (first.arrivals, first.seed, first.max_in_flight) == ("poisson", None, None)
    assert first.max_lag == pytest.approx(0.020)
    assert (second.arrivals, second.seed, second.max_in_flight) == ("uniform", 42, 50)
    assert second.max_lag == pytest.approx(0.005)


def test_the_schema_accepts_the_rate_keys(scenario) -> None:
    path, _ = scenario
    jsonschema.validate(yaml.safe_load(path.read_text()), scenario_schema())


def test_the_plan_has_one_scheduler_a_seed_and_a_bounded_in_flight(scenario) -> None:
    _, loaded = scenario
    first, second = (a.load for a in loaded.assumptions)
    url = "http://127.0.0.1:9"
    plan = open_model_plan(build_plan(first, url, 1, first.duration), first, 10000)
    assert plan.users == 1 and plan.rate_per_s == pytest.approx(5.0)
    assert plan.max_in_flight == 10  # rate × timeout
    assert 0 <= plan.seed < 2**31
    capped = open_model_plan(build_plan(first, url, 1, first.duration), first, 3)
    assert capped.max_in_flight == 3  # never above limits.max_in_flight
    seeded = open_model_plan(build_plan(second, url, 1, second.duration), second, 10000)
    assert (seeded.seed, seeded.max_in_flight, seeded.arrivals) == (42, 50, "uniform")
