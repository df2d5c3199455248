"""Probes beside a workload: start a psutil sampler on the selected process (or only the
host) before the workload, and turn what it saw into process.* and host.* metrics after."""

from __future__ import annotations

import time
from dataclasses import dataclass

from infratest.measurements import Measurements
from infratest.probes import ProbeSampler, probe_measurements, resolve_process
from infratest.spec.scenario import Assumption
from infratest.targets import Target


@dataclass
class Observation:
    """A running probe and the wall-clock moment it started (to align it with the load)."""

    sampler: ProbeSampler
    started_epoch: float

    def finish(
        self, assumption: Assumption, found: Measurements, confidence: float
    ) -> Measurements:
        """Stop sampling and compute the probe metrics, skipping the load's warm-up."""
        series = self.sampler.stop()
        probe = assumption.probe
        warmup = max(probe.warmup if probe else 0.0, self._load_window(found)[0])
        end = self._load_window(found)[1]
        throughput = found.values.get("throughput")
        window = series.until(end) if end is not None else series
        measured = probe_measurements(window, confidence, warmup, throughput)
        measured.series["probe"] = series.to_json()  # plots show the whole run
        measured.series["probe"]["started_at"] = self.started_epoch
        measured.series["probe"]["warmup_s"] = warmup
        if series.process_gone_at is not None:
            measured.notes.append(f"the probed process was gone at {series.process_gone_at:.1f} s")
        return measured

    def _load_window(self, found: Measurements) -> tuple[float, float | None]:
        """The load's measured window on the probe's clock: generator start-up, ramp and
        warm-up are when memory settles, and after the load its threads exit — neither is
        when a leak shows."""
        load = found.series.get("load")
        if not load or load.get("started_at") is None:
            return 0.0, None
        offset = load["started_at"] - self.started_epoch
        return max(0.0, offset + load["measure_start"]), offset + load["measure_end"]


def start_observation(assumption: Assumption, target: Target | None) -> Observation | None:
    """Begin probing as the assumption asks; None when it has no probe."""
    probe = assumption.probe
    if probe is None or not probe.enabled:
        return None
    target_pid = target.process.pid if target is not None and target.process else None
    process = resolve_process(probe, target_pid)
    sampler = ProbeSampler(process, probe.interval)
    started = time.time()
    sampler.start()
    return Observation(sampler, started)
