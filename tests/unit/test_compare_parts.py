"""The pure parts of a compare: the ABBA layout both processes must agree on, signed bounds,
reading and comparing answers, and the inputs file."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from infratest.spec.inputs_file import InputsError, inputs_path, read_inputs
from infratest.units import Dimension, QuantityError, format_change, parse_condition
from infratest.windows import Censored
from infratest.workloads.answers import MISSING, abs_diff, agree, answer_at, argmax
from infratest.workloads.compare_split import side_record
from infratest.workloads.load_record import LoadRecord
from infratest.workloads.rounds import BASELINE, CANDIDATE, RoundLayout


def test_blocks_follow_abba_order() -> None:
    layout = RoundLayout(rounds=4, block_s=2, measure_start_s=3.0)
    sides = [layout.side_of_block(b) for b in range(layout.blocks)]
    assert sides == [BASELINE, CANDIDATE, CANDIDATE, BASELINE] * 2
    assert layout.measured_s == 16
    assert layout.side_at(3.0) == BASELINE and layout.side_at(5.2) == CANDIDATE
    assert layout.side_at(0.5) == 0 and layout.side_at(1.5) == 1  # warm-up alternates


@given(
    rounds=st.integers(1, 12),
    start=st.floats(0, 30, allow_nan=False),
    extra=st.floats(0, 40, allow_nan=False),
)
def test_layout_fits_and_both_sides_get_equal_time(rounds: int, start: float, extra: float) -> None:
    duration = start + 2 * rounds + extra
    layout = RoundLayout.fitted(rounds, start, duration)
    assert layout.measured_s <= duration - start + 1e-6
    assert layout.measured_s + 2 * rounds > duration - start  # the longest whole blocks
    a, b = layout.windows_of(BASELINE), layout.windows_of(CANDIDATE)
    assert len(a) == len(b) == layout.measured_s // 2
    assert sorted(a + b) == list(range(layout.measured_s))
    # the child picks a host by send time; the parent files by window: they agree
    for w in range(layout.measured_s):
        assert layout.side_at(start + w + 0.5) == layout.side_of_window(w)


@given(rounds=st.integers(1, 12).map(lambda r: 2 * r))
def test_an_even_number_of_rounds_balances_a_linear_drift(rounds: int) -> None:
    layout = RoundLayout(rounds=rounds, block_s=1, measure_start_s=0.0)
    a, b = layout.windows_of(BASELINE), layout.windows_of(CANDIDATE)
    assert sum(a) == sum(b)  # the mean time of each side's windows is the same


def test_blocks_must_fit() -> None:
    with pytest.raises(ValueError, match="8 blocks"):
        RoundLayout.fitted(4, 2.0, 9.0)


@pytest.mark.parametrize(
    ("text", "bound", "change", "dimension"),
    [
        ("<= +10%", 0.10, "relative", Dimension.RATIO),
        (">= -5%", -0.05, "relative", Dimension.RATIO),
        ("<= +5ms", 0.005, "absolute", Dimension.DURATION),
        ("<= +0.5pp", 0.005, "absolute", Dimension.RATIO),
        ("<= +20MiB", 20 * 2**20, "absolute", Dimension.BYTES),
        ("< 200ms", 0.2, None, Dimension.DURATION),
    ],
)
def test_signed_bounds_are_changes(text: str, bound: float, change: str | None, dimension) -> None:
    condition = parse_condition(text)
    assert math.isclose(condition.bound, bound)
    assert condition.change == change and condition.dimension == dimension


@pytest.mark.parametrize("text", ["<= +10", "<= +x%", "<= +5ppm", "<= +ms"])
def test_a_change_needs_a_unit(text: str) -> None:
    with pytest.raises(QuantityError):
        parse_condition(text)


@given(st.floats(-10, 10, allow_nan=False).filter(lambda x: abs(x) > 1e-6))
def test_changes_format_with_their_sign(value: float) -> None:
    shown = format_change(value, "relative", Dimension.DURATION)
    assert shown[0] == ("+" if value > 0 else "-") and shown.endswith("%")
    assert format_change(value / 100, "absolute", Dimension.RATIO).endswith("pp")
    assert parse_condition(f"<= {format_change(value, 'absolute', Dimension.DURATION)}").change


def test_answers_are_read_at_their_dot_path() -> None:
    doc = {"outputs": [{"label": "cat", "scores": [0.1, 0.7, 0.2]}], "prediction": 3}
    assert answer_at(doc, "prediction") == 3
    assert answer_at(doc, "outputs.0.label") == "cat"
    assert answer_at(doc, "outputs.-1.scores") == [0.1, 0.7, 0.2]
    assert answer_at(doc, "outputs.1.label") is MISSING
    assert answer_at(doc, "prediction.x") is MISSING


def test_answers_agree_exactly_within_a_tolerance_or_on_the_argmax() -> None:
    assert agree("cat", "cat") and not agree("cat", "dog")
    assert not agree(0.5, 0.5004) and agree(0.5, 0.5004, tolerance=1e-3)
    assert agree([0.1, 0.9], [0.1005, 0.8999], tolerance=1e-3)
    assert not agree([0.1, 0.9], [0.1, 0.9, 0.0], tolerance=1.0)  # another shape
    assert agree([0.1, 0.7, 0.2], [0.3, 0.4, 0.3], agree_on="argmax")
    assert not agree([0.1, 0.7], [0.8, 0.2], agree_on="argmax")
    assert not agree("x", "x", agree_on="argmax")  # no scores to take the largest of
    assert argmax([1, 3, 3]) == 1
    assert abs_diff([1.0, 2.0], [1.5, 1.0]) == 1.0 and abs_diff("a", "b") is None
    assert abs_diff(True, 1) is None  # a boolean is not a score


@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=8))
def test_an_answer_agrees_with_itself(scores: list[float]) -> None:
    assert agree(scores, list(scores)) and agree(scores, scores, agree_on="argmax")
    assert abs_diff(scores, scores) == 0.0


def test_inputs_are_read_line_by_line(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"a": 1}\n\n[1, 2]\n"text"\n')
    assert read_inputs(path) == [{"a": 1}, [1, 2], "text"]
    assert read_inputs(path, limit=2) == [{"a": 1}, [1, 2]]
    assert inputs_path(str(tmp_path / "s.yaml"), "in.jsonl") == path
    path.write_text('{"a": 1}\n{"a": \n')
    with pytest.raises(InputsError, match=r"in.jsonl:2: not a JSON value"):
        read_inputs(path)
    path.write_text("\n")
    with pytest.raises(InputsError, match="holds no JSON bodies"):
        read_inputs(path)
    with pytest.raises(InputsError, match="cannot read"):
        read_inputs(tmp_path / "missing.jsonl")


def _record(layout: RoundLayout) -> LoadRecord:
    """Window w holds requests of latency (w + 1) ms; window 5 also failed twice."""
    record = LoadRecord(layout.measure_start_s, layout.measure_start_s + layout.measured_s, 2.0)
    for w in range(layout.measured_s):
        record.successful.add(w, [(w + 1) / 1000], [10])
        record.everything.add(w, [(w + 1) / 1000], [10])
        record.outcomes.ok[w] = 10
    record.outcomes.failed[5] = 2
    record.outcomes.kinds_at[5] = {"HTTP 500": 2}
    record.everything.add(5, [0.5], [2])
    record.pin(float(layout.measured_s), Censored(np.array([6]), np.array([1.5]), 2.0))
    return record


def test_each_side_gets_the_windows_of_its_blocks() -> None:
    layout = RoundLayout(rounds=2, block_s=2, measure_start_s=1.0)  # A A B B B B A A
    record = _record(layout)
    base = side_record(record, layout, BASELINE)
    cand = side_record(record, layout, CANDIDATE)
    assert [w for w, _, _ in base.successful.per_window()] == [0, 1, 2, 3]
    values = [float(v[0]) for _, v, _ in base.successful.per_window()]
    assert values == [0.001, 0.002, 0.007, 0.008]  # windows 0, 1, 6, 7 of the run
    assert cand.counts().failed == 2 and cand.outcomes.kinds == {"HTTP 500": 2}
    assert base.counts().failed == 0 and cand.counts().unanswered == 0
    assert base.counts().unanswered == 1  # the request still waiting in window 6 is A's
    assert cand.measured_seconds == base.measured_seconds == 4.0
