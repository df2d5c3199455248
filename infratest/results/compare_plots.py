"""Plots of a rollout comparison, drawn only from the results document: the latency
distributions of baseline and candidate overlaid, and p50/p95 per ABBA block coloured by side
so drift over the run (both sides moving together) is told apart from a real difference."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.ticker import FormatStrFormatter

from infratest.results.plots import (
    PlotFunction,
    legend,
    new_figure,
    number,
    png_bytes,
    series,
)

Entry = dict[str, Any]
SIDE_COLORS = {"baseline": "#4c72b0", "candidate": "#dd8452"}


def _cdf_points(value: Any) -> tuple[np.ndarray, np.ndarray]:
    """(latency in ms, quantile) of the finite, positive points (the x axis is logarithmic)."""
    pairs = (
        [p for p in value if isinstance(p, list | tuple) and len(p) == 2]
        if isinstance(value, list)
        else []
    )
    points = np.asarray([[number(a), number(b)] for a, b in pairs], dtype=float).reshape(-1, 2)
    keep = np.isfinite(points).all(axis=1) & (points[:, 0] > 0)
    return points[keep, 0] * 1e3, points[keep, 1]


def latency_cdfs(entry: Entry) -> bytes | None:
    """Both sides' latency distributions on one log axis: a shift, a longer tail, or both."""
    cdf = series(entry, "compare").get("cdf")
    found = (
        {side: _cdf_points(cdf.get(side)) for side in SIDE_COLORS} if isinstance(cdf, dict) else {}
    )
    drawn = {side: xy for side, xy in found.items() if xy[0].size >= 2}
    if not drawn:
        return None
    fig, ax = new_figure("Latency distribution: baseline vs candidate")
    for side, (x, q) in drawn.items():
        ax.step(x, q, where="post", color=SIDE_COLORS[side], label=side, linewidth=1.5)
    for level in (0.5, 0.95):
        ax.axhline(level, color="#7f7f7f", linestyle=":", linewidth=0.8)
    ax.set_xscale("log")
    for axis in (ax.xaxis.set_major_formatter, ax.xaxis.set_minor_formatter):
        axis(FormatStrFormatter("%g"))  # "25" reads better than "2.5x10^1"
    ax.set_xlabel("latency (ms, log scale)")
    ax.set_ylabel("quantile")
    ax.set_ylim(0, 1.02)
    legend(ax)
    return png_bytes(fig)


def _blocks(entry: Entry) -> list[dict[str, Any]]:
    found = series(entry, "compare").get("blocks")
    return [b for b in found if isinstance(b, dict)] if isinstance(found, list) else []


def block_latencies(entry: Entry) -> bytes | None:
    """p50 (circles) and p95 (squares) per block in run order, coloured by side."""
    blocks = _blocks(entry)
    x = np.asarray([number(b.get("block")) for b in blocks], dtype=float)
    if not np.isfinite(x).all():
        x = np.arange(len(blocks), dtype=float)
    columns = {
        key: np.asarray([number(b.get(key)) for b in blocks]) * 1e3 for key in ("p50_s", "p95_s")
    }
    if not any(np.isfinite(values).any() for values in columns.values()):
        return None
    fig, ax = new_figure("Latency per block (ABBA order)")
    sides = np.asarray([str(b.get("side")) for b in blocks])
    for key, marker in (("p50_s", "o"), ("p95_s", "s")):
        ax.plot(x, columns[key], color="#bbbbbb", linewidth=0.8, zorder=1)
        for side, color in SIDE_COLORS.items():
            mask = sides == side
            if mask.any():
                label = f"{side} {key.removesuffix('_s')}"
                ax.scatter(
                    x[mask], columns[key][mask], color=color, marker=marker, label=label, zorder=2
                )
    ax.set_xlabel("block")
    ax.set_ylabel("latency (ms)")
    ax.set_ylim(bottom=0)
    legend(ax)
    return png_bytes(fig)


COMPARE_PLOTS: tuple[tuple[str, PlotFunction], ...] = (
    ("Latency distribution: baseline vs candidate", latency_cdfs),
    ("Latency per block", block_latencies),
)


def compare_plots_for(entry: Entry) -> list[tuple[str, bytes]]:
    """The comparison plots an assumption has data for, titled, in a fixed order."""
    drawn = ((title, draw(entry)) for title, draw in COMPARE_PLOTS)
    return [(title, png) for title, png in drawn if png is not None]
