"""Whether the generator applied the load its checks are about: not saturated (one process,
or every worker and the master of a distributed run), no worker lost, and in rate mode the
schedule kept. The same rule at every look and at the end."""

from __future__ import annotations

from infratest.workloads.load_record import LoadRecord
from infratest.workloads.saturation import saturation_reason, schedule_reason
from infratest.workloads.worker_health import fleet_untrusted_reason


def untrusted_reason(record: LoadRecord, cpu_peak: float, max_lag_s: float) -> str | None:
    """Why latency and throughput figures cannot be trusted, or None. `cpu_peak` is the
    single process's, or the master's in a distributed run (workers report their own)."""
    if record.workers:
        reason = fleet_untrusted_reason(record, cpu_peak)
    else:
        reason = saturation_reason(cpu_peak, record.lag_s)
    return reason or schedule_reason(record.arrival_summary(), max_lag_s)
