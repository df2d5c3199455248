"""One compared load run, split into what the baseline and the candidate each received.

The Locust process sends each request to the side whose block its send time falls in and
files it under that second's window, so splitting by window is exact: every window belongs
to one side. Each side becomes a record of its own (its windows renumbered in time order),
read by the same figures as any load; per block, the figures that show drift.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from infratest.deltas import SideSample
from infratest.windows import Censored, LatencyWindows, merge_histograms
from infratest.workloads.load_record import LoadRecord
from infratest.workloads.load_series import weighted_quantiles
from infratest.workloads.rounds import SIDES, RoundLayout


def _remapped(source: LatencyWindows, target: LatencyWindows, index: dict[int, int]) -> None:
    for window, values, counts in source.per_window():
        if window in index:
            target.add(index[window], values, counts)


def side_record(record: LoadRecord, layout: RoundLayout, side: int) -> LoadRecord:
    """The requests one side received, as a record of `len(windows)` measured seconds."""
    windows = layout.windows_of(side)
    index = {w: i for i, w in enumerate(windows)}
    out = LoadRecord(0.0, float(len(windows)), record.timeout_s)
    _remapped(record.successful, out.successful, index)
    _remapped(record.everything, out.everything, index)
    o, mine = record.outcomes, out.outcomes
    for source, target in ((o.ok, mine.ok), (o.failed, mine.failed), (o.timeouts, mine.timeouts)):
        for w, n in source.items():
            if w in index:
                target[index[w]] = n
    for w, kinds in o.kinds_at.items():
        if w in index:
            mine.kinds_at[index[w]] = dict(kinds)
            for kind, n in kinds.items():
                mine.kinds[kind] = mine.kinds.get(kind, 0) + n
    censored = record.censored()
    keep = np.isin(censored.windows, windows)
    mapped = np.asarray([index[int(w)] for w in censored.windows[keep]], dtype=np.int64)
    out.pin(float(len(windows)), Censored(mapped, censored.elapsed_s[keep], censored.cap_s))
    return out


def side_sample(record: LoadRecord, layout: RoundLayout, side: int, latency_of: str) -> SideSample:
    """One side's per-window data for the delta statistics. Unanswered requests enter at the
    time they had waited (a lower bound); they are few, and said in the notes."""
    windows = layout.windows_of(side)
    source = record.successful if latency_of == "successful" else record.everything
    per = {w: (v, c) for w, v, c in source.per_window()}
    censored = record.censored()
    values, counts = [], []
    for w in windows:
        v, c = per.get(w, (np.zeros(0), np.zeros(0, dtype=np.int64)))
        if latency_of != "successful":
            waited = censored.elapsed_s[censored.windows == w]
            if waited.size:
                v, c = merge_histograms(v, c, waited, np.ones(waited.size, dtype=np.int64))
        values.append(v)
        counts.append(c)
    ok = np.asarray([record.outcomes.ok.get(w, 0) for w in windows], dtype=float)
    failed = np.asarray([record.outcomes.failed.get(w, 0) for w in windows], dtype=float)
    blocks = np.asarray([layout.block_of_window(w) for w in windows], dtype=np.int64)
    return SideSample(tuple(values), tuple(counts), ok, failed, blocks)


@dataclass(frozen=True)
class BlockFigures:
    """One block of the ABBA sequence: which side, and what it measured (drift shows here)."""

    block: int
    round: int
    side: str
    start_s: float
    requests: int
    failed: int
    p50_s: float | None
    p95_s: float | None

    def to_dict(self) -> dict[str, object]:
        return self.__dict__.copy()


def block_figures(record: LoadRecord, layout: RoundLayout, latency_of: str) -> list[BlockFigures]:
    """Per block: requests, failures, p50 and p95 (nearest-rank, as the per-second series:
    for the eye, not a verdict)."""
    source = record.successful if latency_of == "successful" else record.everything
    per = {w: (v, c) for w, v, c in source.per_window()}
    rows = []
    for block in range(layout.blocks):
        span = range(block * layout.block_s, (block + 1) * layout.block_s)
        v, c = np.zeros(0), np.zeros(0, dtype=np.int64)
        for w in span:
            if w in per:
                v, c = merge_histograms(v, c, *per[w])
        p50, p95 = weighted_quantiles(v, c, (0.50, 0.95)) if c.sum() > 0 else (None, None)
        ok = sum(record.outcomes.ok.get(w, 0) for w in span)
        failed = sum(record.outcomes.failed.get(w, 0) for w in span)
        rows.append(
            BlockFigures(
                block=block,
                round=block // 2,
                side=SIDES[layout.side_of_block(block)],
                start_s=layout.measure_start_s + block * layout.block_s,
                requests=ok + failed,
                failed=failed,
                p50_s=p50,
                p95_s=p95,
            )
        )
    return rows
