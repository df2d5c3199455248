"""Reading the child's HdrHistogram encodings into plain arrays the statistics can use."""

from __future__ import annotations

from functools import cache

import numpy as np
from hdrh.histogram import HdrHistogram

from infratest.workloads.wire import HISTOGRAM_DIGITS, HISTOGRAM_HIGHEST_US, HISTOGRAM_LOWEST_US


@cache
def _bucket_tops_s() -> np.ndarray:
    """Each counts index's value in seconds, at the *top* of its bucket: a recorded latency is
    never read lower than it was (at most 0.1% higher), so a `<` bound is never flattered."""
    probe = HdrHistogram(HISTOGRAM_LOWEST_US, HISTOGRAM_HIGHEST_US, HISTOGRAM_DIGITS)
    tops = [
        probe.get_highest_equivalent_value(probe.get_value_from_index(i))
        for i in range(probe.counts_len)
    ]
    return np.asarray(tops, dtype=np.float64) / 1e6


def decode_latencies(encoded: str | None) -> tuple[np.ndarray, np.ndarray]:
    """(values in seconds ascending, counts) of one encoded histogram; empty for None."""
    if not encoded:
        return np.empty(0), np.empty(0, dtype=np.int64)
    histogram = HdrHistogram.decode(encoded)
    counts = np.ctypeslib.as_array(histogram.counts)
    index = np.nonzero(counts)[0]
    return _bucket_tops_s()[index], counts[index].astype(np.int64)
