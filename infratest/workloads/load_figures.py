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
from dataclasses import dataclass

import numpy as np

from infratest.stats import Interval, exact
from infratest.windows import (
    Censored,
    proportion_once_over_windows,
    proportion_over_windows,
    rate_over_windows,
)
from infratest.workloads.load_record import TTFT_ALL, LoadRecord

PERCENTILES = {"p50": 0.50, "p90": 0.90, "p95": 0.95, "p99": 0.99, "p999": 0.999}
LOAD_METRICS = (
    *(f"latency.{p}" for p in PERCENTILES),
    "latency.max",
    "latency.mean",
    "throughput",
    "errors.rate",
    "errors.count",
    "requests",
    "requests.rate",
)
# An llm load's own figures (TTFT and ITL over successful answers; e2e is the load's latency).
LLM_PERCENTILES = {"p50": 0.50, "p95": 0.95, "p99": 0.99}
LLM_METRICS = (
    *(f"llm.{kind}.{p}" for kind in ("ttft", "itl", "e2e") for p in LLM_PERCENTILES),
    "llm.output_tokens.rate",
    "llm.goodput",
)
STREAM_ONLY_METRICS = tuple(m for m in LLM_METRICS if m.startswith(("llm.ttft.", "llm.itl.")))


def llm_metrics(kind: str | None) -> tuple[str, ...]:
    """An llm load's own metrics: none for another load, no TTFT or ITL unless streamed."""
    if kind is None:
        return ()
    return (
        LLM_METRICS
        if kind == "stream"
        else tuple(m for m in LLM_METRICS if m not in STREAM_ONLY_METRICS)
    )


# Open model only: how late the arrival scheduler sent what it had a slot for.
ARRIVAL_LAG_METRICS = ("arrival.lag.p50", "arrival.lag.p99", "arrival.lag.max")
NO_CENSORING = Censored(np.empty(0, dtype=np.int64), np.empty(0), math.inf)


@dataclass(frozen=True)
class Reading:
    """How to read the record: at what confidence, which requests' latency, and whether
    cautiously (for decisions while the load runs: the design effect's upper bound)."""

    confidence: float
    latency_of: str = "all"
    cautious: bool = False
    once: bool = False  # decided once at the end, never watched (a compare): fixed-sample width


Figure = Callable[[LoadRecord, Reading], Interval]


def _population(record: LoadRecord, latency_of: str) -> tuple:
    if latency_of == "successful":
        return record.successful, NO_CENSORING
    return record.everything, record.censored()


def _percentile(q: float) -> Figure:
    def figure(record: LoadRecord, how: Reading) -> Interval:
        windows, censored = _population(record, how.latency_of)
        return windows.quantile(q, how.confidence, censored, how.cautious)

    return figure


def _max(record: LoadRecord, how: Reading) -> Interval:
    windows, censored = _population(record, how.latency_of)
    return windows.max(how.confidence, censored)


def _mean(record: LoadRecord, how: Reading) -> Interval:
    windows, censored = _population(record, how.latency_of)
    return windows.mean(how.confidence, censored)


def _throughput(record: LoadRecord, how: Reading) -> Interval:
    """Successful requests per second over the whole seconds measured (by start second)."""
    ok, _ = record.outcomes.per_window(record.complete_windows)
    return rate_over_windows(ok, how.confidence)


def _window_count(record: LoadRecord, censored: Censored) -> int:
    seen = [*record.outcomes.ok, *record.outcomes.failed, *censored.windows.tolist(), -1]
    return max(math.ceil(record.measured_seconds), max(seen) + 1, 0)


def _errors_rate(record: LoadRecord, how: Reading) -> Interval:
    """Failed ÷ sent. A request without an answer counts as a failure for the upper end and
    as a success for the lower end: it could still go either way.

    The correlation of failures (the design effect) is read from the answered requests
    only. Requests still in flight at a look sit in its last second by construction; taken
    as failures they looked like one burst to the design effect (D of several hundred over
    five windows at 30 streamed answers a second), and no error check could pass while
    answers took longer than a few milliseconds. Their count still widens the upper end."""
    censored = record.censored()
    windows = _window_count(record, censored)
    ok, failed = record.outcomes.per_window(windows)
    unanswered = np.bincount(censored.windows[censored.windows >= 0], minlength=windows)[:windows]
    answered = (ok + failed, failed)

    def share(trials: np.ndarray, events: np.ndarray) -> Interval:
        if how.once:
            return proportion_once_over_windows(trials, events, how.confidence, answered)
        return proportion_over_windows(trials, events, how.confidence, how.cautious, answered)

    known = share(*answered)
    if not unanswered.any():
        return known
    worst = share(ok + failed + unanswered, failed + unanswered)
    best = share(ok + failed + unanswered, failed)
    c = how.confidence
    return Interval(known.value, best.low, worst.high, c, worst.n, known.method, worst.effective_n)


