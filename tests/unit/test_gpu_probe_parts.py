"""The GPU probe's pure parts: gpu.* metrics from a per-device series, the probe section, and
which metrics each kind of probe offers."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from pydantic import ValidationError

from infratest import load_scenario
from infratest.measurements import Measurements
from infratest.observation import Observation
from infratest.probes.gpu_metrics import GpuSeries, gpu_measurements
from infratest.spec.resource_sections import ProbeSpec
from infratest.units import Dimension, format_quantity, parse_condition

GIB = float(1 << 30)


def two_gpus(n: int = 41, step: float = 0.25) -> GpuSeries:
    """Two devices for 10 s: GPU 0 ramps its memory, GPU 1 holds 1 GiB; power 100 W + 50 W."""
    t = np.arange(n) * step
    memory = np.stack([np.linspace(1, 5, n) * GIB, np.full(n, GIB)], axis=1)
    utilization = np.stack([np.full(n, 0.8), np.full(n, 0.2)], axis=1)
    power = np.stack([np.full(n, 100.0), np.full(n, 50.0)], axis=1)
    return GpuSeries(t, ("0: A", "1: B"), memory, utilization, power, {(0, 42): int(3 * GIB)})


def test_memory_peak_is_of_the_sum_and_means_pool_the_devices() -> None:
    measured = gpu_measurements(two_gpus(), confidence=0.95)
    values = measured.values
    assert values["gpu.memory.used.peak"].value == pytest.approx(6 * GIB)
    assert values["gpu.memory.used.peak"].low == values["gpu.memory.used.peak"].high
    assert values["gpu.utilization.mean"].value == pytest.approx(0.5)
    assert values["gpu.power.mean"].value == pytest.approx(150.0)
    gpu = measured.series["gpu"]
    assert gpu["devices"] == ["0: A", "1: B"]
    assert gpu["per_device"][1]["memory_used"][0] == GIB
    assert gpu["processes"] == [{"device": "0: A", "pid": 42, "memory_used_peak": int(3 * GIB)}]


def test_warmup_is_left_out_of_the_means_but_not_the_peak() -> None:
    series = two_gpus()
    series.power[series.t < 2.0] = 400.0  # a warm-up spike
    measured = gpu_measurements(series, 0.95, warmup=2.0)
    assert measured.values["gpu.power.mean"].value == pytest.approx(150.0)
    assert gpu_measurements(series, 0.95).values["gpu.power.mean"].value > 150.0


def test_unsupported_readings_are_missing_never_zero() -> None:
    series = two_gpus()
    series.power[:] = math.nan  # a device that does not report power
    series.utilization[:, 1] = math.nan  # one that does not report utilisation
    measured = gpu_measurements(series, 0.95)
    assert "gpu.power.mean" not in measured.values
    assert any("gpu.power.mean" in note for note in measured.notes)
    assert measured.values["gpu.utilization.mean"].value == pytest.approx(0.8)
    assert measured.series["gpu"]["power"][0] is None


def test_no_samples_give_no_metrics() -> None:
    empty = np.empty((0, 1))
    series = GpuSeries(np.empty(0), ("0: A",), empty, empty, empty)
    measured = gpu_measurements(series, 0.95)
    assert not measured.values and "gpu probe took no samples" in measured.notes


@settings(max_examples=40, deadline=None)
@given(
    memory=hnp.arrays(float, (12, 3), elements=st.floats(0, 80 * GIB)),
    power=hnp.arrays(float, (12, 3), elements=st.floats(0, 700)),
)
def test_peak_bounds_every_tick_and_the_mean_lies_within_the_range(
    memory: np.ndarray, power: np.ndarray
) -> None:
    series = GpuSeries(np.arange(12) * 0.5, ("0", "1", "2"), memory, power / 700, power)
    values = gpu_measurements(series, 0.9).values
    assert values["gpu.memory.used.peak"].value == pytest.approx(memory.sum(axis=1).max())
    totals = power.sum(axis=1)
    assert totals.min() - 1e-6 <= values["gpu.power.mean"].value <= totals.max() + 1e-6
    assert 0 <= values["gpu.utilization.mean"].value <= 1


def test_until_cuts_every_column() -> None:
    cut = two_gpus().until(5.0)
    assert cut.t.max() == 5.0 and cut.memory.shape == (21, 2) and cut.power.shape == (21, 2)


@pytest.mark.parametrize(("given_", "expected"), [("all", "all"), (0, 0), (3, 3)])
def test_probe_gpu_accepts_all_or_an_index(given_: object, expected: object) -> None:
    spec = ProbeSpec(gpu=given_)
    assert spec.gpu == expected and spec.reads_gpus and not spec.selects_process


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"gpu": "some"}, "expected all or a GPU index"),
        ({"gpu": -1}, "expected all or a GPU index"),
        ({"gpu": True}, "expected all or a GPU index"),
        ({"gpu": 0, "pid": 5}, "give no pid beside it"),
        ({"gpu": "all", "target": True}, "give no target beside it"),
        ({"gpu": "all", "prometheus": "/metrics"}, "give no prometheus beside it"),
    ],
)
def test_probe_gpu_refuses_what_does_not_fit(fields: dict, said: str) -> None:
    with pytest.raises(ValidationError, match=said):
        ProbeSpec(**fields)


def test_power_is_a_unit_of_its_own() -> None:
    condition = parse_condition("< 1.5kW")
    assert (condition.bound, condition.dimension) == (1500.0, Dimension.POWER)
    assert format_quantity(250.0, Dimension.POWER) == "250W"
    assert format_quantity(0.3, Dimension.POWER) == "300mW"


class Stopped:
    """A GPU sampler that already stopped: what Observation.finish is handed."""

    def __init__(self, series: GpuSeries) -> None:
        self.series = series

    def stop(self) -> GpuSeries:
        return self.series


def test_an_observation_reads_gpu_metrics_over_the_load_window(tmp_path: Path) -> None:
    """The load measured from 2 s to 6 s on the probe's clock: means cover only that."""
    series = two_gpus()
    series.power[(series.t < 2.0) | (series.t > 6.0)] = 10.0  # idle before and after
    found = Measurements(
        series={"load": {"started_at": 1000.0, "measure_start": 2.0, "measure_end": 6.0}}
    )
    path = tmp_path / "s.yaml"
    path.write_text(
        "assumptions:\n  - name: a\n    observe: {duration: 1s}\n    probe: {gpu: all}\n"
        "    expect: {gpu.power.mean: < 300W}\n"
    )
    assumption = load_scenario(path).assumptions[0]
    measured = Observation(Stopped(series), 1000.0).finish(assumption, found, 0.95)
    assert measured.values["gpu.power.mean"].value == pytest.approx(150.0)
    assert measured.series["gpu"]["started_at"] == 1000.0
    assert len(measured.series["gpu"]["t"]) == series.t.size  # the whole run, for plots
