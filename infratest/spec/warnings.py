"""Checks that are valid but can never pass: a percentile (or median) taken from a fixed
number of samples has no finite distribution-free bound until there are enough of them, so
such a check stays inconclusive however fast the system is. `infratest validate` warns.

Only workloads whose sample count is fixed by the file are judged here: network `samples`,
s3 `samples`, the fsyncs a disk `size`/`block` give, and cold-start `repeat`. The counts
mirror the workloads (tests/unit/test_spec_warnings.py holds them to it); they are not
imported, because the workloads pull in numpy and scipy and `validate` should stay quick.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

from infratest.spec.checks import Finding
from infratest.spec.scenario import Assumption, Scenario
from infratest.units import Condition, Dimension, format_quantity

# As in the disk workload: an fsync is timed every few blocks, aiming at >= 30 samples.
FSYNC_EVERY_MAX = 8
FSYNC_MIN_SAMPLES = 30
# As in the cold-start workload: with fewer launches the median gets a t interval.
COLD_START_DISTRIBUTION_FREE_MIN = 5
COLD_START_MEDIANS = ("cold_start.ready", "cold_start.first_response")
_PERCENTILE = re.compile(r"\.p(\d+)$")


@dataclass(frozen=True)
class FixedSamples:
    """How many samples a check's figure will be taken from, and what in the file says so."""

    count: int
    because: str  # e.g. "samples: 50"
    noun: str = "samples"


def min_samples(q: float, confidence: float, op: str) -> int:
    """The smallest n for which the order-statistic interval of the q-quantile has the end
    that `op` needs: an upper bound (``<``, ``<=``) once q^n <= 1 - confidence, a lower bound
    (``>``, ``>=``) once (1 - q)^n <= 1 - confidence. p99 at 95%: 299; p95: 59; median: 5."""
    if not (0.0 < q < 1.0 and 0.0 < confidence < 1.0):
        raise ValueError(f"q and confidence must be in (0, 1), got {q!r}, {confidence!r}")
    p = q if op in ("<", "<=") else 1.0 - q
    n = max(1, math.ceil(math.log(1.0 - confidence) / math.log(p)))
    while p**n > 1.0 - confidence:
        n += 1
    while n > 1 and p ** (n - 1) <= 1.0 - confidence:
        n -= 1
    return n


def quantile_of(metric: str) -> float | None:
    """'tcp.connect.p99' -> 0.99, 'latency.p999' -> 0.999; cold-start medians -> 0.5."""
    if metric in COLD_START_MEDIANS:
        return 0.5
    match = _PERCENTILE.search(metric)
    return int(match[1]) / 10 ** len(match[1]) if match else None


def fsync_count(size: float, block: float) -> int:
    """Timed fsyncs of a disk run: one every `every` blocks, as the disk workload does."""
    blocks = math.ceil(size / block)
    every = max(1, min(FSYNC_EVERY_MAX, blocks // FSYNC_MIN_SAMPLES))
    return blocks // every


def fixed_samples(assumption: Assumption, metric: str) -> FixedSamples | None:
    """The fixed sample count behind a metric of this assumption, or None when it is not
    fixed by the file (load runs: as many requests as the time allows)."""
    if assumption.network is not None:
        return FixedSamples(assumption.network.samples, f"samples: {assumption.network.samples}")
    if assumption.s3 is not None and metric == "s3.first_byte.p99":
        return FixedSamples(assumption.s3.samples, f"samples: {assumption.s3.samples}")
    disk = assumption.disk
    if disk is not None and metric == "disk.fsync.p99":
        size = format_quantity(disk.size, Dimension.BYTES)
        block = format_quantity(disk.block, Dimension.BYTES)
        count = fsync_count(disk.size, disk.block)
        return FixedSamples(count, f"size: {size}, block: {block} ({count} timed fsyncs)", "fsyncs")
    if assumption.cold_start is not None and metric in COLD_START_MEDIANS:
        repeat = assumption.cold_start.repeat
        return FixedSamples(repeat, f"repeat: {repeat}", "launches")
    return None


def _percent(confidence: float) -> str:
    return format_quantity(confidence, Dimension.RATIO)


def _check_warning(
    assumption: Assumption, metric: str, condition: Condition, confidence: float
) -> str | None:
    q = quantile_of(metric)
    fixed = fixed_samples(assumption, metric)
    if q is None or fixed is None:
        return None
    if metric == "disk.fsync.p99" and assumption.disk is not None and not assumption.disk.fsync:
        return "disk.fsync.p99 is not measured with fsync: false"
    if metric in COLD_START_MEDIANS and fixed.count < COLD_START_DISTRIBUTION_FREE_MIN:
        return (
            f"{metric} with {fixed.because} gets a t interval, which assumes roughly normal "
            f"launch times; a distribution-free median needs at least "
            f"{COLD_START_DISTRIBUTION_FREE_MIN} launches"
        )
    need = min_samples(q, confidence, condition.op)
    if fixed.count >= need:
        return None
    what = "a median" if metric in COLD_START_MEDIANS else f"a {metric.rsplit('.', 1)[1]}"
    return (
        f"{metric} can never pass with {fixed.because}: {what} at {_percent(confidence)} "
        f"confidence needs at least {need} {fixed.noun}"
    )


def sample_size_findings(scenario: Scenario) -> Iterator[Finding]:
    """A (path, message) for every `expect` check that its fixed sample count dooms."""
    for index, assumption in enumerate(scenario.assumptions):
        for metric, condition in assumption.expect.items():
            message = _check_warning(assumption, metric, condition, scenario.confidence)
            if message is not None:
                yield ("assumptions", index, "expect", metric), message
