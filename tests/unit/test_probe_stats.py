"""probe_measurements on synthetic series: the statistics behind process.* and host.* metrics."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from infratest.probes import ProbeSeries, probe_measurements
from infratest.stats import Interval, exact
from infratest.units import Dimension, format_quantity

MB = 1e6
C = 0.95


def make_series(
    rss: np.ndarray,
    interval: float = 0.25,
    cpu: np.ndarray | None = None,
    pid: int | None = 4242,
    gone_at: float | None = None,
) -> ProbeSeries:
    """A series with the given rss column and plausible values elsewhere."""
    n = rss.size
    rng = np.random.default_rng(7)
    return ProbeSeries(
        t=np.arange(n) * interval,
        rss=rss.astype(float),
        cpu=np.full(n, 0.5) if cpu is None else cpu.astype(float),
        threads=np.full(n, 4.0),
        fds=np.full(n, 12.0),
        host_available=8e9 - rng.uniform(0, 1e6, n),
        host_cpu=0.3 + rng.normal(0, 0.01, n),
        pid=pid,
        process_gone_at=gone_at,
    )


def noisy(n: int, scale: float = 50e3, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, scale, n)


def contains(iv: Interval, x: float) -> bool:
    return iv.low <= x <= iv.high


def test_linear_growth_is_recovered_from_window_means() -> None:
    t = np.arange(80) * 0.25  # 20 s
    series = make_series(200 * MB + 1 * MB * t + noisy(80))
    m = probe_measurements(series, C)
    growth = m.values["process.rss.growth"]
    assert contains(growth, 1 * MB)
    assert growth.low > 0.9 * MB and growth.high < 1.1 * MB
    assert growth.n == 20  # 1 s windows
    note = next(note for note in m.notes if note.startswith("rss grows"))
    rate = format_quantity(growth.value, Dimension.BYTE_RATE)
    assert note.startswith(f"rss grows {rate} (95% bounds "), note
    assert "20 window means of 1 s" in note


def test_flat_series_growth_contains_zero() -> None:
    series = make_series(300 * MB + noisy(80, scale=200e3))
    growth = probe_measurements(series, C).values["process.rss.growth"]
    assert contains(growth, 0.0)
    assert math.isfinite(growth.low) and math.isfinite(growth.high)


def test_short_run_fits_raw_samples_and_says_so() -> None:
    t = np.arange(16) * 0.25  # 4 s: 4 windows, fewer than needed for window means
    m = probe_measurements(make_series(100 * MB + 5 * MB * t + noisy(16)), C)
    growth = m.values["process.rss.growth"]
    assert growth.n == 16 and growth.low > 0
    assert any("raw samples" in note for note in m.notes)


def test_too_few_windows_make_growth_unknown() -> None:
    t = np.arange(8) * 0.25  # 2 s: 2 windows
    m = probe_measurements(make_series(100 * MB + 5 * MB * t), C)
    growth = m.values["process.rss.growth"]
    assert growth.low == -math.inf and growth.high == math.inf
    assert any("growth unknown" in note for note in m.notes)


def test_warmup_is_excluded_from_growth_but_not_from_peak() -> None:
    t = np.arange(80) * 0.25
    rss = np.where(t < 5, 100 * MB + 40 * MB * t, 300 * MB) + noisy(80, scale=10e3)
    rss[3] = 900 * MB  # a spike during warm-up still counts as the peak
    m = probe_measurements(make_series(rss), C, warmup=5.0)
    assert contains(m.values["process.rss.growth"], 0.0)
    assert m.values["process.rss.peak"].value == 900 * MB
    assert any("after 5.0 s warm-up" in note for note in m.notes)


def test_per_request_is_growth_divided_by_throughput() -> None:
    t = np.arange(80) * 0.25
    throughput = Interval(100.0, 95.0, 105.0, C, 20, "batch-means-t")
    m = probe_measurements(make_series(50 * MB + 6.4 * MB * t + noisy(80)), C, 0.0, throughput)
    growth, per_request = m.values["process.rss.growth"], m.values["process.rss.per_request"]
    assert per_request.value == pytest.approx(growth.value / 100.0)
    assert contains(per_request, 64e3)
    assert per_request.low > 0


def test_no_throughput_no_per_request() -> None:
    m = probe_measurements(make_series(np.full(40, 10 * MB)), C)
    assert "process.rss.per_request" not in m.values


def test_host_only_has_no_process_metrics() -> None:
    nan = np.full(40, np.nan)
    series = make_series(nan, cpu=nan, pid=None)
    series.threads, series.fds = nan.copy(), nan.copy()
    m = probe_measurements(series, C)
    assert set(m.values) == {"host.memory.available.min", "host.cpu.mean"}
    assert contains(m.values["host.cpu.mean"], 0.3)


def test_peaks_are_exact() -> None:
    series = make_series(np.linspace(10 * MB, 20 * MB, 40))
    series.threads[10] = 9
    series.fds[30] = 70
    m = probe_measurements(series, C)
    assert m.values["process.rss.peak"] == exact(20 * MB, C, 40)
    assert m.values["process.threads.peak"].value == 9
    assert m.values["process.fds.peak"].value == 70
    assert m.values["host.memory.available.min"].method == "exact"


def test_cpu_peak_is_a_moving_average_not_a_spike() -> None:
    cpu = np.full(80, 0.5)
    cpu[20] = 4.0  # one 0.25 s spike
    cpu[50:54] = 2.0  # one sustained second
    m = probe_measurements(make_series(np.full(80, MB), cpu=cpu), C)
    assert m.values["process.cpu.peak"].value == pytest.approx(2.0)
    assert contains(m.values["process.cpu.mean"], float(cpu.mean()))


def test_first_tick_nan_cpu_is_ignored() -> None:
    cpu = np.full(40, 1.0)
    cpu[0] = np.nan
    m = probe_measurements(make_series(np.full(40, MB), cpu=cpu), C)
    assert m.values["process.cpu.mean"].value == pytest.approx(1.0)
    assert m.values["process.cpu.peak"].value == pytest.approx(1.0)


def test_process_gone_keeps_host_metrics_and_early_readings() -> None:
    rss = np.full(40, 30 * MB)
    rss[20:] = np.nan
    series = make_series(rss, gone_at=5.0)
    series.cpu[20:] = np.nan
    m = probe_measurements(series, C)
    assert m.values["process.rss.peak"].value == 30 * MB
    assert "host.cpu.mean" in m.values
    assert any("went away 5.0 s in" in note for note in m.notes)


def test_empty_series_gives_a_note_not_an_error() -> None:
    empty = np.array([])
    series = ProbeSeries(empty, empty, empty, empty, empty, empty, empty, pid=1)
    m = probe_measurements(series, C)
    assert m.values == {} and m.notes == ["probe took no samples"]


def test_to_json_is_json_ready() -> None:
    series = make_series(np.array([1.4, np.nan, 3.6]) * MB)
    data = series.to_json()
    text = json.dumps(data, allow_nan=False)
    assert data["rss"] == [1_400_000, None, 3_600_000]
    assert data["t"] == [0.0, 0.25, 0.5]
    assert probe_measurements(series, C).series["probe"] == json.loads(text)


def test_samples_after_the_load_do_not_hide_growth() -> None:
    # 10 s of steady growth, then the load stops and memory drops back
    rss = np.concatenate([100 * MB + np.arange(40) * 0.25 * MB, np.full(12, 100 * MB)])
    series = make_series(rss)
    whole = probe_measurements(series, C).values["process.rss.growth"]
    during = probe_measurements(series.until(9.9), C).values["process.rss.growth"]
    assert during.value == pytest.approx(MB, rel=0.05)
    assert whole.value < 0.6 * during.value
    assert series.until(9.9).t.size == 40 and series.t.size == 52
