"""The Markdown summary of a results document, sized for a CI job summary
($GITHUB_STEP_SUMMARY): status first, one row per assumption, capacity, then why things failed.

Only Markdown syntax lives here; the words come from the view model shared with the HTML
report. Like every renderer it reads only the document: nothing is measured again.
"""

from __future__ import annotations

import re
from typing import Any

from infratest.results.compare_view import compare_rows, is_compare, predictions_facts, targets
from infratest.results.failure_kinds import failure_kinds
from infratest.results.view import (
    capacity_facts,
    check_line,
    checks,
    counts_text,
    duration_text,
    entries,
    is_capacity,
    overall_status,
    provenance_rows,
    run_warning,
    saved_seconds,
)

MAX_NOTES = 5
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")


def md(text: Any) -> str:
    """Text safe in a Markdown table cell: no HTML (a ``<`` that could open a tag, comment or
    entity is escaped), no column breaks, one line. "< 200ms" stays readable as written."""
    escaped = _TAG_START.sub("&lt;", str(text).replace("&", "&amp;")).replace("|", "\\|")
    return " ".join(escaped.split())


def _heading(doc: dict[str, Any]) -> str:
    lines = [f"## infratest: {overall_status(doc)}", "", f"**{counts_text(doc) or 'nothing'}**"]
    times = f"{doc.get('started_at') or '?'} → {doc.get('finished_at') or 'unfinished'}"
    host = f" on {md(doc['host'])}" if doc.get("host") else ""
    config = f", config {md(doc['config'])}" if doc.get("config") else ""
    lines += ["", f"Run {md(times)}{host}{config} (infratest {md(doc.get('infratest_version'))})"]
    saved = saved_seconds(doc)
    if saved >= 1:
        lines += ["", f"Stopping once decided saved {saved:.0f} s of measured load."]
    warning = run_warning(doc)
    if warning:
        lines += ["", f"> **Warning:** {warning}"]
    return "\n".join(lines)


def _verdict_table(doc: dict[str, Any]) -> str:
    rows = ["| Verdict | Assumption | Key figures | Time |", "| --- | --- | --- | --- |"]
    for entry in entries(doc):
        figures = "<br>".join(md(check_line(c)) for c in checks(entry)) or "—"
        took = duration_text(entry)
        verdict = md(str(entry.get("verdict", "error")).upper())
        rows.append(f"| {verdict} | {md(entry.get('id', '?'))} | {figures} | {took} |")
    return "\n".join(rows)


def _capacity_section(doc: dict[str, Any]) -> str:
    found = [e for e in entries(doc) if is_capacity(e)]
    if not found:
        return ""
    parts = ["### Capacity"]
    for entry in found:
        rows = [f"**{md(entry.get('id', '?'))}** ({md(entry.get('workload', ''))})", ""]
        rows += ["| Figure | Value |", "| --- | --- |"]
        rows += [f"| {md(label)} | {md(value)} |" for label, value in capacity_facts(entry)]
        for check in checks(entry):
            rows.append(f"| Headroom: {md(check.get('metric'))} | {md(check_line(check))} |")
        parts.append("\n".join(rows))
    return "\n\n".join(parts)


def _compare_table(entry: dict[str, Any]) -> list[str]:
    rows = ["| Metric | Baseline | Candidate | Change | Check |", "| --- | --- | --- | --- | --- |"]
    found = compare_rows(entry)
    for row in [r for r in found if r.check] or found:  # a CI summary shows what was checked
        verdict = str(row.check.get("verdict", "")).upper() if row.check else ""
        check = f"{verdict} {row.condition}".strip()
        cells = (row.metric, row.baseline, row.candidate, row.change, check)
        rows.append("| " + " | ".join(md(cell) for cell in cells) + " |")
    return rows if len(rows) > 2 else []


def _compare_section(doc: dict[str, Any]) -> str:
    found = [e for e in entries(doc) if is_compare(e)]
    if not found:
        return ""
    parts = ["### Baseline vs candidate"]
    for entry in found:
        base, cand = targets(entry)
        lines = [f"**{md(entry.get('id', '?'))}**: {md(cand)} against {md(base)}", ""]
        lines += _compare_table(entry)
        facts = predictions_facts(entry)
        if facts:
            said = "; ".join(f"{fact.label.lower()} {fact.value}" for fact in facts)
            lines += ["", f"Predictions: {md(said)}"]
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def _reasons(doc: dict[str, Any]) -> str:
    lines = []
    for entry in entries(doc):
        verdict = str(entry.get("verdict", "error"))
        if verdict == "pass":
            continue
        lines.append(f"- **{md(verdict.upper())}** {md(entry.get('id', '?'))}: ")
        lines[-1] += md(entry.get("reason") or "no reason given")
        for check in checks(entry):
            if check.get("verdict") != "pass" and check.get("reason") != entry.get("reason"):
                lines.append(f"  - {md(check.get('reason') or check_line(check))}")
        lines += [f"  - {md(kind.line())}" for kind in failure_kinds(entry)]
        notes = entry.get("notes") if isinstance(entry.get("notes"), list) else []
        lines += [f"  - note: {md(note)}" for note in notes[:MAX_NOTES]]
    return "\n".join(["### Why not passing", "", *lines]) if lines else ""


def _provenance(doc: dict[str, Any]) -> str:
    rows = provenance_rows(doc)
    if not rows:
        return ""
    table = ["| Item | Value |", "| --- | --- |"]
    table += [f"| {md(key)} | {md(value)} |" for key, value in rows]
    return "\n".join(["<details><summary>Provenance</summary>", "", *table, "", "</details>"])


def render_markdown(doc: dict[str, Any]) -> str:
    """The whole summary; sections without data are left out."""
    parts = [_heading(doc), _verdict_table(doc), _capacity_section(doc), _compare_section(doc)]
    parts.append(_reasons(doc))
    parts.append(_provenance(doc))
    return "\n\n".join(part for part in parts if part) + "\n"
