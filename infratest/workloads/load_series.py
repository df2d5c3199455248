"""What reports plot and tables show of a load run: one row per measured second, the
request counts by outcome, and the kinds of failure with examples."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from infratest.workloads.load_record import LoadRecord
from infratest.workloads.saturation import lag_share

SERIES_PERCENTILES = (0.50, 0.95, 0.99)


def weighted_quantiles(values: np.ndarray, counts: np.ndarray, qs: Sequence[float]) -> list:
    """Nearest-rank quantiles of a histogram (values ascending)."""
    cumulative = np.cumsum(counts)
    total = cumulative[-1]
    return [float(values[np.searchsorted(cumulative, q * total, side="left")]) for q in qs]


def per_second_rows(record: LoadRecord) -> list[dict[str, Any]]:
    """One row per measured second with data: users, requests, errors and percentiles of
    every request that started in it (`t` is seconds since the run started)."""
    ok, failed = record.outcomes.ok, record.outcomes.failed
    rows = []
    for window, values, counts in record.everything.per_window():
        t = int(np.floor(record.measure_start_s + window))
        p50, p95, p99 = weighted_quantiles(values, counts, SERIES_PERCENTILES)
        rows.append(
            {
                "t": t,
                "users": record.users_at.get(t, 0),
                "requests": int(ok.get(window, 0) + failed.get(window, 0)),
                "errors": int(failed.get(window, 0)),
                "p50": p50,
                "p95": p95,
                "p99": p99,
            }
        )
    return rows


def error_kinds(record: LoadRecord) -> list[dict[str, Any]]:
    """Failure kinds, most frequent first, with up to three example messages each."""
    examples = record.final.examples if record.final is not None else {}
    kinds = sorted(record.outcomes.kinds.items(), key=lambda kv: -kv[1])
    return [{"key": k, "count": n, "examples": list(examples.get(k, []))} for k, n in kinds]


def load_series(record: LoadRecord) -> dict[str, Any]:
    """The results file's `series.load` block (with `arrivals` in rate mode)."""
    series = {
        "per_second": per_second_rows(record),
        "requests": record.counts().to_dict(),
        "error_kinds": error_kinds(record),
        "by_name": dict(record.outcomes.names),
        "started_at": record.started_at,
        "measure_start": record.measure_start_s,
        "measure_end": record.measure_end_s,
        "warmup_requests": record.warmup_requests,
        "lag_late_share": round(lag_share(record.lag_s), 4),
    }
    arrivals = record.arrival_summary()
    if arrivals is not None:
        series["arrivals"] = arrivals.to_dict()
    return series
