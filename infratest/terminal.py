"""What people read in the terminal: the failure table, the live progress line, the summary."""

from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING, Any

from infratest.results.view import request_counts_text, stopping_text
from infratest.units import format_quantity
from infratest.verdict import Check, Verdict, describe_interval

if TYPE_CHECKING:
    from infratest.execution import AssumptionResult
    from infratest.workloads.live import LiveStatus


def _measured(check: Check) -> tuple[str, str]:
    if check.interval is None or math.isnan(check.interval.value):
        return "n/a", ""
    value = format_quantity(check.interval.value, check.dimension)
    if check.interval.method == "exact":
        return value, "exact"
    low = format_quantity(check.interval.low, check.dimension)
    high = format_quantity(check.interval.high, check.dimension)
    return value, f"{low}..{high}"


def check_summary(check: Check) -> str:
    """'pass: 41.2ms (95% CI 39.8ms..43.1ms) < 200ms' — one check on one line."""
    shown = describe_interval(check.interval, check.dimension) if check.interval else "n/a"
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
    rows = [["metric", "condition", "measured", confidence, "verdict"]]
    for check in outcome.checks:
        value, interval = _measured(check)
        rows.append([check.metric, check.condition_text, value, interval, check.verdict.value])
    lines = [header, *_table(rows), f"reason: {outcome.reason}"]
    entry = result.to_dict()
    counts = request_counts_text(entry)
    if counts:
        lines.append(f"requests: {counts}")
    stopping = stopping_text(entry)
    if stopping:
        lines.append(f"stopped: {stopping}")
    lines += [f"note: {note}" for note in result.measurements.notes]
    return "\n".join(lines)


def summary_line(result: AssumptionResult) -> str:
    """One line per assumption for the end-of-run summary."""
    verdict = result.outcome.verdict
    figures = "; ".join(f"{c.metric} {_measured(c)[0]}" for c in result.outcome.checks)
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
