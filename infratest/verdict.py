"""Deciding `expect` from measurements: each check passes when its whole confidence interval
meets the condition, fails when none of it does, and is inconclusive in between."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from infratest.measurements import Measurements
from infratest.metrics import METRICS
from infratest.stats import Interval
from infratest.units import SI_UNIT, Condition, Dimension, compare, format_change, format_quantity


class Verdict(StrEnum):
    """Outcome of a check or of a whole assumption."""

    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    ERROR = "error"


@dataclass(frozen=True)
class Check:
    """One `expect` condition against one measured interval."""

    metric: str
    condition: Condition
    interval: Interval | None
    verdict: Verdict
    reason: str
    baseline: float | None = None  # compare: the baseline's value a change is taken from

    @property
    def dimension(self) -> Dimension:
        """The metric's dimension, for formatting."""
        return METRICS[self.metric].dimension

    @property
    def condition_text(self) -> str:
        """The condition for people: '< 200ms'."""
        return condition_text(self.metric, self.condition)

    def to_dict(self) -> dict[str, Any]:
        """The results-file form of the check (SI units)."""
        iv = self.interval.to_dict() if self.interval else {}
        change = self.condition.change
        unit = "ratio" if change == "relative" else SI_UNIT[self.dimension]
        extra = {"change": change, "baseline": self.baseline} if change else {}
        return {
            "metric": self.metric,
            "op": self.condition.op,
            "bound": self.condition.bound,
            **extra,
            "unit": unit,
            "value": iv.get("value"),
            "ci_low": iv.get("ci_low"),
            "ci_high": iv.get("ci_high"),
            "confidence": iv.get("confidence"),
            "verdict": self.verdict.value,
            "reason": self.reason,
        }


@dataclass
class Outcome:
    """The verdict of one assumption with its checks and why."""

    verdict: Verdict
    reason: str
    checks: list[Check] = field(default_factory=list)


def decide(interval: Interval, op: str, bound: float) -> Verdict:
    """pass when every value in the interval meets ``op bound``, fail when none does."""
    if math.isnan(interval.value):
        return Verdict.INCONCLUSIVE
    lower_is_better = op in ("<", "<=")
    optimistic = interval.low if lower_is_better else interval.high
    pessimistic = interval.high if lower_is_better else interval.low
    if compare(pessimistic, op, bound):
        return Verdict.PASS
    if not compare(optimistic, op, bound):
        return Verdict.FAIL
    return Verdict.INCONCLUSIVE


def describe_interval(interval: Interval, dimension: Dimension) -> str:
    """'41.2ms (95% CI 39.8ms..43.1ms)', or just the value when it was counted exactly."""
    value = format_quantity(interval.value, dimension)
    if interval.method == "exact":
        return value
    low, high = (format_quantity(x, dimension) for x in (interval.low, interval.high))
    return f"{value} ({interval.confidence:.0%} CI {low}..{high})"


def condition_text(metric: str, condition: Condition) -> str:
    """'< 200ms': the bound in the metric's own units ('<= +10%' for a change)."""
    dimension = METRICS[metric].dimension
    if condition.change is not None:
        return f"{condition.op} {format_change(condition.bound, condition.change, dimension)}"
    return f"{condition.op} {format_quantity(condition.bound, dimension)}"


def describe_change(interval: Interval, change: str, dimension: Dimension) -> str:
    """'+19.8% (95% CI +15.1%..+24.9%)': a change from the baseline with its interval."""
    value = format_change(interval.value, change, dimension)
    low, high = (format_change(x, change, dimension) for x in (interval.low, interval.high))
    return f"{value} ({interval.confidence:.0%} CI {low}..{high})"


