"""Probes beside a workload: start a psutil sampler on the selected process (or only the
host), a Prometheus scrape or query, or an NVML sampler of this machine's GPUs, before the
workload, and turn what it saw into process.*, host.* and gpu.* metrics after."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from infratest.hosts import check_allowed
from infratest.measurements import MeasurementError, Measurements
from infratest.probes import ProbeSampler, ProbeSeries, probe_measurements, resolve_process
from infratest.probes.gpu_metrics import GpuSeries, gpu_measurements
from infratest.probes.gpu_sampler import GpuSampler
from infratest.probes.prom_query import QuerySampler
from infratest.probes.prom_scrape import ScrapeSampler
from infratest.spec.prom_checks import scrape_plan
from infratest.spec.resource_sections import ProbeSpec
from infratest.spec.scenario import Assumption
from infratest.targets import Target


@dataclass
class Observation:
    """A running probe and the wall-clock moment it started (to align it with the load)."""

    sampler: ProbeSampler | ScrapeSampler | QuerySampler | GpuSampler
    started_epoch: float

    def abandon(self) -> None:
        """Stop probing after a failed workload; a query probe does not query any more."""
        if isinstance(self.sampler, QuerySampler):
            self.sampler.abandon()
        else:
            self.sampler.stop()

    def finish(
        self, assumption: Assumption, found: Measurements, confidence: float
    ) -> Measurements:
        """Stop sampling and compute the probe metrics, skipping the load's warm-up."""
        series = self.sampler.stop()
        probe = assumption.probe
        start, end = self._load_window(found)
        warmup = max(probe.warmup if probe else 0.0, start)
        if isinstance(series, GpuSeries):
            measured = gpu_measurements(
                series.until(end) if end is not None else series, confidence, warmup
            )
            measured.series["gpu"] = {**series.to_json(), "started_at": self.started_epoch}
            return measured
        throughput = found.values.get("throughput")
        window = series.until(end) if end is not None else series
        measured = probe_measurements(window, confidence, warmup, throughput)
        measured.series["probe"] = series.to_json()  # plots show the whole run
        measured.series["probe"]["started_at"] = self.started_epoch
        self._per_step(found, series)
        measured.series["probe"]["warmup_s"] = warmup
        if series.process_gone_at is not None:
            measured.notes.append(f"the probed process was gone at {series.process_gone_at:.1f} s")
        return measured

    def _per_step(self, found: Measurements, series: ProbeSeries) -> None:
        """Sweep and capacity steps get the probe's figures over their own windows."""
        for key in ("sweep", "capacity"):
            for row in found.series.get(key, {}).get("steps", []):
                if row.get("window"):
                    row.update(
                        step_figures(series, *(w - self.started_epoch for w in row["window"]))
                    )

    def _load_window(self, found: Measurements) -> tuple[float, float | None]:
        """The load's measured window on the probe's clock: generator start-up, ramp and
        warm-up are when memory settles, and after the load its threads exit — neither is
        when a leak shows."""
        load = found.series.get("load")
        if not load or load.get("started_at") is None:
            return 0.0, None
        offset = load["started_at"] - self.started_epoch
        return max(0.0, offset + load["measure_start"]), offset + load["measure_end"]


def _finite_or_none(values: np.ndarray, reduce: Callable[[np.ndarray], float]) -> float | None:
    finite = values[np.isfinite(values)]
    return float(reduce(finite)) if finite.size else None


def step_figures(series: ProbeSeries, start: float, end: float) -> dict[str, float | None]:
    """Peak RSS and mean CPU of the probed process, and host CPU, over one step's window."""
    inside = (series.t >= start) & (series.t <= end)
    return {
        "process_rss_peak": _finite_or_none(series.rss[inside], np.max),
        "process_cpu_mean": _finite_or_none(series.cpu[inside], np.mean),
        "host_cpu_mean": _finite_or_none(series.host_cpu[inside], np.mean),
    }


def start_observation(
    assumption: Assumption, target: Target | None, allow_hosts: Sequence[str] = ()
) -> Observation | None:
    """Begin probing as the assumption asks; None when it has no probe."""
    probe = assumption.probe
    if probe is None or not probe.enabled:
        return None
    if probe.prometheus is not None:
        return _start_prometheus(assumption, probe, target, allow_hosts)
    if probe.gpu is not None:
        started = time.time()
        return Observation(GpuSampler(probe.gpu, probe.interval).start(), started)
    target_pid = target.process.pid if target is not None and target.process else None
    process = resolve_process(probe, target_pid)
    sampler = ProbeSampler(process, probe.interval)
    started = time.time()
    sampler.start()
    return Observation(sampler, started)


def prometheus_url(probe: ProbeSpec, target: Target | None, allow_hosts: Sequence[str]) -> str:
    """The endpoint (or server) a Prometheus probe reads: a path on the target, or a URL
    on an allowed host."""
    assert probe.prometheus is not None
    if not probe.on_target:
        check_allowed(probe.prometheus, allow_hosts)
        return probe.prometheus
    if target is None:
        raise MeasurementError(f"probe: prometheus {probe.prometheus} needs the scenario's target")
    return target.url.rstrip("/") + probe.prometheus


def _start_prometheus(
    assumption: Assumption, probe: ProbeSpec, target: Target | None, allow_hosts: Sequence[str]
) -> Observation:
    url = prometheus_url(probe, target, allow_hosts)
    started = time.time()
    if probe.query is not None:
        return Observation(QuerySampler(url, probe.query, probe.interval).start(started), started)
    wanted, required = scrape_plan(probe, assumption.expect)
    return Observation(ScrapeSampler(url, wanted, required, probe.interval).start(), started)
