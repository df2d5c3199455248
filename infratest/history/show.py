"""The history as plain text for a terminal or a CI log: a table per assumption (one row per
run, one column per check, in the metric's units) and the regression list. Lines stay within
100 columns: checks that do not fit go to a continuation table with the same rows."""

from __future__ import annotations

from collections.abc import Sequence

from infratest.history.query import (
    AssumptionHistory,
    CheckKey,
    CheckPoint,
    RegressionReport,
    Run,
    series,
)
from infratest.metrics import METRICS
from infratest.units import Dimension, format_change, format_quantity

WIDTH = 100
GAP = "  "


def _dimension(metric: str) -> Dimension:
    return METRICS[metric].dimension if metric in METRICS else Dimension.NUMBER


def figure(check: CheckPoint, value: float | None) -> str:
    """A value of the check in people's units; a change reads '+16%'."""
    if value is None:
        return "n/a"
    if check.change in ("relative", "absolute"):
        return format_change(value, check.change, _dimension(check.metric))
    return format_quantity(value, _dimension(check.metric))


def condition(check: CheckPoint) -> str:
    """'latency.p95 < 1s' (a missing bound is an infinite one)."""
    bound = "∞" if check.bound is None else figure(check, check.bound)
    return f"{check.metric} {check.op} {bound}"


def measured(check: CheckPoint) -> str:
    """'41.2ms (95% CI 39.8ms..43.1ms)', just the value when the interval is a point."""
    shown = figure(check, check.value)
    if check.value is None or check.low == check.high:
        return shown
    level = f"{check.confidence:.0%} CI" if check.confidence else "CI"
    low = figure(check, check.low) if check.low is not None else "-∞"
    high = figure(check, check.high) if check.high is not None else "∞"
    return f"{shown} ({level} {low}..{high})"


def commit(run: Run) -> str:
    """The commit, short; '-dirty' kept, as it says the code was not the commit's."""
    if not run.git_commit:
        return "-"
    head, dirty = run.git_commit.removesuffix("-dirty"), run.git_commit.endswith("-dirty")
    return head[:8] + ("-dirty" if dirty else "")


def when(run: Run) -> str:
    """'2026-12-02 06:10' from the recorded UTC timestamp."""
    return run.started_at.replace("T", " ").removesuffix("Z")[:16] or "?"


def _columns(rows: Sequence[Sequence[str]]) -> list[int]:
    return [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]


def _lines(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = _columns(rows)
    return [GAP.join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]


def _groups(first: int, later: int, widths: Sequence[int]) -> list[list[int]]:
    """Indices of the check columns, split so each table fits WIDTH (the first table also
    holds the time, commit and verdict, `first` columns wide; the others only the run)."""
    groups: list[list[int]] = [[]]
    used = first + 2
    for index, width in enumerate(widths):
        if groups[-1] and used + len(GAP) + width > WIDTH:
            groups.append([])
            used = later + 2
        groups[-1].append(index)
        used += len(GAP) + width
    return groups


def _check_cells(history: AssumptionHistory) -> tuple[list[list[str]], list[list[str]]]:
    """Two header rows (metric, latest condition) and the per-run cells of each check."""
    found: dict[CheckKey, list[tuple[Run, CheckPoint]]] = series(history)
    latest = [points[-1][1] for points in found.values()]
    heads = [
        [c.metric for c in latest],
        [condition(c).removeprefix(c.metric + " ") for c in latest],
    ]
    cells = []
    for point in history.points:
        by_key = {check.key: check for check in point.checks}
        cells.append([figure(by_key[k], by_key[k].value) if k in by_key else "" for k in found])
    return heads, cells


FIXED_HEAD = (["run", "started (UTC)", "commit", "verdict"], ["", "", "", ""])


def table(history: AssumptionHistory) -> list[str]:
    """The runs of one assumption, oldest first."""
    fixed = [
        [f"{p.run.id}{'*' if p.run.interrupted else ''}", when(p.run), commit(p.run), p.verdict]
        for p in history.points
    ]
    heads, cells = _check_cells(history)
    fixed_widths = _columns([*FIXED_HEAD, *fixed])
    first = sum(fixed_widths) + len(GAP) * (len(fixed_widths) - 1)
    widths = _columns([*heads, *cells]) if cells and cells[0] else []
    count = len(history.points)
    lines = [f"{history.id} ({count} run{'s' if count != 1 else ''})"]
    for n, group in enumerate(_groups(first, fixed_widths[0], widths)):
        keep = 4 if n == 0 else 1
        rows = [
            head[:keep] + [top[i] for i in group]
            for head, top in zip(FIXED_HEAD, heads, strict=True)
        ]
        for base, row in zip(fixed, cells, strict=True):
            rows.append(base[:keep] + [row[i] for i in group])
        lines += ["  " + line for line in _lines(rows) if line]
    return lines


def history_text(found: Sequence[AssumptionHistory]) -> str:
    """Every assumption's table; a footnote when a run was interrupted."""
    lines: list[str] = []
    for history in found:
        lines += [*table(history), ""]
    if any(p.run.interrupted for h in found for p in h.points):
        lines.append("* the run was interrupted (its other assumptions may be missing)")
    return "\n".join(lines).rstrip() + "\n"


def _side(label: str, run: Run, check: CheckPoint) -> str:
    facts = f"run {run.id}, {when(run)}, commit {commit(run)}, {check.verdict}"
    return f"  {label} {measured(check)}  ({facts})"


def regression_text(report: RegressionReport) -> str:
    """Each regression as its metric, then the passing run and the latest, with intervals."""
    lines = []
    for found in report.regressions:
        _, now = found.now
        lines.append(f"{found.assumption}: {condition(now)} got worse")
        lines.append(_side("then", *found.then))
        lines.append(_side("now ", *found.now))
    some = len(report.regressions)
    summary = f"{some} regression{'s' if some != 1 else ''}" if some else "no regressions"
    others = (
        f"; {report.never_passed} without an earlier passing run" if report.never_passed else ""
    )
    lines.append(
        f"{summary} ({report.compared} checks compared with their last passing run{others})"
    )
    return "\n".join(lines) + "\n"