def _explain(metric: str, condition: Condition, interval: Interval, verdict: Verdict) -> str:
    measured = describe_interval(interval, METRICS[metric].dimension)
    bound = condition_text(metric, condition)
    if math.isnan(interval.value):
        return f"{metric}: no samples to decide {bound}"
    if verdict == Verdict.INCONCLUSIVE:
        return f"{metric} {measured} straddles {bound}: more samples needed to decide"
    word = "meets" if verdict == Verdict.PASS else "misses"
    return f"{metric} {measured} {word} {bound}"


def _explain_change(
    metric: str, condition: Condition, interval: Interval, verdict: Verdict, baseline: float
) -> str:
    dimension = METRICS[metric].dimension
    bound = condition_text(metric, condition)
    of = f"from the baseline's {format_quantity(baseline, dimension)}"
    if math.isnan(interval.value):
        if condition.change == "relative" and baseline == 0:
            return (
                f"{metric}: the baseline's is 0, so a relative change is undefined; "
                "bound the change in the metric's unit"
            )
        return f"{metric}: no samples to decide {bound}"
    measured = f"{metric} {describe_change(interval, condition.change or '', dimension)} {of}"
    if verdict == Verdict.INCONCLUSIVE:
        return f"{measured} straddles {bound}: more samples needed to decide"
    word = "meets" if verdict == Verdict.PASS else "misses"
    return f"{measured} {word} {bound}"


def _looked_up(metric: str, condition: Condition, found: Measurements) -> tuple:
    """(interval, baseline value, reason when missing) for a check's metric."""
    if condition.change is None:
        interval = found.values.get(metric)
        return interval, None, None if interval is not None else f"{metric} was not measured"
    delta = found.changes.get(metric)
    if delta is None:
        return None, None, f"{metric}: no change from the baseline was measured"
    interval = delta.relative if condition.change == "relative" else delta.absolute
    return interval, delta.baseline, None


def check(metric: str, condition: Condition, measurements: Measurements) -> Check:
    """One condition against what was measured (missing metrics are inconclusive); a signed
    bound is decided on the interval of the change from the baseline."""
    interval, baseline, missing = _looked_up(metric, condition, measurements)
    if interval is None:
        return Check(metric, condition, None, Verdict.INCONCLUSIVE, missing)
    verdict = decide(interval, condition.op, condition.bound)
    if baseline is not None:
        reason = _explain_change(metric, condition, interval, verdict, baseline)
    else:
        reason = _explain(metric, condition, interval, verdict)
    if metric in measurements.details and verdict != Verdict.PASS:
        reason += f"; {measurements.details[metric]}"
    if verdict == Verdict.FAIL and measurements.may_fail(metric):
        return Check(metric, condition, interval, verdict, reason, baseline)
    if not measurements.trusted(metric):
        # Neither a pass nor a fail: the figure describes the load generator, not the target
        # (or, held back by the target, a smaller load than asked: it cannot pass).
        why = f"{reason}, but {measurements.untrusted}"
        return Check(metric, condition, interval, Verdict.INCONCLUSIVE, why, baseline)
    return Check(metric, condition, interval, verdict, reason, baseline)


def evaluate(expect: dict[str, Condition], measurements: Measurements) -> Outcome:
    """All checks of an assumption, and the assumption's verdict: any fail fails, all pass
    passes, otherwise inconclusive; a measurement error is an error whatever else holds."""
    checks = [check(metric, condition, measurements) for metric, condition in expect.items()]
    if measurements.error:
        return Outcome(Verdict.ERROR, measurements.error, checks)
    verdicts = {c.verdict for c in checks}
    if Verdict.FAIL in verdicts:
        verdict = Verdict.FAIL
    elif verdicts == {Verdict.PASS}:
        verdict = Verdict.PASS
    else:
        verdict = Verdict.INCONCLUSIVE
    shown = [c for c in checks if c.verdict == verdict] or checks
    return Outcome(verdict, "; ".join(c.reason for c in shown), checks)


def error_outcome(expect: dict[str, Condition], reason: str) -> Outcome:
    """The assumption could not be measured at all."""
    measurements = Measurements(error=reason)
    return evaluate(expect, measurements)
