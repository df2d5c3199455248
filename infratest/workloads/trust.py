"""Whether the generator applied the load its checks are about: not saturated (one process,
or every worker and the master of a distributed run), no worker lost, and in rate mode the
schedule kept. The same rule at every look and at the end."""

from __future__ import annotations

from dataclasses import dataclass

from infratest.workloads.load_record import LoadRecord
from infratest.workloads.saturation import saturation_reason, schedule_reason
from infratest.workloads.worker_health import fleet_untrusted_reason


@dataclass(frozen=True)
class Distrust:
    """Why latency and throughput figures cannot pass, and whether a failing one still fails:
    it does when the target itself held the load back (every `max_in_flight` slot busy while
    the scheduler kept time), since the figures then understate what the full load would
    see; it does not when the generator was the bottleneck."""

    reason: str
    fails_stand: bool = False


def distrust(record: LoadRecord, cpu_peak: float, max_lag_s: float) -> Distrust | None:
    """The run's distrust, or None. `cpu_peak` is the single process's, or the master's in
    a distributed run (workers report their own)."""
    if record.workers:
        generator = fleet_untrusted_reason(record, cpu_peak)
    else:
        generator = saturation_reason(cpu_peak, record.lag_s)
    if generator is not None:
        return Distrust(generator)
    arrivals = record.arrival_summary()
    reason = schedule_reason(arrivals, max_lag_s)
    if reason is None or arrivals is None:
        return None
    kept_time = arrivals.lag_p99_s is None or arrivals.lag_p99_s <= max_lag_s
    return Distrust(reason, fails_stand=arrivals.capped > 0 and kept_time)


def untrusted_reason(record: LoadRecord, cpu_peak: float, max_lag_s: float) -> str | None:
    """Why latency and throughput figures cannot be trusted, or None."""
    found = distrust(record, cpu_peak, max_lag_s)
    return found.reason if found is not None else None
