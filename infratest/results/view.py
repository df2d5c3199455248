"""The report's view model: what both reports say about a results document, in plain text.

Entries, verdict counts, the overall status, quantities, conditions, measured values,
headroom, capacity and sweep facts and provenance rows are worded here once, so the Markdown
summary and the HTML report say the same thing in the same words and only differ in markup.
Like every renderer it reads only the document: nothing is measured again.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from infratest.metrics import METRICS
from infratest.results.plots import (
    STEP_KEYS,
    capacity_level,
    load_steps,
    metric_value,
    number,
    series,
    step_axis,
)
from infratest.units import (
    Dimension,
    QuantityError,
    format_change,
    format_quantity,
    parse_condition,
)

Entry = dict[str, Any]
VERDICTS = ("pass", "fail", "inconclusive", "error")
# The overall status is the worst verdict present: a false assumption outranks an unchecked one.
SEVERITY = ("fail", "error", "inconclusive", "pass")


class Fact(NamedTuple):
    """One labelled figure of a capacity table or the provenance block."""

    label: str
    value: str


def entries(doc: dict[str, Any]) -> list[Entry]:
    """The assumption entries, ignoring anything malformed."""
    found = doc.get("assumptions")
    return [e for e in found if isinstance(e, dict)] if isinstance(found, list) else []


def verdict_counts(doc: dict[str, Any]) -> dict[str, int]:
    """Assumptions per verdict, counted from the entries so the table and heading agree."""
    counts: dict[str, int] = {}
    for entry in entries(doc):
        verdict = str(entry.get("verdict", "error"))
        counts[verdict] = counts.get(verdict, 0) + 1
    return counts


def overall_status(doc: dict[str, Any]) -> str:
    """PASS only when every assumption passed; otherwise the worst verdict present."""
    counts = verdict_counts(doc)
    if not counts:
        return "NO ASSUMPTIONS"
    worst = next((v for v in SEVERITY if counts.get(v)), None)
    return (worst or "error").upper()


def counts_text(doc: dict[str, Any]) -> str:
    """'3 pass · 1 fail · 1 error' in a fixed order, unknown verdicts last."""
    counts = verdict_counts(doc)
    order = [*VERDICTS, *sorted(set(counts) - set(VERDICTS))]
    return " · ".join(f"{counts[v]} {v}" for v in order if counts.get(v))


def run_warning(doc: dict[str, Any]) -> str | None:
    """Why the results may be partial, or None for a complete run."""
    if doc.get("interrupted"):
        return "the run was interrupted: results are incomplete"
    if doc.get("complete") is False:
        return "the run did not finish: results are incomplete"
    return None


def duration_text(entry: Entry) -> str:
    """'12.3 s' for an assumption's run time ('12.3 s, 10 s saved' when it stopped early);
    '' when it was not recorded."""
    seconds = number(entry.get("duration_s"))
    if not math.isfinite(seconds):
        return ""
    saved = saved_seconds_of(entry)
    return f"{seconds:.1f} s, {saved:.0f} s saved" if saved >= 1 else f"{seconds:.1f} s"


def saved_seconds_of(entry: Entry) -> float:
    """Measured seconds a monitored run did not spend because it stopped once decided."""
    if entry.get("stopped") not in ("decided", "failed"):
        return 0.0
    planned, measured = number(entry.get("planned_s")), number(entry.get("measured_s"))
    return max(planned - measured, 0.0) if math.isfinite(planned - measured) else 0.0


def saved_seconds(doc: dict[str, Any]) -> float:
    """Measured seconds saved over the whole run."""
    return sum(saved_seconds_of(entry) for entry in entries(doc))


def stopping_text(entry: Entry) -> str:
    """How a monitored run ended: 'every check decided after 3.0 s of 15 s measured (12 s
    saved)', or that it ran its full duration and when it was decided; '' for others."""
    stopped = entry.get("stopped")
    if not stopped:
        return ""
    planned = f"{number(entry.get('planned_s')):.0f} s"
    if stopped == "duration":
        decided = number(entry.get("decided_after_s"))
        if math.isfinite(decided) and number(entry.get("planned_s")) - decided >= 1:
            return (
                f"ran its full {planned}; every check was decided after {decided:.1f} s "
                "(`until: decided` would stop there)"
            )
        return f"ran its full {planned}"
    word = {"decided": "every check decided", "failed": "a check failed"}.get(stopped, stopped)
    measured = number(entry.get("measured_s"))
    saved = saved_seconds_of(entry)
    return f"{word} after {measured:.1f} s of {planned} measured ({saved:.0f} s saved)"


def request_counts_text(entry: Entry) -> str:
    """'400 sent: 360 ok, 40 failed (40 timed out), 0 unanswered' for a load run, else ''."""
    counts = ((entry.get("series") or {}).get("load") or {}).get("requests")
    if not counts:
        return ""
    return (
        f"{counts['sent']} sent: {counts['ok']} ok, {counts['failed']} failed "
        f"({counts['timed_out']} timed out), {counts['unanswered']} unanswered"
    )


