"""Every load metric with its interval, from a :class:`LoadRecord` — at the end of a run, and
at every look while it runs (the same function, so a live decision and the final verdict
are made from the same kind of interval).

`latency_of: all` (the default) counts every request sent in the measured window: a failure
at its time to fail, and a request without an answer (in flight, or given up on at the end)
as *at least* its elapsed time and at most the timeout. `successful` counts answered
successes only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np

from infratest.stats import Interval, exact
from infratest.windows import Censored, proportion_over_windows, rate_over_windows
from infratest.workloads.load_record import LoadRecord

PERCENTILES = {"p50": 0.50, "p90": 0.90, "p95": 0.95, "p99": 0.99, "p999": 0.999}
LOAD_METRICS = (
    *(f"latency.{p}" for p in PERCENTILES),
    "latency.max",
    "latency.mean",
    "throughput",
    "errors.rate",
    "errors.count",
    "requests",
)
NO_CENSORING = Censored(np.empty(0, dtype=np.int64), np.empty(0), math.inf)

Figure = Callable[[LoadRecord, str, float], Interval]


def _population(record: LoadRecord, latency_of: str) -> tuple:
    if latency_of == "successful":
        return record.successful, NO_CENSORING
    return record.everything, record.censored()


def _percentile(q: float) -> Figure:
    def figure(record: LoadRecord, latency_of: str, confidence: float) -> Interval:
        windows, censored = _population(record, latency_of)
        return windows.quantile(q, confidence, censored)

    return figure


def _max(record: LoadRecord, latency_of: str, confidence: float) -> Interval:
    windows, censored = _population(record, latency_of)
    return windows.max(confidence, censored)


def _mean(record: LoadRecord, latency_of: str, confidence: float) -> Interval:
    windows, censored = _population(record, latency_of)
    return windows.mean(confidence, censored)


def _throughput(record: LoadRecord, latency_of: str, confidence: float) -> Interval:
    """Successful requests per second over the whole seconds measured (by start second)."""
    ok, _ = record.outcomes.per_window(record.complete_windows)
    return rate_over_windows(ok, confidence)


def _window_count(record: LoadRecord, censored: Censored) -> int:
    seen = [*record.outcomes.ok, *record.outcomes.failed, *censored.windows.tolist(), -1]
    return max(math.ceil(record.measured_seconds), max(seen) + 1, 0)


def _errors_rate(record: LoadRecord, latency_of: str, confidence: float) -> Interval:
    """Failed ÷ sent. A request without an answer counts as a failure for the upper end and
    as a success for the lower end: it could still go either way."""
    censored = record.censored()
    windows = _window_count(record, censored)
    ok, failed = record.outcomes.per_window(windows)
    unanswered = np.bincount(censored.windows[censored.windows >= 0], minlength=windows)[:windows]
    known = proportion_over_windows(ok + failed, failed, confidence)
    if not unanswered.any():
        return known
    worst = proportion_over_windows(ok + failed + unanswered, failed + unanswered, confidence)
    best = proportion_over_windows(ok + failed + unanswered, failed, confidence)
    return Interval(
        known.value, best.low, worst.high, confidence, worst.n, known.method, worst.effective_n
    )


def _unanswered(record: LoadRecord) -> int:
    return int(record.censored().windows.size)


def _errors_count(record: LoadRecord, latency_of: str, confidence: float) -> Interval:
    failed, unanswered = record.outcomes.total_failed, _unanswered(record)
    sent = failed + record.outcomes.total_ok + unanswered
    if not unanswered:
        return exact(failed, confidence, sent)
    return Interval(float(failed), float(failed), float(failed + unanswered), confidence, sent,
                    "count-with-unanswered")


def _requests(record: LoadRecord, latency_of: str, confidence: float) -> Interval:
    sent = record.outcomes.total_ok + record.outcomes.total_failed + _unanswered(record)
    return exact(sent, confidence, sent)


FIGURES: dict[str, Figure] = {
    **{f"latency.{name}": _percentile(q) for name, q in PERCENTILES.items()},
    "latency.max": _max,
    "latency.mean": _mean,
    "throughput": _throughput,
    "errors.rate": _errors_rate,
    "errors.count": _errors_count,
    "requests": _requests,
}


def load_intervals(
    record: LoadRecord, confidence: float, latency_of: str, metrics: Iterable[str] | None = None
) -> dict[str, Interval]:
    """The named load metrics (all of them by default) as they stand in `record`."""
    names = LOAD_METRICS if metrics is None else [m for m in metrics if m in FIGURES]
    return {name: FIGURES[name](record, latency_of, confidence) for name in names}
