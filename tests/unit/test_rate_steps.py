"""Sweep and capacity over arrival rates: the keys load in SI units and pass the schema, each
step's plan is open-model, and the figures judge served against offered load (no USL)."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from infratest import load_config, load_scenario
from infratest.measurements import Measurements
from infratest.spec.load_sections import CapacitySpec
from infratest.spec.schema import scenario_schema
from infratest.stats import Interval, exact
from infratest.workloads.capacity import SearchRange
from infratest.workloads.load_step import Level, Step, step_plan
from infratest.workloads.sweep import NO_USL_OVER_RATES, sweep_measurements

CONFIG = Path(__file__).parent.parent / "fixtures" / "config.yaml"
SCENARIO = """\
target: demo
assumptions:
  - name: rate-sweep
    sweep: {rate: [50/s, 100/s, 200/s], step: 4s, seed: 7, max_lag: 5ms, workers: 2,
            timeout: 2s, requests: [GET /]}
    expect: {scaling.efficiency: ">= 0.9"}
  - name: rate-capacity
    capacity:
      slo: {latency.p95: < 200ms}
      rate: {min: 50.5/s, max: 12000/min}
      step: 10s
      arrivals: uniform
      plan: {rate: 1000/s, headroom: 20%}
      requests: [GET /]
    expect: {capacity.rate: ">= 100/s", capacity.throughput: ">= 90/s"}
"""


@pytest.fixture
def loaded(tmp_path: Path):
    path = tmp_path / "rate-steps.yaml"
    path.write_text(textwrap.dedent(SCENARIO))
    return path, load_scenario(path, load_config(CONFIG))


def test_rate_keys_load_in_si_units(loaded) -> None:
    _, scenario = loaded
    sweep, capacity = scenario.assumptions[0].sweep, scenario.assumptions[1].capacity
    assert sweep.levels == (50.0, 100.0, 200.0) and sweep.by_rate and sweep.users is None
    assert (sweep.seed, sweep.max_lag, sweep.workers) == (7, pytest.approx(0.005), 2)
    assert capacity.rate.min == pytest.approx(50.5) and capacity.rate.max == pytest.approx(200)
    assert capacity.users is None and capacity.arrivals == "uniform"


def test_the_schema_accepts_the_rate_keys(loaded) -> None:
    path, _ = loaded
    jsonschema.validate(yaml.safe_load(path.read_text()), scenario_schema())


def test_a_rate_range_is_searched_in_whole_requests_per_second(loaded) -> None:
    capacity: CapacitySpec = loaded[1].assumptions[1].capacity
    within = SearchRange.of(capacity)
    assert (within.low, within.high, within.by_rate) == (51, 200, True)
    assert within.label(51) == "51/s" and within.span(51, 102) == "51/s and 102/s"


def test_a_rate_step_plan_is_open_model_with_the_sections_keys(loaded) -> None:
    sweep = loaded[1].assumptions[0].sweep
    plan = step_plan(sweep, "http://127.0.0.1:9", Level(100.0, True), 4.0, 1.0, 150)
    assert plan.open_model and plan.rate_per_s == 100.0 and plan.users == 1
    assert plan.seed == 7 and plan.arrivals == "poisson"
    assert plan.max_in_flight == 150  # rate × timeout (200) capped by the config's ceiling
    closed = step_plan(sweep, "http://127.0.0.1:9", Level(8.0), 4.0, 1.0, 150)
    assert not closed.open_model and closed.users == 8


def _rate_steps(rates: list[float], served: list[float], rel_half: float) -> list[Step]:
    steps = []
    for rate, x in zip(rates, served, strict=True):
        found = Measurements()
        found.add("throughput", Interval(x, x * (1 - rel_half), x * (1 + rel_half), 0.95, 4, "t"))
        found.add("generator.cpu.peak", exact(0.2, 0.95))
        steps.append(Step(Level(rate, True), found, 4.0, 4.0 * len(steps)))
    return steps


@given(
    st.lists(st.floats(1.0, 500.0), min_size=2, max_size=5, unique=True).map(sorted),
    st.floats(0.2, 1.0),
)
def test_rate_efficiency_is_the_served_share(rates: list[float], kept: float) -> None:
    """Serving the smallest step fully and `kept` of the largest gives efficiency `kept`."""
    served = [rates[0]] + [r * kept for r in rates[1:]]
    found = sweep_measurements(_rate_steps(rates, served, 0.01), 0.95)
    efficiency = found.values["scaling.efficiency"]
    assert efficiency.value == pytest.approx(kept, rel=1e-9)
    assert efficiency.low <= kept <= efficiency.high


def test_a_rate_sweep_has_no_usl_and_its_rows_carry_the_rate() -> None:
    rates = [10.0, 20.0, 40.0, 80.0, 160.0]
    found = sweep_measurements(_rate_steps(rates, rates, 0.02), 0.95)
    assert not any(name.startswith("usl.") for name in found.values)
    assert NO_USL_OVER_RATES in found.notes
    rows = found.series["sweep"]["steps"]
    assert [row["rate"] for row in rows] == rates and all("users" not in row for row in rows)
    assert found.series["sweep"]["by"] == "rate" and not found.series["sweep"]["usl"]["ok"]
    assert found.notes[0].startswith("5 steps from 10/s to 160/s")
    assert math.isclose(found.values["throughput.peak"].value, 160.0)
