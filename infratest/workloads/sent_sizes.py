"""The sizes of the bodies that were sent, as opposed to the pool they were taken from.

A generator process counts sends per pool entry (the entry's size is known once, when the
pool is encoded), and its final line carries, per request name, how many bodies of each byte
size went out in the measured window: exact, and no longer than the pool's distinct sizes.
The parent adds the workers' tallies and summarises each as the results'
`series.load.bodies[NAME].sent`: the count, nearest-rank quantiles and a histogram in
log-spaced byte buckets (four a doubling) for the report's plot.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

SizeCounts = dict[str, dict[str, int]]  # request name -> {bytes (as text, JSON keys): sends}
BUCKETS_PER_DOUBLING = 4


def merge_sizes(tallies: Iterable[Mapping[str, Mapping[str, int]]]) -> SizeCounts:
    """Several processes' tallies as one (counts of equal sizes add)."""
    merged: SizeCounts = {}
    for tally in tallies:
        for name, sizes in tally.items():
            into = merged.setdefault(name, {})
            for size, count in sizes.items():
                into[size] = into.get(size, 0) + int(count)
    return merged


def bucket_upper(size: int) -> int:
    """The upper bound (bytes, inclusive) of the log-spaced bucket `size` falls in: the
    smallest ceil(2 ** (k / 4)) that is at least `size` (so sizes up to 5 bytes are exact)."""
    if size <= 1:
        return max(size, 0)
    k = math.floor(BUCKETS_PER_DOUBLING * math.log2(size - 1)) + 1
    return math.ceil(2 ** (k / BUCKETS_PER_DOUBLING))


def _nearest_rank(pairs: list[tuple[int, int]], total: int, q: float) -> int:
    rank, seen = max(math.ceil(q * total), 1), 0
    for size, count in pairs:
        seen += count
        if seen >= rank:
            return size
    return pairs[-1][0]


def sent_summary(sizes: Mapping[str, int]) -> dict[str, Any]:
    """One request's `sent` block: count, bytes (min, p50, p95, max) and the histogram as
    [[bucket upper bytes, sends], ...] ascending; a request that sent nothing has count 0."""
    pairs = sorted((int(size), int(count)) for size, count in sizes.items() if int(count) > 0)
    total = sum(count for _, count in pairs)
    if total == 0:
        return {"count": 0, "bytes": None, "histogram": []}
    buckets: dict[int, int] = {}
    for size, count in pairs:
        upper = bucket_upper(size)
        buckets[upper] = buckets.get(upper, 0) + count
    return {
        "count": total,
        "bytes": {
            "min": float(pairs[0][0]),
            "p50": float(_nearest_rank(pairs, total, 0.5)),
            "p95": float(_nearest_rank(pairs, total, 0.95)),
            "max": float(pairs[-1][0]),
        },
        "histogram": [[upper, count] for upper, count in sorted(buckets.items())],
    }
