"""A target that answered and then hung is told apart from one that stalls now and then,
one still answering (even with 500s), and one whose last requests are merely in flight."""

from __future__ import annotations

from infratest.workloads.answering import stopped_answering_reason
from infratest.workloads.load_record import OutcomeCounts


def _outcomes(windows: list[tuple[int, dict[str, int]]]) -> OutcomeCounts:
    """Per send window: successes and failures by kind."""
    out = OutcomeCounts()
    for w, (ok, kinds) in enumerate(windows):
        out.ok[w] = ok
        out.failed[w] = sum(kinds.values())
        out.timeouts[w] = kinds.get("timeout", 0)
        out.kinds_at[w] = dict(kinds)
    return out


def test_answers_then_only_timeouts_is_a_target_that_stopped_answering() -> None:
    reason = stopped_answering_reason(
        _outcomes([(20, {"timeout": 2}), (0, {"timeout": 2}), (0, {"timeout": 2})])
    )
    assert reason is not None
    assert "stopped answering" in reason and "second 1" in reason and "timeout ×4" in reason


def test_one_silent_second_is_a_stall_not_a_hang() -> None:
    assert stopped_answering_reason(_outcomes([(20, {}), (5, {}), (0, {"timeout": 2})])) is None


def test_timeouts_between_answers_are_measured_not_an_error() -> None:
    windows = [(9, {"timeout": 1}), (0, {"timeout": 2}), (9, {"timeout": 1}), (0, {"timeout": 1})]
    assert stopped_answering_reason(_outcomes(windows)) is None


def test_a_target_answering_500s_is_still_answering() -> None:
    windows = [(20, {}), (0, {"HTTP 500": 5}), (0, {"HTTP 500": 5}), (0, {"HTTP 500": 5})]
    assert stopped_answering_reason(_outcomes(windows)) is None


def test_requests_in_flight_at_the_end_are_not_lost() -> None:
    # a slow target: the last seconds' requests have not failed, they are unanswered yet
    assert stopped_answering_reason(_outcomes([(10, {}), (0, {}), (0, {}), (0, {})])) is None


def test_a_target_that_never_answered_is_left_to_the_no_answer_reason() -> None:
    assert stopped_answering_reason(_outcomes([(0, {"timeout": 2}), (0, {"timeout": 2})])) is None