def dimension(metric: str) -> Dimension:
    """The metric's dimension; unknown metrics are bare numbers."""
    return METRICS[metric].dimension if metric in METRICS else Dimension.NUMBER


def quantity(metric: str, value: Any) -> str:
    """An SI value of `metric` in human units; null is 'n/a'."""
    figure = number(value)
    if math.isnan(figure):
        return "n/a"
    return format_quantity(figure, dimension(metric))


def change_of(figure: Entry) -> str | None:
    """'relative' or 'absolute' when a check's figures are a change from the baseline."""
    change = figure.get("change")
    return change if change in ("relative", "absolute") else None


def figure_text(metric: str, value: Any, change: str | None = None) -> str:
    """A value of `metric`, or a signed change of it ('+16%', '+4.11ms', '+1.91pp')."""
    if change is None:
        return quantity(metric, value)
    return format_change(number(value), change, dimension(metric))


def condition_text(check: Entry) -> str:
    """'< 200ms' ('<= +10%' for a change); a null bound is an infinite one."""
    bound = check.get("bound")
    metric = str(check.get("metric"))
    shown = "∞" if bound is None else figure_text(metric, bound, change_of(check))
    return f"{check.get('op', '?')} {shown}"


def measured_text(metric: str, figure: Entry) -> str:
    """'41.2ms (95% CI 39.8ms..43.1ms)', just the value when there is no interval; a change
    reads '+16% (95% CI +12%..+23.9%)'."""
    change = change_of(figure)
    value = figure_text(metric, figure.get("value"), change)
    low, high = figure.get("ci_low"), figure.get("ci_high")
    if value == "n/a" or low is None or high is None or low == high:
        return value
    confidence = number(figure.get("confidence"))
    level = f"{confidence:.0%} CI" if math.isfinite(confidence) else "CI"
    shown = [figure_text(metric, x, change) for x in (low, high)]
    return f"{value} ({level} {shown[0]}..{shown[1]})"


def baseline_text(check: Entry) -> str:
    """'vs baseline 24.1ms' for a change, '' for a check on the metric's own value."""
    if change_of(check) is None:
        return ""
    return f"vs baseline {quantity(str(check.get('metric')), check.get('baseline'))}"


def check_measured_text(check: Entry) -> str:
    """What a check measured, with the baseline a change was taken from."""
    measured = measured_text(str(check.get("metric", "?")), check)
    extra = baseline_text(check)
    return f"{measured} {extra}" if extra else measured


def headroom_of(value: Any, op: Any, bound: Any) -> float | None:
    """How far a value is from its bound, in % of the bound: positive is room left."""
    value, bound = number(value), number(bound)
    if not (math.isfinite(value) and math.isfinite(bound)) or bound == 0:
        return None
    if op in ("<", "<="):
        return (bound - value) / abs(bound) * 100.0
    if op in (">", ">="):
        return (value - bound) / abs(bound) * 100.0
    return None


def headroom_text(percent: float | None) -> str:
    """'+79%' / '-12%' (over the bound) / 'n/a'."""
    if percent is None:
        return "n/a"
    return f"{percent:+.1f}%" if abs(percent) < 10 else f"{percent:+.0f}%"


def check_headroom(check: Entry) -> float | None:
    """Headroom of one check's point estimate against its bound. None for a change: a share
    of an allowed change ('-60% of +10%') reads as a change itself and misleads."""
    if change_of(check) is not None:
        return None
    return headroom_of(check.get("value"), check.get("op"), check.get("bound"))


VERDICT_WORDS = {"pass": "meets", "fail": "misses", "inconclusive": "straddles"}


def check_line(check: Entry) -> str:
    """'latency.p95 41.2ms vs < 200ms (headroom +79%)' — the key figure of one check; a change
    reads 'latency.p95 +16% (95% CI +12%..+23.9%) vs baseline 24.1ms misses <= +10%'."""
    metric = str(check.get("metric", "?"))
    if change_of(check) is not None:
        word = VERDICT_WORDS.get(str(check.get("verdict")), "against")
        return f"{metric} {check_measured_text(check)} {word} {condition_text(check)}"
    line = f"{metric} {quantity(metric, check.get('value'))} vs {condition_text(check)}"
    room = check_headroom(check)
    return line if room is None else f"{line} (headroom {headroom_text(room)})"


def checks(entry: Entry) -> list[Entry]:
    """An assumption's checks, ignoring anything malformed."""
    found = entry.get("checks")
    return [c for c in found if isinstance(c, dict)] if isinstance(found, list) else []


def is_capacity(entry: Entry) -> bool:
    """Capacity searches and sweeps get the capacity section."""
    return entry.get("workload") in ("capacity", "sweep") or bool(load_steps(entry)[1])


def _metric_text(entry: Entry, name: str) -> str:
    figure = (entry.get("metrics") or {}).get(name)
    return measured_text(name, figure) if isinstance(figure, dict) else "n/a"


