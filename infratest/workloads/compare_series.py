"""What a compare leaves for reports: both sides' figures and latency distributions, every
block of the ABBA sequence (drift shows there), and the note saying how the run was laid out."""

from __future__ import annotations

from typing import Any

import numpy as np

from infratest.stats import Interval
from infratest.workloads.compare_split import block_figures
from infratest.workloads.load_record import LoadRecord
from infratest.workloads.load_series import weighted_quantiles
from infratest.workloads.rounds import BASELINE, CANDIDATE, SIDES, RoundLayout

CDF_POINTS = 101


def layout_note(layout: RoundLayout, names: tuple[str, str]) -> str:
    order = " ".join("AB"[layout.side_of_block(b)] for b in range(layout.blocks))
    return (
        f"compared {names[1]} (B) with {names[0]} (A) in {layout.rounds} rounds of "
        f"{layout.block_s}s blocks, {order}; figures without a sign are the candidate's own"
    )


def compare_series(
    layout: RoundLayout,
    whole: LoadRecord,
    records: dict[int, LoadRecord],
    values: dict[int, dict[str, Interval]],
    names: tuple[str, str],
    latency_of: str,
) -> dict[str, Any]:
    """The results file's `series.compare`: both sides' figures and distributions, and
    every block (drift shows there)."""
    return {
        "baseline_target": names[0],
        "candidate_target": names[1],
        "rounds": layout.rounds,
        "block_s": layout.block_s,
        "order": [SIDES[layout.side_of_block(b)] for b in range(layout.blocks)],
        "blocks": [row.to_dict() for row in block_figures(whole, layout, latency_of)],
        "baseline": {m: iv.to_dict() for m, iv in values[BASELINE].items()},
        "candidate": {m: iv.to_dict() for m, iv in values[CANDIDATE].items()},
        "requests": {SIDES[s]: r.counts().to_dict() for s, r in records.items()},
        "cdf": {SIDES[s]: cdf(r, latency_of) for s, r in records.items()},
    }


def cdf(record: LoadRecord, latency_of: str) -> list[list[float]]:
    """The side's latency distribution at 101 quantiles, for the overlaid plot."""
    source = record.successful if latency_of == "successful" else record.everything
    values, counts = source.pooled()
    if not counts.size:
        return []
    qs = np.linspace(0.0, 1.0, CDF_POINTS)
    return [[v, float(q)] for v, q in zip(weighted_quantiles(values, counts, qs), qs, strict=True)]
