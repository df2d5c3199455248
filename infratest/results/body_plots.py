"""The report's plot of the request bodies that were sent: per pooled request, how many sends
fell in each log-spaced byte bucket (`series.load.bodies[NAME].sent.histogram`), drawn only
from the results document like every other plot."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from infratest.results.plots import legend, new_figure, number, png_bytes, series

Entry = dict[str, Any]
COLORS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3")
TITLE = "Request body sizes"
BUCKETS_PER_DOUBLING = 4  # the results' size buckets: bounds ceil(2 ** (k / 4)) bytes


def _bucket_lower(upper: float) -> float:
    """The bucket below's bound: a bucket holds the sizes above it, up to its own."""
    k = math.floor(BUCKETS_PER_DOUBLING * math.log2(max(upper, 1.0)))
    while k > 0 and math.ceil(2 ** (k / BUCKETS_PER_DOUBLING)) >= upper:
        k -= 1
    return float(math.ceil(2 ** (k / BUCKETS_PER_DOUBLING))) if k > 0 else upper / 2


def _histograms(entry: Entry) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(request name, bucket upper bytes, sends) of each pooled request that sent something."""
    bodies = series(entry, "load").get("bodies")
    found = []
    for name, pool in bodies.items() if isinstance(bodies, dict) else []:
        sent = pool.get("sent") if isinstance(pool, dict) else None
        rows = sent.get("histogram") if isinstance(sent, dict) else None
        pairs = [r for r in rows if isinstance(r, list) and len(r) == 2] if rows else []
        points = np.asarray([[number(a), number(b)] for a, b in pairs], dtype=float)
        points = points.reshape(-1, 2)
        keep = np.isfinite(points).all(axis=1) & (points[:, 0] > 0) & (points[:, 1] > 0)
        if keep.any():
            found.append((str(name), points[keep, 0], points[keep, 1]))
    return found[: len(COLORS)]


def body_sizes(entry: Entry) -> bytes | None:
    """Sends per body-size bucket, one colour per request, on a log byte axis: the sizes
    the target was actually offered (the pool's range is in the note)."""
    found = _histograms(entry)
    if not found:
        return None
    fig, ax = new_figure(TITLE)
    for (name, uppers, counts), color in zip(found, COLORS, strict=False):
        lowers = np.asarray([_bucket_lower(u) for u in uppers])
        ax.bar(lowers, counts, width=uppers - lowers, align="edge", color=color, alpha=0.55,
               edgecolor=color, label=name)  # fmt: skip
    ax.set_xscale("log")
    ax.set_xlabel("body size (bytes)")
    ax.set_ylabel("requests sent")
    ax.set_ylim(bottom=0)
    legend(ax)
    return png_bytes(fig)


def body_plots_for(entry: Entry) -> list[tuple[str, bytes]]:
    """The body-size plot of an assumption with pooled bodies, or none."""
    png = body_sizes(entry)
    return [(TITLE, png)] if png is not None else []
