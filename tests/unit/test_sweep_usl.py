"""The sweep's USL figures: intervals from the bootstrap, never labelled exact, and the
existing rules for leaving a fit out."""

from __future__ import annotations

import math

import numpy as np

from infratest.measurements import Measurements
from infratest.stats import Interval, exact
from infratest.workloads.load_step import Level, Step
from infratest.workloads.sweep import sweep_measurements

USERS = [1, 2, 4, 8, 16, 32, 48, 64]


def _steps(throughput: list[float], rel_half: float) -> list[Step]:
    steps = []
    for users, x in zip(USERS, throughput, strict=True):
        found = Measurements()
        half = rel_half * x if math.isfinite(rel_half) else math.inf
        found.add("throughput", Interval(x, x - half, x + half, 0.95, 10, "batch-means-t"))
        found.add("generator.cpu.peak", exact(0.2, 0.95))
        steps.append(Step(Level(users), found, 10.0, 10.0 * len(steps)))
    return steps


def _usl(users: list[int]) -> list[float]:
    n = np.array(users, dtype=float)
    return list(100.0 * n / (1.0 + 0.05 * (n - 1.0) + 0.002 * n * (n - 1.0)))


def test_usl_peaks_carry_bootstrap_intervals() -> None:
    found = sweep_measurements(_steps(_usl(USERS), 0.02), 0.95)
    for name in ("usl.peak_users", "usl.peak_throughput"):
        iv = found.values[name]
        assert iv.method == "usl-bootstrap"
        assert iv.low < iv.value < iv.high and math.isfinite(iv.low) and math.isfinite(iv.high)
    assert found.values["usl.peak_users"].low <= math.sqrt(0.95 / 0.002)
    assert math.sqrt(0.95 / 0.002) <= found.values["usl.peak_users"].high
    assert any("parametric bootstrap" in note for note in found.notes)
    assert found.series["sweep"]["usl"]["ok"]


def test_steps_without_intervals_leave_the_peaks_unbounded_and_say_why() -> None:
    found = sweep_measurements(_steps(_usl(USERS), math.inf), 0.95)
    peak = found.values["usl.peak_users"]
    assert peak.method == "usl-bootstrap" and math.isinf(peak.low) and math.isinf(peak.high)
    assert any("too short for a throughput interval" in note for note in found.notes)


def test_a_poor_fit_is_still_not_reported() -> None:
    noise = np.random.default_rng(1).uniform(50.0, 500.0, len(USERS))
    found = sweep_measurements(_steps(list(noise), 0.02), 0.95)
    assert "usl.peak_users" not in found.values and "usl.peak_throughput" not in found.values
    assert any(note.startswith("USL fit not reported: poor fit") for note in found.notes)


def test_no_sweep_figure_is_an_estimate_labelled_exact() -> None:
    found = sweep_measurements(_steps(_usl(USERS), 0.02), 0.95)
    labelled_exact = {name for name, iv in found.values.items() if iv.method == "exact"}
    assert labelled_exact == {"generator.cpu.peak"}  # an observed maximum, not an estimate
