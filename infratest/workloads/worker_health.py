"""Whether every worker of a distributed run could be trusted: one saturated or lost worker
makes the merged latency and throughput untrustworthy, and is named."""

from __future__ import annotations

from typing import Any

from infratest.workloads.load_record import LoadRecord
from infratest.workloads.saturation import lag_share, saturation_reason


def fleet_untrusted_reason(record: LoadRecord, master_cpu_peak: float) -> str | None:
    """Why the merged figures cannot be trusted (naming the workers), or None."""
    reasons = []
    for view in record.workers.by_name.values():
        if view.lost is not None:
            reasons.append(
                f"worker {view.name} was lost mid-run ({view.lost}): its share of the load "
                "was not offered for the whole run"
            )
            continue
        saturated = saturation_reason(view.cpu_peak, view.lag_s)
        if saturated is not None:
            reasons.append(f"worker {view.name}: {saturated}")
    master = saturation_reason(master_cpu_peak, [])
    if master is not None:
        reasons.append(f"the Locust master: {master}")
    return "; ".join(reasons) or None


def worker_rows(record: LoadRecord) -> list[dict[str, Any]]:
    """The results file's `series.load.workers`: what each worker did."""
    return [
        {
            "worker": v.name,
            "requests": v.requests,
            "cpu_peak": round(v.cpu_peak, 3),
            "lag_late_share": round(lag_share(v.lag_s), 4),
            "lost": v.lost,
            "ended": v.final.reason if v.final is not None else None,
        }
        for v in sorted(record.workers.by_name.values(), key=lambda v: v.name)
    ]
