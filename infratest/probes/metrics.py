"""Turning a ProbeSeries into the process.* and host.* metrics with their intervals."""

from __future__ import annotations

import math

import numpy as np

from infratest.measurements import Measurements
from infratest.probes.sampler import ProbeSeries
from infratest.stats import Interval, exact, mean_interval, ratio_interval, slope_interval
from infratest.units import Dimension, format_quantity

WINDOW_S = 1.0  # window means and the cpu.peak moving average span about this long
MIN_SLOPE_WINDOWS = 3  # fewer windows than this: no growth estimate at all
RAW_SLOPE_BELOW_WINDOWS = 6  # fewer windows than this: fit the raw samples instead


def probe_measurements(
    series: ProbeSeries,
    confidence: float,
    warmup: float = 0.0,
    throughput: Interval | None = None,
) -> Measurements:
    """process.* and host.* metrics from one sampled run.

    Peaks and the host minimum cover the whole run (memory spikes during warm-up still
    count); growth, means and cpu.peak cover only the samples after `warmup` seconds.
    ``throughput`` (requests/s) turns growth into process.rss.per_request.
    """
    out = Measurements(series={"probe": series.to_json()}, notes=list(series.notes))
    if series.t.size == 0:
        out.notes.append("probe took no samples")
        return out
    steady = series.t >= warmup
    if series.source is None:  # a Prometheus probe does not watch this machine
        _host_metrics(out, series, steady, confidence)
    if series.has_process:
        _process_metrics(out, series, steady, confidence, warmup, throughput)
    for name, column in series.extra.items():
        _add_peak(out, f"{name.replace('_', '.')}.peak", column, confidence)
    return out


def _host_metrics(out: Measurements, s: ProbeSeries, steady: np.ndarray, c: float) -> None:
    available = s.host_available[np.isfinite(s.host_available)]
    if available.size:
        out.add("host.memory.available.min", exact(float(available.min()), c, available.size))
    _, means = _window_means(s.t[steady], s.host_cpu[steady], _window(s.t))
    out.add("host.cpu.mean", mean_interval(means, c))


def _process_metrics(
    out: Measurements,
    s: ProbeSeries,
    steady: np.ndarray,
    c: float,
    warmup: float,
    throughput: Interval | None,
) -> None:
    if s.process_gone_at is not None:
        out.notes.append(
            f"process {s.pid} went away {s.process_gone_at:.1f} s in; "
            "process metrics cover only the time before"
        )
    scraped = s.source is not None  # an exporter may lack some series; none was asked for
    if not scraped and not np.isfinite(s.rss).any():
        out.notes.append(f"process {s.pid}: no readings (gone before the first sample)")
        return
    for name, column in (
        ("process.rss.peak", s.rss),
        ("process.threads.peak", s.threads),
        ("process.fds.peak", s.fds),
    ):
        if not scraped or np.isfinite(column).any():
            _add_peak(out, name, column, c)
    window = _window(s.t)
    if not scraped or np.isfinite(s.cpu).any():
        _, cpu_means = _window_means(s.t[steady], s.cpu[steady], window)
        out.add("process.cpu.mean", mean_interval(cpu_means, c))
        peak = _moving_peak(s.t[steady], s.cpu[steady], c)
        if peak is not None:
            out.add("process.cpu.peak", peak)
    if scraped and not np.isfinite(s.rss).any():
        return
    growth, note = _growth(s.t[steady], s.rss[steady], c, warmup, window)
    out.add("process.rss.growth", growth)
    out.notes.append(note)
    if throughput is not None:
        out.add("process.rss.per_request", ratio_interval(growth, throughput, c))


def _add_peak(out: Measurements, name: str, column: np.ndarray, c: float) -> None:
    values = column[np.isfinite(column)]
    if values.size:
        out.add(name, exact(float(values.max()), c, values.size))
    else:
        out.notes.append(f"{name}: not readable for this process (access denied)")


def _window(t: np.ndarray) -> float:
    """About WINDOW_S, but never shorter than the sampling interval."""
    step = float(np.median(np.diff(t))) if t.size >= 2 else 0.0
    return max(WINDOW_S, step)


def _window_means(t: np.ndarray, y: np.ndarray, window: float) -> tuple[np.ndarray, np.ndarray]:
    """(mean time, mean value) per window: neighbouring samples are correlated, window
    means much less so, which is what the t-based intervals assume."""
    keep = np.isfinite(t) & np.isfinite(y)
    t, y = t[keep], y[keep]
    if t.size == 0:
        return t, y
    _, ids = np.unique(np.floor((t - t[0]) / window), return_inverse=True)
    sizes = np.bincount(ids)
    return np.bincount(ids, weights=t) / sizes, np.bincount(ids, weights=y) / sizes


def _moving_peak(t: np.ndarray, cpu: np.ndarray, c: float) -> Interval | None:
    """Largest ~1 s moving average: sustained load, not one sampling spike."""
    keep = np.isfinite(cpu)
    values = cpu[keep]
    if values.size == 0:
        return None
    step = float(np.median(np.diff(t[keep]))) if values.size >= 2 else WINDOW_S
    k = min(values.size, max(1, round(WINDOW_S / step))) if step > 0 else 1
    averaged = np.convolve(values, np.ones(k) / k, mode="valid")
    return exact(float(averaged.max()), c, values.size)


def _growth(
    t: np.ndarray, rss: np.ndarray, c: float, warmup: float, window: float
) -> tuple[Interval, str]:
    """Least-squares slope of rss (bytes/s) and a note saying what it was fitted to."""
    keep = np.isfinite(t) & np.isfinite(rss)
    t, rss = t[keep], rss[keep]
    tw, means = _window_means(t, rss, window)
    after = f"after {warmup:.1f} s warm-up" if warmup > 0 else "from the start"
    span = float(t[-1] - t[0]) if t.size else 0.0
    if tw.size < MIN_SLOPE_WINDOWS:
        raw = slope_interval(t, rss, c)
        iv = Interval(raw.value, -math.inf, math.inf, c, int(t.size), raw.method)
        return iv, (
            f"rss growth unknown: {span:.1f} s of samples {after} give {tw.size} window(s) of "
            f"{window:g} s; a slope needs at least {MIN_SLOPE_WINDOWS}"
        )
    if tw.size < RAW_SLOPE_BELOW_WINDOWS:
        iv, basis = slope_interval(t, rss, c), f"{t.size} raw samples (run too short for means)"
    else:
        iv, basis = slope_interval(tw, means, c), f"{tw.size} window means of {window:g} s"
    return iv, (
        f"rss grows {_rate(iv.value)} ({c * 100:g}% bounds {_rate(iv.low)}..{_rate(iv.high)}) "
        f"over {span:.0f} s {after}, fitted to {basis}"
    )


def _rate(value: float) -> str:
    return format_quantity(value, Dimension.BYTE_RATE)
