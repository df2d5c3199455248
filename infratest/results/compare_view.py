"""What the reports say about a rollout comparison (`compare:` on a load), in plain text.

The side-by-side rows, the design of the run, the per-block figures and the predictions are
worded here once so the HTML report and the Markdown summary agree; both only add markup.
Every key is read defensively: a partial or older document gives fewer rows, never an error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from infratest.results.plots import number, series
from infratest.results.view import (
    Entry,
    Fact,
    change_of,
    checks,
    condition_text,
    dimension,
    measured_text,
    quantity,
)
from infratest.units import Dimension

SIDES = ("baseline", "candidate")
MAX_DISAGREEMENTS = 20


@dataclass(frozen=True)
class CompareRow:
    """One metric of the side-by-side table; `check` is the check decided on it, if any."""

    metric: str
    baseline: str
    candidate: str
    change: str
    check: Entry | None
    condition: str


@dataclass(frozen=True)
class Disagreement:
    """One input the two targets answered differently (texts as the document has them)."""

    index: str
    input: str
    baseline: str
    candidate: str


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def is_compare(entry: Entry) -> bool:
    """Whether the assumption ran against a baseline and a candidate."""
    return bool(series(entry, "compare") or _dict(entry.get("baseline")).get("changes"))


def targets(entry: Entry) -> tuple[str, str]:
    """(baseline target, candidate target) names, '?' when the document does not say."""
    found, compare = _dict(entry.get("baseline")), series(entry, "compare")
    base = found.get("target") or compare.get("baseline_target") or entry.get("target")
    cand = found.get("candidate") or compare.get("candidate_target")
    return str(base or "?"), str(cand or "?")


def _side_interval(entry: Entry, side: str, metric: str) -> dict[str, Any]:
    compare = _dict(series(entry, "compare").get(side))
    if side == "baseline":
        own = _dict(_dict(entry.get("baseline")).get("metrics"))
    else:
        own = _dict(entry.get("metrics"))
    return _dict(own.get(metric)) or _dict(compare.get(metric))


def _default_change(metric: str, delta: dict[str, Any]) -> str:
    """Ratios and zero baselines read as absolute changes (pp); the rest as relative."""
    relative = _dict(delta.get("relative"))
    if dimension(metric) == Dimension.RATIO or not math.isfinite(number(relative.get("value"))):
        return "absolute"
    return "relative"


def _check_on(entry: Entry, metric: str) -> Entry | None:
    found = [c for c in checks(entry) if c.get("metric") == metric]
    changes = [c for c in found if change_of(c) is not None]
    return (changes or found or [None])[0]


def _row(entry: Entry, metric: str, delta: dict[str, Any]) -> CompareRow:
    check = _check_on(entry, metric)
    kind = (change_of(check) if check else None) or _default_change(metric, delta)
    change = measured_text(metric, _dict(delta.get(kind)) | {"change": kind})
    sides = []
    for side in SIDES:
        interval = _side_interval(entry, side, metric)
        sides.append(
            measured_text(metric, interval) if interval else quantity(metric, delta.get(side))
        )
    condition = ""
    if check is not None:
        own = "" if change_of(check) else " (candidate's own)"
        condition = f"{condition_text(check)}{own}"
    return CompareRow(metric, sides[0], sides[1], change, check, condition)


def compare_rows(entry: Entry) -> list[CompareRow]:
    """Every metric with a measured change: checked metrics first, in the checks' order."""
    changes = _dict(_dict(entry.get("baseline")).get("changes"))
    checked = [str(c.get("metric")) for c in checks(entry) if c.get("metric") in changes]
    order = list(dict.fromkeys([*checked, *changes]))
    return [_row(entry, m, _dict(changes[m])) for m in order if isinstance(changes[m], dict)]


def _side_counts(counts: Any) -> str:
    found = _dict(counts)
    if not found:
        return "n/a"
    sent, ok, failed = (found.get(k, "?") for k in ("sent", "ok", "failed"))
    timed_out, unanswered = found.get("timed_out", "?"), found.get("unanswered", "?")
    return f"{sent} sent: {ok} ok, {failed} failed ({timed_out} timed out), {unanswered} unanswered"


def design_facts(entry: Entry) -> list[Fact]:
    """Which targets were compared, in what block order, and the requests each side got."""
    compare = series(entry, "compare")
    base, cand = targets(entry)
    facts = [Fact("Baseline (A)", base), Fact("Candidate (B)", cand)]
    order = compare.get("order")
    if isinstance(order, list) and order:
        letters = " ".join({"baseline": "A", "candidate": "B"}.get(str(s), "?") for s in order)
        block = number(compare.get("block_s"))
        size = f" of {block:g} s" if math.isfinite(block) else ""
        facts.append(Fact("Blocks", f"{compare.get('rounds', '?')} rounds{size}: {letters}"))
    requests = _dict(compare.get("requests"))
    for side, name in zip(SIDES, (base, cand), strict=True):
        if side in requests:
            facts.append(Fact(f"Requests to {side} {name}", _side_counts(requests[side])))
    return facts


def block_rows(entry: Entry) -> list[list[str]]:
    """Per block: block, round, side, start, requests, failed, p50, p95 as text."""
    blocks = series(entry, "compare").get("blocks")
    rows = []
    for block in blocks if isinstance(blocks, list) else []:
        if not isinstance(block, dict):
            continue
        start = number(block.get("start_s"))
        rows.append(
            [str(block.get(k, "?")) for k in ("block", "round", "side")]
            + [f"{start:.1f} s" if math.isfinite(start) else "n/a"]
            + [str(block.get(k, "?")) for k in ("requests", "failed")]
            + [
                quantity("latency.p50", block.get("p50_s")),
                quantity("latency.p95", block.get("p95_s")),
            ]
        )
    return rows


def _problems_text(problems: Any) -> str:
    found = _dict(problems)
    return "; ".join(f"{kind} ×{count}" for kind, count in found.items()) or "none"


def predictions_facts(entry: Entry) -> list[Fact]:
    """Inputs compared and agreed, the agreement with its interval, what had no answer."""
    found = series(entry, "predictions")
    if not found:
        return []
    agreement = _dict(_dict(entry.get("metrics")).get("predictions.agreement"))
    compared, agreed = found.get("compared"), found.get("agreed")
    facts = [Fact("Inputs agreed", f"{agreed if agreed is not None else '?'} of {compared or '?'}")]
    if agreement:
        facts.append(Fact("Agreement", measured_text("predictions.agreement", agreement)))
    if found.get("max_abs_diff") is not None:
        facts.append(Fact("Largest numeric difference", f"{number(found['max_abs_diff']):.4g}"))
    facts.append(
        Fact("Without an answer (counted as disagreeing)", _problems_text(found.get("problems")))
    )
    if found.get("skipped"):
        facts.append(Fact("Inputs skipped", str(found["skipped"])))
    return facts


def disagreements(entry: Entry) -> list[Disagreement]:
    """The first inputs answered differently, as recorded (already truncated by the run)."""
    found = series(entry, "predictions").get("disagreements")
    rows = [d for d in found if isinstance(d, dict)] if isinstance(found, list) else []
    return [
        Disagreement(*(str(d.get(k, "")) for k in ("index", "input", "baseline", "candidate")))
        for d in rows[:MAX_DISAGREEMENTS]
    ]
