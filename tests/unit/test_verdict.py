"""Verdicts from intervals: pass when the whole interval meets the condition, fail when none
of it does, inconclusive in between; assumption verdicts aggregate their checks."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infratest.measurements import Measurements
from infratest.stats import Interval, exact
from infratest.units import parse_condition
from infratest.verdict import Verdict, check, decide, evaluate


def iv(value: float, low: float, high: float) -> Interval:
    return Interval(value, low, high, 0.95, 100, "test")


@pytest.mark.parametrize(
    ("interval", "op", "bound", "verdict"),
    [
        (iv(0.04, 0.03, 0.05), "<", 0.2, Verdict.PASS),
        (iv(0.30, 0.25, 0.35), "<", 0.2, Verdict.FAIL),
        (iv(0.19, 0.15, 0.25), "<", 0.2, Verdict.INCONCLUSIVE),
        (iv(0.19, 0.15, math.inf), "<", 0.2, Verdict.INCONCLUSIVE),
        (iv(0.2, 0.2, 0.2), "<", 0.2, Verdict.FAIL),
        (iv(0.2, 0.2, 0.2), "<=", 0.2, Verdict.PASS),
        (iv(100, 90, 110), ">=", 50, Verdict.PASS),
        (iv(40, 30, 45), ">=", 50, Verdict.FAIL),
        (iv(55, 45, 65), ">", 50, Verdict.INCONCLUSIVE),
        (iv(math.nan, -math.inf, math.inf), "<", 1, Verdict.INCONCLUSIVE),
    ],
)
def test_decide(interval: Interval, op: str, bound: float, verdict: Verdict) -> None:
    assert decide(interval, op, bound) == verdict


_finite = st.floats(-1e6, 1e6, allow_nan=False)


@given(a=_finite, b=_finite, c=_finite, bound=_finite, op=st.sampled_from(["<", "<=", ">", ">="]))
def test_pass_and_fail_are_each_all_or_nothing(a, b, c, bound, op) -> None:
    low, value, high = sorted((a, b, c))
    verdict = decide(iv(value, low, high), op, bound)
    from infratest.units import compare

    ends = {compare(low, op, bound), compare(high, op, bound), compare(value, op, bound)}
    if verdict == Verdict.PASS:
        assert ends == {True}
    elif verdict == Verdict.FAIL:
        assert ends == {False}
    else:
        assert ends == {True, False}


def _measured(**values: Interval) -> Measurements:
    return Measurements(values={k.replace("_", "."): v for k, v in values.items()})


def test_any_fail_fails_the_assumption_and_the_reason_names_it() -> None:
    expect = {"latency.p95": parse_condition("< 200ms"), "errors.rate": parse_condition("< 1%")}
    outcome = evaluate(
        expect, _measured(latency_p95=iv(0.05, 0.04, 0.06), errors_rate=iv(0.2, 0.15, 0.25))
    )
    assert outcome.verdict == Verdict.FAIL
    assert "errors.rate 20%" in outcome.reason and "misses < 1%" in outcome.reason


def test_all_pass_passes_and_missing_metric_is_inconclusive() -> None:
    expect = {"latency.p95": parse_condition("< 200ms")}
    assert evaluate(expect, _measured(latency_p95=iv(0.05, 0.04, 0.06))).verdict == Verdict.PASS
    outcome = evaluate(expect, Measurements())
    assert outcome.verdict == Verdict.INCONCLUSIVE
    assert "was not measured" in outcome.reason


def test_a_saturated_generator_cannot_pass() -> None:
    expect = {
        "latency.p95": parse_condition("< 200ms"),
        "generator.cpu.peak": parse_condition("< 200%"),
    }
    found = _measured(latency_p95=iv(0.05, 0.04, 0.06), generator_cpu_peak=exact(0.97, 0.95))
    found.untrusted = "the load generator was saturated"
    found.untrusted_except = frozenset({"generator.cpu.peak"})
    outcome = evaluate(expect, found)
    assert outcome.verdict == Verdict.INCONCLUSIVE
    assert "saturated" in outcome.reason
    assert outcome.checks[1].verdict == Verdict.PASS  # its own CPU is measured fine


def test_a_saturated_generator_neither_passes_nor_fails_latency_but_errors_stand() -> None:
    expect = {
        "latency.p95": parse_condition("< 10ms"),
        "errors.rate": parse_condition("< 1%"),
    }
    found = _measured(latency_p95=iv(0.05, 0.04, 0.06), errors_rate=iv(0.2, 0.15, 0.25))
    found.untrusted = "the load generator was saturated"
    found.untrusted_except = frozenset({"errors.rate"})
    outcome = evaluate(expect, found)
    verdicts = {c.metric: c.verdict for c in outcome.checks}
    assert verdicts == {"latency.p95": Verdict.INCONCLUSIVE, "errors.rate": Verdict.FAIL}
    assert outcome.verdict == Verdict.FAIL


def test_a_measurement_error_is_an_error_with_its_reason() -> None:
    found = Measurements(error="the target did not answer: ConnectionRefusedError")
    outcome = evaluate({"latency.p95": parse_condition("< 1s")}, found)
    assert outcome.verdict == Verdict.ERROR
    assert "ConnectionRefusedError" in outcome.reason


def test_a_run_held_back_by_its_target_can_fail_but_not_pass() -> None:
    found = Measurements()
    found.add("latency.p95", Interval(0.9, 0.8, 1.0, 0.95, 500, "order-statistic"))
    found.untrusted = "only 600 of the 1000 scheduled arrivals were sent"
    assert check("latency.p95", parse_condition("< 200ms"), found).verdict == Verdict.INCONCLUSIVE
    found.untrusted_fails_stand = True
    assert check("latency.p95", parse_condition("< 200ms"), found).verdict == Verdict.FAIL
    passing = check("latency.p95", parse_condition("< 5s"), found)
    assert passing.verdict == Verdict.INCONCLUSIVE and "scheduled arrivals" in passing.reason
