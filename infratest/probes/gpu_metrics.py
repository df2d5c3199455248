"""What a GPU probe saw (per device, per tick) and the gpu.* metrics computed from it.

Pure logic: the NVML sampler (:mod:`infratest.probes.gpu_sampler`) fills a GpuSeries; tests
build one by hand. Several devices count as one pool: memory and power are summed over the
devices at each tick (the peak is the peak of that sum), utilisation is their mean.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from infratest.measurements import Measurements
from infratest.probes.metrics import _window, _window_means
from infratest.stats import exact, mean_interval

_COLUMNS = ("memory", "utilization", "power")


@dataclass
class GpuSeries:
    """One row per tick, one column per device; NaN where NVML gave no reading (not
    supported, or that tick failed). Times are seconds from the probe's start."""

    t: np.ndarray  # (n,)
    devices: tuple[str, ...]  # "0: NVIDIA A100-SXM4-40GB"
    memory: np.ndarray  # (n, d) bytes in use
    utilization: np.ndarray  # (n, d) 0..1 of the time a kernel ran
    power: np.ndarray  # (n, d) watts
    processes: dict[tuple[int, int], int] = field(default_factory=dict)  # (device, pid) -> peak
    notes: list[str] = field(default_factory=list)

    def until(self, t_end: float) -> GpuSeries:
        """The samples up to ``t_end`` (the end of the load's measured window)."""
        keep = self.t <= t_end
        rows = {name: getattr(self, name)[keep] for name in _COLUMNS}
        return replace(self, t=self.t[keep], **rows)

    def totals(self) -> dict[str, np.ndarray]:
        """Per tick: memory and power summed over devices, utilisation averaged; NaN where
        no device had a reading."""
        return {
            "memory": _across(self.memory, np.nansum),
            "utilization": _across(self.utilization, np.nanmean),
            "power": _across(self.power, np.nansum),
        }

    def to_json(self) -> dict[str, Any]:
        """The results file's ``gpu`` series: totals, each device, and per-process peaks."""
        totals = self.totals()
        return {
            "t": _json(self.t, 3),
            "devices": list(self.devices),
            "memory_used": _json(totals["memory"], None),
            "utilization": _json(totals["utilization"], 4),
            "power": _json(totals["power"], 2),
            "per_device": [
                {
                    "device": name,
                    "memory_used": _json(self.memory[:, i], None),
                    "utilization": _json(self.utilization[:, i], 4),
                    "power": _json(self.power[:, i], 2),
                }
                for i, name in enumerate(self.devices)
            ],
            "processes": [
                {"device": self.devices[d], "pid": pid, "memory_used_peak": peak}
                for (d, pid), peak in sorted(self.processes.items())
            ],
        }


def _across(values: np.ndarray, reduce: Any) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:  # one device
        values = values[:, None]
    seen = np.isfinite(values).any(axis=1)
    out = np.full(values.shape[0], math.nan)
    if seen.any():
        out[seen] = reduce(values[seen], axis=1)
    return out


def _json(values: np.ndarray, digits: int | None) -> list[Any]:
    return [
        None if not math.isfinite(v) else round(v) if digits is None else round(v, digits)
        for v in np.asarray(values, dtype=float).tolist()
    ]


def gpu_measurements(series: GpuSeries, confidence: float, warmup: float = 0.0) -> Measurements:
    """gpu.memory.used.peak over the whole run; gpu.utilization.mean and gpu.power.mean
    over the samples after ``warmup``, as intervals of ~1 s window means."""
    out = Measurements(series={"gpu": series.to_json()}, notes=list(series.notes))
    if series.t.size == 0:
        out.notes.append("gpu probe took no samples")
        return out
    totals = series.totals()
    memory = totals["memory"][np.isfinite(totals["memory"])]
    if memory.size:
        out.add("gpu.memory.used.peak", exact(float(memory.max()), confidence, memory.size))
    else:
        out.notes.append("gpu.memory.used.peak: NVML gave no memory reading")
    steady = series.t >= warmup
    window = _window(series.t)
    for metric, column in (
        ("gpu.utilization.mean", totals["utilization"]),
        ("gpu.power.mean", totals["power"]),
    ):
        _, means = _window_means(series.t[steady], column[steady], window)
        if means.size:
            out.add(metric, mean_interval(means, confidence))
        else:
            out.notes.append(f"{metric}: NVML gave no reading after the warm-up")
    return out
