""" "Trend over the last runs" in the HTML report: each check's value with its interval and
bound over the assumption's last runs in the history file.

A trend reads the history, not the results document, so it lives here rather than in plots.py
(whose plots are drawn from the document alone). Only runs started no later than the
document's run are shown: a report rendered again later shows the trend as it stood then.
An assumption with fewer than two recorded runs has no trend to show."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from infratest.history.query import AssumptionHistory, CheckPoint, Run, histories, series
from infratest.history.show import condition
from infratest.history.store import open_history
from infratest.metrics import METRICS
from infratest.results.html_markup import e, plots_block
from infratest.results.plots import legend, new_figure, png_bytes
from infratest.results.view import entries
from infratest.units import Dimension

LAST_RUNS = 10
VERDICT_COLOURS = {"pass": "#1a7f37", "fail": "#cf222e", "inconclusive": "#9a6700"}
OTHER_COLOUR = "#6e40c9"


def _scale(points: list[tuple[Run, CheckPoint]]) -> tuple[float, str]:
    """A factor and axis label that make the values readable."""
    factor, unit = _unit(points)
    changed = points[-1][1].change is not None
    return factor, f"change ({unit})" if changed and unit else unit


def _unit(points: list[tuple[Run, CheckPoint]]) -> tuple[float, str]:
    check = points[-1][1]
    dimension = METRICS[check.metric].dimension if check.metric in METRICS else None
    if check.change == "relative":
        return 100.0, "%"
    if dimension == Dimension.RATIO:
        return 100.0, "pp" if check.change == "absolute" else "%"
    if dimension == Dimension.DURATION:
        values = [abs(c.value) for _, c in points if c.value is not None]
        return (1e3, "ms") if values and max(values) < 1 else (1.0, "s")
    if dimension in (Dimension.BYTES, Dimension.BYTE_RATE):
        return 1e-6, "MB" if dimension == Dimension.BYTES else "MB/s"
    return 1.0, "1/s" if dimension == Dimension.RATE else ""


def _errors(checks: list[CheckPoint], factor: float) -> np.ndarray:
    """Distances from each value to its interval's ends (0 for an unbounded side)."""
    below, above = [], []
    for check in checks:
        value = check.value or 0.0
        below.append(0.0 if check.low is None else max(value - check.low, 0.0) * factor)
        above.append(0.0 if check.high is None else max(check.high - value, 0.0) * factor)
    return np.asarray([below, above])


def trend_plot(points: list[tuple[Run, CheckPoint]]) -> bytes | None:
    """One check over runs: value and interval per run coloured by verdict, the bound dashed."""
    measured = [(run, check) for run, check in points if check.value is not None]
    if len(measured) < 2:
        return None
    factor, unit = _scale(measured)
    latest = measured[-1][1]
    fig, ax = new_figure(f"{condition(latest)} over the last runs")
    x = np.arange(len(measured))
    checks = [check for _, check in measured]
    values = np.asarray([c.value for c in checks], dtype=float) * factor
    ax.errorbar(x, values, yerr=_errors(checks, factor), fmt="none", ecolor="#59636e", capsize=3)
    colours = [VERDICT_COLOURS.get(c.verdict, OTHER_COLOUR) for c in checks]
    ax.scatter(x, values, c=colours, zorder=3)
    ax.plot(x, values, color="#59636e", linewidth=0.8, alpha=0.6)
    if latest.bound is not None:
        ax.axhline(latest.bound * factor, color="#7f7f7f", linestyle="--", label="bound")
    labels = [f"{run.id}\n{run.started_at[5:16].replace('T', ' ')}" for run, _ in measured]
    ax.set_xticks(x, labels, fontsize=7)
    ax.set_xlabel("run")
    ax.set_ylabel(unit or latest.metric)
    legend(ax)
    return png_bytes(fig)


def trend_block(history: AssumptionHistory) -> str:
    """The report's trend section of one assumption; '' without two runs."""
    if len(history.points) < 2:
        return ""
    drawn = [(key[0], trend_plot(points)) for key, points in series(history).items()]
    figures = [(f"{metric} trend", png) for metric, png in drawn if png is not None]
    if not figures:
        return ""
    title = f"Trend over the last {len(history.points)} runs"
    return f'<div class="trend"><h4>{e(title)}</h4>{plots_block(figures)}</div>'


def trend_sections(doc: dict[str, Any], path: str | Path) -> dict[int, str]:
    """Each document entry's trend block, by its index among the document's assumptions."""
    conn = open_history(path, create=False)
    try:
        found = histories(conn, last=LAST_RUNS, until=doc.get("started_at"))
    finally:
        conn.close()
    by_key = {(h.file, h.assumption): h for h in found}
    blocks = {}
    for index, entry in enumerate(entries(doc)):
        history = by_key.get((str(entry.get("file")), str(entry.get("name"))))
        block = trend_block(history) if history is not None else ""
        if block:
            blocks[index] = block
    return blocks
