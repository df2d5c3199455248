"""Pure helpers of the disk and network workloads."""

from __future__ import annotations

import math
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infratest.workloads.disk import chunk_throughput_interval, fsync_interval_blocks
from infratest.workloads.network import GIVE_UP_TIMEOUTS, Attempt, sample, split_hostport

positive = st.floats(min_value=1e-6, max_value=1e6, allow_nan=False)


@given(st.lists(st.tuples(positive, positive), min_size=2, max_size=40))
def test_chunk_interval_is_total_bytes_over_total_time(chunks: list[tuple[float, float]]) -> None:
    nbytes, seconds = zip(*chunks, strict=True)
    iv = chunk_throughput_interval(nbytes, seconds, 0.95)
    assert iv.value == pytest.approx(sum(nbytes) / sum(seconds))
    assert 0.0 <= iv.low <= iv.value <= iv.high
    assert iv.n == len(chunks)


def test_chunk_interval_equal_chunks_is_tight() -> None:
    iv = chunk_throughput_interval([1e6] * 16, [0.01] * 16, 0.95)
    assert iv.value == pytest.approx(1e8)
    assert iv.low == pytest.approx(1e8) and iv.high == pytest.approx(1e8)


def test_chunk_interval_slow_tail_widens_it() -> None:
    """One chunk carrying the final fsync must pull the point down and widen the bounds."""
    iv = chunk_throughput_interval([1e6] * 16, [0.001] * 15 + [0.5], 0.95)
    assert iv.value == pytest.approx(16e6 / 0.515)
    assert iv.high > 2 * iv.value


def test_chunk_interval_degenerate() -> None:
    assert math.isnan(chunk_throughput_interval([], [], 0.9).value)
    one = chunk_throughput_interval([10.0], [2.0], 0.9)
    assert (one.value, one.low, one.high) == (5.0, 0.0, math.inf)


@pytest.mark.parametrize(
    ("blocks", "every"), [(1, 1), (32, 1), (59, 1), (60, 2), (240, 8), (10_000, 8)]
)
def test_fsync_every(blocks: int, every: int) -> None:
    assert fsync_interval_blocks(blocks) == every


@pytest.mark.parametrize(
    ("text", "expected"),
    [("127.0.0.1:6379", ("127.0.0.1", 6379)), ("[::1]:80", ("::1", 80)), ("db:5432", ("db", 5432))],
)
def test_split_hostport(text: str, expected: tuple[str, int]) -> None:
    assert split_hostport(text) == expected


def test_sample_gives_up_on_a_silent_peer() -> None:
    run = sample(lambda _d: Attempt(math.inf, "no answer", timed_out=True), 100, 60.0)
    assert len(run.attempts) == GIVE_UP_TIMEOUTS
    assert run.stopped is not None and "gave up" in run.stopped


def test_sample_keeps_going_after_a_success() -> None:
    answers = iter([Attempt(0.001)] + [Attempt(math.inf, "t", timed_out=True)] * 9)
    run = sample(lambda _d: next(answers), 10, 60.0)
    assert len(run.attempts) == 10 and run.stopped is None
    assert len(run.failures) == 9


def test_sample_stops_at_the_time_budget() -> None:
    start = time.monotonic()
    run = sample(lambda d: Attempt(max(0.0, d - time.monotonic())), 1_000_000, 0.05)
    assert time.monotonic() - start < 1.0
    assert run.stopped is not None and "time bound" in run.stopped


def test_sample_stops_after_a_final_attempt() -> None:
    run = sample(lambda _d: Attempt(math.inf, "resolver hung", final=True), 10, 60.0)
    assert len(run.attempts) == 1
    assert run.stopped == "stopped after 1 of 10 samples: resolver hung"
