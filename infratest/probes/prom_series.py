"""Readings of a Prometheus probe (scraped or queried) as a ProbeSeries, so the growth
slopes, peaks and means are computed exactly as for psutil's readings."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from infratest.probes.sampler import ProbeSeries
from infratest.spec.prom_names import BASES

_PROCESS_COLUMNS = ("rss", "cpu", "threads", "fds")


def counter_rate(t: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per-second increase between neighbouring samples (NaN for the first); a drop is a
    counter reset, counted like Prometheus's rate() does: as an increase from zero."""
    rate = np.full(values.shape, math.nan)
    if values.size < 2:
        return rate
    rise = np.diff(values)
    rise = np.where(rise < 0, values[1:], rise)
    dt = np.diff(t)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate[1:] = np.where(dt > 0, rise / dt, math.nan)
    return rate


def build_series(
    t: np.ndarray,
    readings: Mapping[str, np.ndarray],
    counters: set[str],
    source: str,
    notes: list[str],
) -> ProbeSeries:
    """A ProbeSeries from one value column per series (process.rss, ...), with counters
    (process_cpu_seconds_total) turned into rates; unread columns are NaN."""
    t = np.asarray(t, dtype=float)
    blank = np.full(t.shape, math.nan)
    columns: dict[str, np.ndarray] = {}
    for base, values in readings.items():
        values = np.asarray(values, dtype=float)
        columns[BASES[base]] = counter_rate(t, values) if base in counters else values
    extra = {k: v for k, v in columns.items() if k not in _PROCESS_COLUMNS}
    return ProbeSeries(
        t,
        *(columns.get(name, blank.copy()) for name in _PROCESS_COLUMNS),
        host_available=blank.copy(),
        host_cpu=blank.copy(),
        notes=list(notes),
        source=source,
        extra=extra,
    )
