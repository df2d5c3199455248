"""The child's streaming recorder, the wire between child and parent, and the pure rules the
parent applies while load runs (early verdicts on growing counts, generator saturation)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from infratest.stats import Interval, exact
from infratest.units import parse_condition
from infratest.verdict import Verdict, decide
from infratest.workloads.histograms import decode_latencies
from infratest.workloads.monitor import GROWING, early_verdict
from infratest.workloads.recorder import WindowRecorder
from infratest.workloads.saturation import (
    GENERATOR_SATURATION_CORES,
    LAG_LIMIT_S,
    LAG_MIN_SAMPLES,
    saturation_reason,
)
from infratest.workloads.wire import Final, Tick, WindowDelta, decode, encode

HDR_RELATIVE = 1e-3  # 3 significant digits
ROUNDING_S = 0.5e-6  # latencies are recorded in whole microseconds


def _expanded(encoded: str | None) -> np.ndarray:
    values, counts = decode_latencies(encoded)
    return np.repeat(values, counts)


# --- WindowRecorder ------------------------------------------------------------------------


def test_requests_are_windowed_by_the_second_they_started_in() -> None:
    recorder = WindowRecorder(measure_start_s=2.0)
    recorder.record(2.0, 0.010, None, "", "a")  # first instant of window 0
    recorder.record(2.999, 1.5, None, "", "a")  # finished in window 2, started in 0
    recorder.record(3.0, 0.020, "HTTP 500", "HTTPError: 500", "b")
    recorder.record(4.5, 2.0, "timeout", "Timeout: timed out", "a")
    deltas = recorder.flush()
    assert [d.window for d in deltas] == [0, 1, 2]
    first, second, third = deltas
    assert (first.ok, first.failed, first.names) == (2, 0, {"a": 2})
    assert first.failed_histogram is None
    assert sorted(_expanded(first.ok_histogram)) == pytest.approx([0.010, 1.5], rel=HDR_RELATIVE)
    assert (second.ok, second.failed, second.timeouts) == (0, 1, 0)
    assert second.kinds == {"HTTP 500": 1} and second.names == {"b": 1}
    assert second.ok_histogram is None
    assert _expanded(second.failed_histogram) == pytest.approx([0.020], rel=HDR_RELATIVE)
    assert (third.failed, third.timeouts, third.kinds) == (1, 1, {"timeout": 1})
    assert recorder.first_error == "HTTPError: 500"
    assert recorder.examples == {"HTTP 500": ["HTTPError: 500"], "timeout": ["Timeout: timed out"]}


def test_warmup_requests_are_counted_not_recorded() -> None:
    recorder = WindowRecorder(measure_start_s=3.0)
    recorder.record(0.1, 0.01, None, "", "a")
    recorder.record(2.99, 0.01, "HTTP 503", "HTTPError: 503", "a")
    assert recorder.window_of(2.99) == -1
    assert recorder.warmup_requests == 2
    assert recorder.flush() == ()
    assert recorder.examples == {"HTTP 503": ["HTTPError: 503"]}  # its example still helps


def test_flush_hands_over_deltas_and_empties_the_recorder() -> None:
    recorder = WindowRecorder(measure_start_s=0.0)
    recorder.record(0.5, 0.01, None, "", "a")
    assert len(recorder.flush()) == 1
    assert recorder.flush() == ()
    recorder.record(0.7, 0.03, None, "", "a")  # a late finisher of window 0: a new delta
    (late,) = recorder.flush()
    assert (late.window, late.ok) == (0, 1)
    assert _expanded(late.ok_histogram) == pytest.approx([0.03], rel=HDR_RELATIVE)


def test_examples_are_capped_per_kind() -> None:
    recorder = WindowRecorder(measure_start_s=0.0)
    for i in range(10):
        recorder.record(0.1, 0.01, "HTTP 500", f"error {i}", "a")
    assert recorder.examples["HTTP 500"] == ["error 0", "error 1", "error 2"]


@given(
    st.lists(
        st.floats(min_value=1e-4, max_value=3600.0, allow_nan=False, allow_infinity=False),
        min_size=1,
        max_size=200,
    )
)
def test_histogram_encoding_round_trips_within_a_tenth_of_a_percent(latencies: list) -> None:
    recorder = WindowRecorder(measure_start_s=0.0)
    for latency in latencies:
        recorder.record(0.5, latency, None, "", "a")
    (delta,) = recorder.flush()
    decoded = _expanded(delta.ok_histogram)
    expected = np.sort(np.asarray(latencies))
    assert decoded.size == expected.size == delta.ok
    # read at the top of its bucket: never lower than recorded, at most 0.1% higher
    assert np.all(decoded >= expected - ROUNDING_S)
    assert np.all(decoded <= expected * (1 + HDR_RELATIVE) + ROUNDING_S)


def test_decoding_nothing_is_empty() -> None:
    values, counts = decode_latencies(None)
    assert values.size == 0 and counts.size == 0


# --- wire ----------------------------------------------------------------------------------

_finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
_text = st.text(max_size=20)
_counts = st.dictionaries(_text, st.integers(0, 10**6), max_size=4)
_deltas = st.builds(
    WindowDelta,
    window=st.integers(-5, 10**5),
    ok_histogram=st.none() | _text,
    failed_histogram=st.none() | _text,
    ok=st.integers(0, 10**6),
    failed=st.integers(0, 10**6),
    timeouts=st.integers(0, 10**6),
    kinds=_counts,
    names=_counts,
)
_ticks = st.builds(
    Tick,
    t=_finite,
    users=st.integers(0, 10**4),
    windows=st.lists(_deltas, max_size=4).map(tuple),
    in_flight=st.lists(_finite, max_size=8).map(tuple),
    lag_s=st.lists(_finite, max_size=8).map(tuple),
    warmup_requests=st.integers(0, 10**6),
)
_finals = st.builds(
    Final,
    started_at=_finite,
    measure_start=_finite,
    measure_end=_finite,
    ended_at=_finite,
    unfinished=st.lists(_finite, max_size=8).map(tuple),
    examples=st.dictionaries(_text, st.lists(_text, max_size=3), max_size=3),
    request_names=st.lists(_text, max_size=3),
    signalled=st.none() | st.sampled_from(["SIGINT", "SIGTERM", "watchdog"]),
    reason=_text,
)


@given(st.one_of(_ticks, _finals))
def test_wire_messages_round_trip(message: Tick | Final) -> None:
    line = encode(message)
    assert "\n" not in line  # one message, one line
    assert decode(line) == message


def test_wire_passes_marks_through_and_ignores_stray_output() -> None:
    assert decode('{"event":"start","t":0.0}') == {"event": "start", "t": 0.0}
    assert decode("Locust is starting") is None
    assert decode("[1, 2]") is None


# --- early verdicts ------------------------------------------------------------------------


def _interval(low: float, high: float) -> Interval:
    return Interval((low + high) / 2, low, high, 0.95, 100, "test")


def test_a_growing_count_fails_early_but_passes_only_at_the_end() -> None:
    no_errors = parse_condition("<= 0")
    assert early_verdict("errors.count", no_errors, exact(0, 0.95)) == Verdict.INCONCLUSIVE
    assert early_verdict("errors.count", no_errors, exact(2, 0.95)) == Verdict.FAIL
    enough = parse_condition(">= 1000")
    assert early_verdict("requests", enough, exact(1500, 0.95)) == Verdict.PASS
    assert early_verdict("requests", enough, exact(500, 0.95)) == Verdict.INCONCLUSIVE
    fast = parse_condition("< 1s")
    assert early_verdict("latency.max", fast, exact(0.2, 0.95)) == Verdict.INCONCLUSIVE
    assert early_verdict("latency.max", fast, exact(1.2, 0.95)) == Verdict.FAIL


def test_an_estimated_figure_is_decided_as_at_the_end() -> None:
    fast = parse_condition("< 200ms")
    assert early_verdict("latency.p95", fast, _interval(0.05, 0.1)) == Verdict.PASS
    assert early_verdict("latency.p95", fast, _interval(0.25, 0.3)) == Verdict.FAIL
    assert early_verdict("latency.p95", fast, _interval(0.1, 0.3)) == Verdict.INCONCLUSIVE


@given(
    st.sampled_from(sorted(GROWING)),
    st.sampled_from(["<", "<=", ">", ">="]),
    st.floats(0, 1000, allow_nan=False),
    st.floats(0, 1000, allow_nan=False),
    st.floats(0, 1000, allow_nan=False),
)
def test_growing_counts_are_never_decided_early_in_the_direction_growth_can_undo(
    metric: str, op: str, bound: float, a: float, b: float
) -> None:
    low, high = min(a, b), max(a, b)
    condition = parse_condition(f"{op} {bound}{'s' if metric == 'latency.max' else ''}")
    interval = _interval(low, high)
    early = early_verdict(metric, condition, interval)
    assert early in (decide(interval, condition.op, condition.bound), Verdict.INCONCLUSIVE)
    can_still_grow_past = op in ("<", "<=")
    assert early != (Verdict.PASS if can_still_grow_past else Verdict.FAIL)


# --- generator saturation ------------------------------------------------------------------


def test_saturation_by_cpu() -> None:
    reason = saturation_reason(GENERATOR_SATURATION_CORES + 0.05, [])
    assert reason is not None and "saturated" in reason and "cores" in reason
    assert saturation_reason(GENERATOR_SATURATION_CORES - 0.3, [0.0] * 100) is None


def test_saturation_by_event_loop_lag() -> None:
    late, on_time = LAG_LIMIT_S * 3, LAG_LIMIT_S / 10
    lagging = [late] * 10 + [on_time] * 40  # 20% late
    reason = saturation_reason(0.2, lagging)
    assert reason is not None and "fell behind" in reason and "20%" in reason
    assert saturation_reason(0.2, [late] * 5 + [on_time] * 45) is None  # 10%: not over
    few = [late] * (LAG_MIN_SAMPLES - 1)
    assert saturation_reason(0.2, few) is None  # too few samples to say
