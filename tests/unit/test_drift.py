"""The drift note: a level shift between the halves of a run is named, steady jitter is not."""

from hypothesis import given
from hypothesis import strategies as st

from infratest.windows import LatencyWindows
from infratest.workloads.drift import latency_drift


def _windows(levels: list[tuple[float, int]]) -> LatencyWindows:
    windows = LatencyWindows()
    for i, (latency, count) in enumerate(levels):
        windows.add(i, [latency], [count])
    return windows


def test_a_fast_then_slow_run_is_named() -> None:
    drift = latency_drift(_windows([(0.002, 70)] * 5 + [(0.2, 16)] * 9))
    assert drift is not None
    assert drift.first_p95_s < 0.01 and drift.last_p95_s >= 0.2
    assert "shifted" in drift.note() and "200ms" in drift.note().replace(" ", "")


def test_too_few_windows_or_requests_say_nothing() -> None:
    assert latency_drift(_windows([(0.002, 70), (0.2, 70), (0.2, 70)])) is None
    assert latency_drift(_windows([(0.002, 5)] * 2 + [(0.2, 5)] * 2)) is None


@given(
    st.floats(min_value=0.0005, max_value=2.0),
    st.lists(st.floats(min_value=0.8, max_value=1.2), min_size=4, max_size=30),
)
def test_steady_latency_within_a_factor_of_two_is_not_a_drift(
    base: float, jitter: list[float]
) -> None:
    assert latency_drift(_windows([(base * j, 30) for j in jitter])) is None
