"""The "Baseline vs candidate" section of an HTML report: the side-by-side table, the
overlaid latency distributions, the per-block figures and the predictions that disagreed.
Answers quote what targets sent, so every one is escaped like any other text."""

from __future__ import annotations

from infratest.results.compare_plots import compare_plots_for
from infratest.results.compare_view import (
    block_rows,
    compare_rows,
    design_facts,
    disagreements,
    is_compare,
    predictions_facts,
)
from infratest.results.html_markup import badge, e, plots_block, table
from infratest.results.view import Entry, Fact


def _facts(facts: list[Fact]) -> str:
    return table(["Figure", "Value"], [[e(f.label), e(f.value)] for f in facts]) if facts else ""


def _side_by_side(entry: Entry) -> str:
    rows = []
    for row in compare_rows(entry):
        verdict = badge(row.check.get("verdict")) if row.check else ""
        check = f"{verdict} {e(row.condition)}".strip()
        cells = [e(row.baseline), e(row.candidate), e(row.change)]
        rows.append([f"<code>{e(row.metric)}</code>", *cells, check])
    if not rows:
        return ""
    head = ["Metric", "Baseline", "Candidate", "Change", "Check"]
    return table(head, rows)


def _side(side: str) -> str:
    kind = side if side in ("baseline", "candidate") else "other"
    return f'<span class="{kind}-side">{e(side)}</span>'


def _blocks(entry: Entry) -> str:
    rows = [[*map(e, r[:2]), _side(r[2]), *map(e, r[3:])] for r in block_rows(entry)]
    if not rows:
        return ""
    head = ["Block", "Round", "Side", "Start", "Requests", "Failed", "p50", "p95"]
    return f"<details><summary>Blocks ({len(rows)})</summary>{table(head, rows)}</details>"


def _predictions(entry: Entry) -> str:
    facts = predictions_facts(entry)
    if not facts:
        return ""
    parts = ["<h4>Predictions</h4>", _facts(facts)]
    found = disagreements(entry)
    if found:
        answers = [(d.index, d.input, d.baseline, d.candidate) for d in found]
        rows = [
            [e(i), *(f'<code class="long">{e(x)}</code>' for x in rest)] for i, *rest in answers
        ]
        head = ["Input #", "Input", "Baseline answered", "Candidate answered"]
        parts.append(f"<p>First {len(found)} inputs answered differently:</p>{table(head, rows)}")
    return "".join(parts)


def compare_section(entry: Entry) -> str:
    """The whole section; '' for an assumption without a baseline."""
    if not is_compare(entry):
        return ""
    parts = ['<section class="compare"><h4>Baseline vs candidate</h4>', _facts(design_facts(entry))]
    parts += [_side_by_side(entry), plots_block(compare_plots_for(entry)), _blocks(entry)]
    parts += [_predictions(entry), "</section>"]
    return "".join(parts)
