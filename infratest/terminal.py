"""What people read in the terminal: the failure table, the live progress line, the summary."""

from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING, Any

from infratest.results.failure_kinds import failure_kinds
from infratest.results.view import request_counts_text, stopping_text
from infratest.units import format_change, format_quantity
from infratest.verdict import Check, Verdict, describe_change, describe_interval

if TYPE_CHECKING:
    from infratest.execution import AssumptionResult
    from infratest.workloads.live import LiveStatus


def _figure(check: Check, value: float) -> str:
    """A value in the metric's units, or a signed change ('+16%', '+4.1ms', '+1.9pp')."""
    change = check.condition.change
    if change is not None:
        return format_change(value, change, check.dimension)
    return format_quantity(value, check.dimension)


def _measured(check: Check) -> tuple[str, str]:
    if check.interval is None or math.isnan(check.interval.value):
        return "n/a", ""
    value = _figure(check, check.interval.value)
    if check.interval.method == "exact":
        return value, "exact"
    return value, f"{_figure(check, check.interval.low)}..{_figure(check, check.interval.high)}"


def _baseline(check: Check) -> str:
    """'24.1ms' for a change (the baseline's value it is taken from), '' otherwise."""
    if check.condition.change is None or check.baseline is None:
        return ""
    return format_quantity(check.baseline, check.dimension)


def check_summary(check: Check) -> str:
    """'pass: 41.2ms (95% CI 39.8ms..43.1ms) < 200ms' — one check on one line; a change reads
    'fail: +16% (95% CI +12%..+23.9%) vs baseline 24.1ms <= +10%'."""
    if check.interval is None:
        return f"{check.verdict.value}: n/a {check.condition_text}"
    change, baseline = check.condition.change, _baseline(check)
    if change is None:
        shown = describe_interval(check.interval, check.dimension)
    else:
        shown = describe_change(check.interval, change, check.dimension)
    shown += f" vs baseline {baseline}" if baseline else ""
    return f"{check.verdict.value}: {shown} {check.condition_text}"


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def failure_table(result: AssumptionResult) -> str:
    """The report of an assumption that did not pass: every check, the reason, and notes."""
    assumption, outcome = result.assumption, result.outcome
    confidence = f"{result.scenario.confidence:.0%} CI"
    header = (
        f"{assumption.name} ({result.scenario.path}:{assumption.line}): "
        f"{outcome.verdict.value.upper()}"
    )
    rows = [["metric", "condition", "measured", confidence, "baseline", "verdict"]]
    for check in outcome.checks:
        value, interval = _measured(check)
        cells = [check.condition_text, value, interval, _baseline(check), check.verdict.value]
        rows.append([check.metric, *cells])
    if not any(row[4] for row in rows[1:]):
        rows = [row[:4] + row[5:] for row in rows]  # no changes: no baseline column
    lines = [header, *_table(rows), f"reason: {outcome.reason}"]
    entry = result.to_dict()
    counts = request_counts_text(entry)
    if counts:
        lines.append(f"requests: {counts}")
    stopping = stopping_text(entry)
    if stopping:
        lines.append(f"stopped: {stopping}")
    lines += [f"failures: {kind.line()}" for kind in failure_kinds(entry)]
    lines += [f"note: {note}" for note in result.measurements.notes]
    return "\n".join(lines)


def _summary_figure(check: Check) -> str:
    """'latency.p95 41.2ms', or 'latency.p95 +16% vs baseline 24.1ms' for a change."""
    baseline = _baseline(check)
    shown = f"{check.metric} {_measured(check)[0]}"
    return f"{shown} vs baseline {baseline}" if baseline else shown


def summary_line(result: AssumptionResult) -> str:
    """One line per assumption for the end-of-run summary."""
    verdict = result.outcome.verdict
    figures = "; ".join(_summary_figure(c) for c in result.outcome.checks)
    if verdict == Verdict.ERROR:
        figures = result.outcome.reason
    stopping = result.measurements.stopping
    early = ""
    if stopping is not None and stopping.stopped in ("decided", "failed"):
        early = f", stopped early: {stopping.stopped}, {stopping.saved_s:.0f} s saved"
    return f"{verdict.value.upper():<12} {result.id}  ({result.duration_s:.1f} s{early})  {figures}"


def saved_seconds(results: list[AssumptionResult]) -> float:
    """Measured seconds all monitored runs did not need to spend."""
    return sum(r.measurements.stopping.saved_s for r in results if r.measurements.stopping)


class ProgressLine:
    """A live status line while load runs: elapsed/total, users, req/s, errors, and each
    check's running interval and verdict so far.

    Updates arrive from the load runner's reader thread. The line opens below pytest's own
    line and is redrawn in place, so it is shown on terminals only (in CI logs it would
    interleave with pytest's output); when the load ends its last state stays as a record and
    pytest's line resumes under it with `resume` (the file's name).
    """

    def __init__(
        self, write: Any, label: str, total_s: float, resume: str = "", width: int = 160
    ) -> None:
        self.write, self.label, self.total_s, self.resume = write, label, total_s, resume
        self.width = width
        self.lock = threading.Lock()
        self.shown = False

    def __call__(self, status: LiveStatus) -> None:
        checks = "; ".join(f"{c.metric} {c.measured} {c.verdict.value}" for c in status.checks)
        text = (
            f"{self.label}: {status.t:.0f}/{self.total_s:.0f} s, {status.users} users, "
            f"{status.rps:.0f} req/s, {status.errors} errors"
        )
        if checks:
            text += f" | {checks}"
        if len(text) > self.width:
            text = text[: self.width - 1] + "…"
        with self.lock:
            self.write(f"\r\x1b[2K{text}" if self.shown else f"\n{text}")
            self.shown = True

    def clear(self) -> None:
        """End the live line; pytest's status line continues on the next line."""
        with self.lock:
            if self.shown:
                self.write(f"\n{self.resume}")
                self.shown = False
