"""The capacity search on its own: a monotone `meets` with a known threshold T, no load."""

from __future__ import annotations

import math
from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st

from infratest.workloads.capacity import search_capacity


@st.composite
def ranges(draw: st.DrawFn) -> tuple[int, int, int]:
    """(min, max, T) with 1 <= min <= T <= max."""
    low = draw(st.integers(1, 500))
    high = draw(st.integers(low, low * 64))
    return low, high, draw(st.integers(low, high))


def _counting(threshold: int) -> tuple[list[int], Callable[[int], bool]]:
    calls: list[int] = []

    def meets(users: int) -> bool:
        calls.append(users)
        return users <= threshold

    return calls, meets


def _enough_steps(low: int, high: int) -> int:
    """Doubling from low to high, plus the bisection down to a 10% bracket."""
    return math.ceil(math.log2(high / low)) + 5


@given(ranges())
def test_finds_threshold_within_ten_percent(case: tuple[int, int, int]) -> None:
    low, high, threshold = case
    budget = _enough_steps(low, high)
    calls, meets = _counting(threshold)
    found = search_capacity(low, high, budget, meets)
    assert len(calls) <= budget
    assert found.converged
    assert found.best <= threshold  # never claims a load that missed
    assert threshold - found.best <= max(1, 0.1 * found.best)
    assert meets(found.best)
    if found.fail is not None:
        assert found.fail > threshold and found.fail - found.best <= max(1, 0.1 * found.best)
    else:
        assert found.best == high == threshold


@given(ranges(), st.integers(1, 50))
def test_never_exceeds_max_steps(case: tuple[int, int, int], max_steps: int) -> None:
    low, high, threshold = case
    calls, meets = _counting(threshold)
    found = search_capacity(low, high, max_steps, meets)
    assert len(calls) <= max_steps
    assert len(calls) == len(set(calls))  # no user count is run twice
    assert [u for u, _ in found.tried] == calls
    assert low <= found.best <= threshold  # a short budget errs low, never high
    assert found.fail is None or found.fail > threshold


@given(st.integers(1, 500), st.integers(0, 500), st.integers(2, 50))
def test_minimum_missing_means_zero(low: int, extra: int, max_steps: int) -> None:
    calls, meets = _counting(low - 1)
    found = search_capacity(low, low + extra, max_steps, meets)
    assert calls == [low]
    assert (found.best, found.fail) == (0, low)


def test_doubles_then_bisects() -> None:
    calls, meets = _counting(9)
    found = search_capacity(1, 32, 12, meets)
    assert calls == [1, 2, 4, 8, 16, 12, 10, 9]
    assert (found.best, found.fail) == (9, 10)


def test_top_of_range_passing_stops_there() -> None:
    calls, meets = _counting(100)
    found = search_capacity(3, 20, 12, meets)
    assert calls == [3, 6, 12, 20]
    assert (found.best, found.fail) == (20, None)