def _slo_headroom(entry: Entry, slo: dict[str, Any], level: float | None) -> list[str]:
    steps = load_steps(entry)[1]
    key = step_axis(steps).key
    step = next((s for s in steps if number(s.get(key)) == level), None)
    lines = []
    for metric, text in slo.items():
        key = STEP_KEYS.get(metric)
        if step is None or key is None:
            continue
        try:
            condition = parse_condition(str(text))
        except QuantityError:
            continue
        room = headroom_of(step.get(key), condition.op, condition.bound)
        value = quantity(metric, step.get(key))
        lines.append(f"{metric} {value} vs {text}: {headroom_text(room)}")
    return lines


def _plan_facts(plan: Any) -> list[Fact]:
    if not isinstance(plan, dict):
        return []
    rate = quantity("throughput", plan.get("rate"))
    spare = quantity("errors.rate", plan.get("headroom"))  # a ratio, shown as %
    replicas = plan.get("replicas")
    each = quantity("throughput", plan.get("per_replica_throughput"))
    shown = "n/a" if replicas is None else f"{replicas} ({each} per replica)"
    return [
        Fact("Planned rate", f"{rate} with {spare} headroom"),
        Fact("Replicas for that rate", shown),
    ]


def _capacity_facts(entry: Entry) -> list[Fact]:
    found = series(entry, "capacity")
    users = capacity_level(entry)
    steps = load_steps(entry)[1]
    axis, tried = step_axis(steps), bool(steps)
    limit = axis.text(users) if users is not None else "no load tried met the SLO"
    facts = [Fact("Maximum load under the SLO", limit if users is not None or tried else "n/a")]
    facts.append(Fact("Throughput at that load", _metric_text(entry, "capacity.throughput")))
    slo = found.get("slo") if isinstance(found.get("slo"), dict) else {}
    if slo:
        facts.append(Fact("SLO", "; ".join(f"{k} {v}" for k, v in slo.items())))
        rooms = _slo_headroom(entry, slo, users)
        if rooms:
            facts.append(Fact("SLO headroom at that load", "; ".join(rooms)))
    bracket = found.get("bracket")
    if isinstance(bracket, list) and len(bracket) == 2:
        met = "none" if bracket[0] is None else axis.text(number(bracket[0]))
        missed = "none tried" if bracket[1] is None else axis.text(number(bracket[1]))
        facts.append(Fact("Search bracket", f"largest met: {met}; smallest missed: {missed}"))
    return facts + _plan_facts(found.get("plan"))


def _usl_text(usl: Any) -> str:
    if not isinstance(usl, dict):
        return "not fitted"
    if not usl.get("ok"):
        return f"not usable: {usl.get('reason') or 'no reason given'}"
    peak = quantity("usl.peak_throughput", usl.get("peak_throughput"))
    users = quantity("usl.peak_users", usl.get("peak_users"))
    fit = ", ".join(f"{k}={number(usl.get(k)):.3g}" for k in ("sigma", "kappa", "r2"))
    if users == "n/a":
        return f"no peak: throughput keeps rising ({fit})"
    return f"peak {peak if peak != 'n/a' else 'throughput'} at {users} users ({fit})"


def _sweep_facts(entry: Entry) -> list[Fact]:
    steps = load_steps(entry)[1]
    axis = step_axis(steps)
    best = max(steps, key=lambda s: _finite_or(s.get("throughput")), default=None)
    peak = "n/a"
    if best is not None and math.isfinite(number(best.get("throughput"))):
        at = axis.text(number(best.get(axis.key)))
        peak = f"{quantity('throughput', best.get('throughput'))} at {at}"
    return [
        Fact("Peak measured throughput", peak),
        Fact("USL fit", _usl_text(series(entry, "sweep").get("usl"))),
        Fact("Scaling efficiency", _metric_text(entry, "scaling.efficiency")),
    ]


def _finite_or(value: Any) -> float:
    figure = number(value)
    return figure if math.isfinite(figure) else -math.inf


def capacity_facts(entry: Entry) -> list[Fact]:
    """Label/value pairs of a capacity search or sweep; [] for other assumptions."""
    if not is_capacity(entry):
        return []
    if not load_steps(entry)[1] and not entry.get("metrics"):
        return [Fact("No figures", str(entry.get("reason") or "nothing was measured"))]
    is_search = series(entry, "capacity") or entry.get("workload") == "capacity"
    searched = ("capacity.users", "capacity.rate")
    if is_search or any(math.isfinite(metric_value(entry, name)) for name in searched):
        return _capacity_facts(entry)
    return _sweep_facts(entry)


def provenance_rows(doc: dict[str, Any]) -> list[Fact]:
    """The provenance block flattened to rows; scenario files get one row each."""
    found = doc.get("provenance")
    if not isinstance(found, dict):
        return []
    rows: list[Fact] = []
    for key, value in found.items():
        if isinstance(value, dict):
            rows += [Fact(f"{key}: {name}", str(digest)) for name, digest in value.items()]
        else:
            rows.append(Fact(str(key), "" if value is None else str(value)))
    times = [Fact(key, str(doc[key])) for key in ("started_at", "finished_at") if doc.get(key)]
    return rows + [row for row in times if row.label not in found]
