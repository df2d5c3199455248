"""An error-rate look while answers are still on their way: the requests in flight count as
failures for the upper end, but are not read as a burst of correlated failures."""

from __future__ import annotations

from infratest.workloads.load_figures import Reading, load_intervals
from infratest.workloads.load_record import LoadRecord
from infratest.workloads.wire import Tick, WindowDelta

PER_SECOND = 30


def _look(seconds: int, failed_per_second: int, in_flight: int) -> LoadRecord:
    """`seconds` ticks of 30 answered requests each, `in_flight` started in the last one."""
    record = LoadRecord(0.0, 60.0, 5.0)
    for second in range(1, seconds + 1):
        delta = WindowDelta(
            window=second - 1, ok_histogram=None, failed_histogram=None,
            ok=PER_SECOND - failed_per_second, failed=failed_per_second, timeouts=0,
        )  # fmt: skip
        flying = tuple(second - 0.05 - 0.01 * i for i in range(in_flight))
        record.add_tick(Tick(float(second), 3, (delta,), flying, (0.001,), 0))
    return record


def _errors(record: LoadRecord):
    reading = Reading(0.95, cautious=True)
    return load_intervals(record, reading, {"errors.rate": None})["errors.rate"]


def test_a_clean_run_with_answers_in_flight_bounds_its_error_rate_within_seconds() -> None:
    """Five seconds of 30 clean answers a second with four always in flight: the upper end
    is that of 4 failures in 154 (read as a burst, D was several hundred: upper end ~1)."""
    interval = _errors(_look(5, 0, 4))
    assert interval.value == 0.0
    assert interval.high < 0.10


def test_in_flight_requests_still_widen_the_upper_end() -> None:
    assert _errors(_look(5, 0, 4)).high > _errors(_look(5, 0, 0)).high


def test_steady_failures_are_still_counted_with_the_in_flight_ones() -> None:
    """3 of 30 failing each second, none in flight vs four in flight: same point value
    (failed over answered), a higher upper end with them."""
    without, with_flying = _errors(_look(8, 3, 0)), _errors(_look(8, 3, 4))
    assert without.value == with_flying.value == 0.1
    assert with_flying.high > without.high > 0.1