def _errors_count(record: LoadRecord, how: Reading) -> Interval:
    counts = record.counts()
    if not counts.unanswered:
        return exact(counts.failed, how.confidence, counts.sent)
    high = float(counts.failed + counts.unanswered)
    low = float(counts.failed)
    return Interval(low, low, high, how.confidence, counts.sent, "count-unanswered")


def _requests(record: LoadRecord, how: Reading) -> Interval:
    sent = record.counts().sent
    return exact(sent, how.confidence, sent)


def _requests_rate(record: LoadRecord, how: Reading) -> Interval:
    """Requests actually sent per second over the whole seconds measured: the scheduler's
    own count in rate mode (by scheduled second), else every request that got an outcome."""
    windows = record.complete_windows
    if record.arrivals.seen:
        return rate_over_windows(record.arrivals.sent_per_window(windows), how.confidence)
    ok, failed = record.outcomes.per_window(windows)
    return rate_over_windows(ok + failed, how.confidence)


def _llm_percentile(extra: str, q: float) -> Figure:
    def figure(record: LoadRecord, how: Reading) -> Interval:
        every = extra == "llm.ttft" and how.latency_of == "all"  # failed requests count too
        windows = record.llm.latencies(TTFT_ALL if every else extra)
        return windows.quantile(q, how.confidence, NO_CENSORING, how.cautious)

    return figure


def _llm_rate(count: str) -> Figure:
    """A per-window count (tokens, answers meeting the SLO) per second, by start second."""

    def figure(record: LoadRecord, how: Reading) -> Interval:
        per = record.llm.per_window(count, record.complete_windows)
        return rate_over_windows(per, how.confidence)

    return figure


def _lag(read: Callable[[LoadRecord], float | None]) -> Figure:
    def figure(record: LoadRecord, how: Reading) -> Interval:
        value = read(record)
        sent = sum(record.arrivals.sent.values())
        return exact(math.nan if value is None else value, how.confidence, sent)

    return figure


FIGURES: dict[str, Figure] = {
    **{f"latency.{name}": _percentile(q) for name, q in PERCENTILES.items()},
    "latency.max": _max,
    "latency.mean": _mean,
    "throughput": _throughput,
    "errors.rate": _errors_rate,
    "errors.count": _errors_count,
    "requests": _requests,
    "requests.rate": _requests_rate,
    **{f"llm.ttft.{n}": _llm_percentile("llm.ttft", q) for n, q in LLM_PERCENTILES.items()},
    **{f"llm.itl.{n}": _llm_percentile("llm.itl", q) for n, q in LLM_PERCENTILES.items()},
    **{f"llm.e2e.{n}": _percentile(q) for n, q in LLM_PERCENTILES.items()},
    "llm.output_tokens.rate": _llm_rate("llm.tokens"),
    "llm.goodput": _llm_rate("llm.good"),
    "arrival.lag.p50": _lag(lambda r: r.arrivals.lag_quantile(0.50)),
    "arrival.lag.p99": _lag(lambda r: r.arrivals.lag_quantile(0.99)),
    "arrival.lag.max": _lag(lambda r: r.arrivals.lag_max()),
}


def load_intervals(
    record: LoadRecord, how: Reading, metrics: Iterable[str] | None = None
) -> dict[str, Interval]:
    """The named load metrics (all of them by default; the arrival lags in rate mode) as they
    stand in `record`."""
    every = LOAD_METRICS + (ARRIVAL_LAG_METRICS if record.schedule is not None else ())
    every += llm_metrics(record.llm_load)
    names = every if metrics is None else [m for m in metrics if m in FIGURES]
    return {name: FIGURES[name](record, how) for name in names}
