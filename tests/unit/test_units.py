"""Quantities: every unit of the format parses to SI; formatting round-trips; order is kept."""

from __future__ import annotations

import contextlib
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infratest.units import (
    Dimension,
    QuantityError,
    fits,
    format_quantity,
    parse_as,
    parse_condition,
    parse_quantity,
)

D = Dimension


@pytest.mark.parametrize(
    ("text", "value", "dimension"),
    [
        ("200ms", 0.2, D.DURATION),
        ("250us", 250e-6, D.DURATION),
        ("1.5s", 1.5, D.DURATION),
        ("2min", 120.0, D.DURATION),
        ("10m", 600.0, D.DURATION),
        ("1h", 3600.0, D.DURATION),
        ("3 s", 3.0, D.DURATION),
        ("512B", 512.0, D.BYTES),
        ("1KB", 1e3, D.BYTES),
        ("64MB", 64e6, D.BYTES),
        ("1GB", 1e9, D.BYTES),
        ("2TB", 2e12, D.BYTES),
        ("1KiB", 1024.0, D.BYTES),
        ("1.5GiB", 1.5 * 2**30, D.BYTES),
        ("1TiB", 2.0**40, D.BYTES),
        ("100MB/s", 100e6, D.BYTE_RATE),
        ("5MB/min", 5e6 / 60, D.BYTE_RATE),
        ("10MiB/h", 10 * 2**20 / 3600, D.BYTE_RATE),
        ("50/s", 50.0, D.RATE),
        ("300/min", 5.0, D.RATE),
        ("1%", 0.01, D.RATIO),
        ("150%", 1.5, D.RATIO),
        ("0.7", 0.7, D.NUMBER),
    ],
)
def test_every_unit_parses_to_si(text: str, value: float, dimension: Dimension) -> None:
    quantity = parse_quantity(text)
    assert quantity.dimension == dimension
    assert math.isclose(quantity.value, value, rel_tol=1e-12)


@pytest.mark.parametrize(
    ("text", "wanted", "fragment"),
    [
        ("200MB", D.DURATION, 'expected a duration such as "200ms", got "200MB"'),
        ("200", D.DURATION, "expected a duration"),
        ("5%", D.COUNT, "expected a count"),
        ("1.5", D.COUNT, "expected a whole number"),
        ("10 furlongs", D.BYTES, 'unknown unit "furlongs"'),
        ("1mb", D.BYTES, 'did you mean "MB"?'),
        ("5MB/fortnight", D.BYTE_RATE, 'unknown time unit "/fortnight"'),
        ("-5ms", D.DURATION, "non-negative"),
        ("fast", D.DURATION, 'expected a duration such as "200ms", got "fast"'),
    ],
)
def test_bad_quantities_explain_themselves(text: str, wanted: Dimension, fragment: str) -> None:
    with pytest.raises(QuantityError, match=None) as info:
        parse_as(text, wanted)
    assert fragment in str(info.value)


def test_cpu_is_percent_of_a_core_or_a_bare_number() -> None:
    assert parse_as("150%", D.CORES) == pytest.approx(1.5)
    assert parse_as("1.5", D.CORES) == pytest.approx(1.5)


def test_conditions_parse_operator_and_bound() -> None:
    for op in ("<", "<=", ">", ">="):
        condition = parse_condition(f"{op} 200ms")
        assert (condition.op, condition.bound, condition.dimension) == (op, 0.2, D.DURATION)
    assert parse_condition(">=50/s").holds(50.0)
    assert not parse_condition("< 1%").holds(0.01)


@pytest.mark.parametrize("text", ["200ms", "== 5", "<", "", "<< 5"])
def test_bad_conditions(text: str) -> None:
    with pytest.raises(QuantityError):
        parse_condition(text)


def test_bare_numbers_fit_ratio_count_and_cpu_only() -> None:
    assert all(fits(D.NUMBER, d) for d in (D.RATIO, D.COUNT, D.CORES))
    assert not any(fits(D.NUMBER, d) for d in (D.DURATION, D.BYTES, D.RATE, D.BYTE_RATE))
    assert not fits(D.BYTES, D.BYTE_RATE)


_FORMATTED = [D.DURATION, D.BYTES, D.BYTE_RATE, D.RATE, D.RATIO]
_values = st.floats(min_value=1e-9, max_value=1e15, allow_nan=False, allow_infinity=False)


@given(value=_values, dimension=st.sampled_from(_FORMATTED))
def test_format_then_parse_gives_the_value_back(value: float, dimension: Dimension) -> None:
    text = format_quantity(value, dimension, digits=17)
    assert math.isclose(parse_as(text, dimension), value, rel_tol=1e-12), text


@given(value=_values, dimension=st.sampled_from(_FORMATTED))
def test_short_format_is_close(value: float, dimension: Dimension) -> None:
    text = format_quantity(value, dimension)
    assert math.isclose(parse_as(text, dimension), value, rel_tol=5e-3), text


_UNITS = ["us", "ms", "s", "min", "h", "B", "KB", "MiB", "GB", "MB/s", "KiB/min", "/s", "/min", "%"]


@given(
    a=st.decimals(min_value=0, max_value=10**6, places=3),
    b=st.decimals(min_value=0, max_value=10**6, places=3),
    unit=st.sampled_from(_UNITS),
)
def test_parsing_keeps_order(a, b, unit: str) -> None:
    pa, pb = parse_quantity(f"{a}{unit}").value, parse_quantity(f"{b}{unit}").value
    assert (a < b) == (pa < pb) or math.isclose(pa, pb)
    assert (a == b) == (pa == pb)


@given(st.text(max_size=20))
def test_any_text_parses_or_raises_quantity_error(text: str) -> None:
    with contextlib.suppress(QuantityError):
        parse_quantity(text)
    with contextlib.suppress(QuantityError):
        parse_condition(text)
