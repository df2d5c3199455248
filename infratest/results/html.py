"""The HTML report: one self-contained file (inline CSS, plots as base64 PNG, no scripts, no
external URLs) so it can be attached to a CI run, mailed or archived and still open offline
years later. Every piece of text from the document is escaped: reasons and notes quote what
targets answered, and a report must never run what a target sent."""

from __future__ import annotations

from typing import Any

from infratest.results.body_plots import body_plots_for
from infratest.results.failure_kinds import failure_kinds
from infratest.results.html_compare import compare_section
from infratest.results.html_markup import badge as _badge
from infratest.results.html_markup import e as _e
from infratest.results.html_markup import plots_block
from infratest.results.html_markup import table as _table
from infratest.results.html_traces import traces_section
from infratest.results.plots import load_steps, plots_for, step_axis
from infratest.results.view import (
    Entry,
    capacity_facts,
    check_headroom,
    check_line,
    check_measured_text,
    checks,
    condition_text,
    counts_text,
    duration_text,
    entries,
    headroom_text,
    is_capacity,
    measured_text,
    overall_status,
    provenance_rows,
    quantity,
    request_counts_text,
    run_warning,
    stopping_text,
)

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;
color:#1f2328;background:#f6f8fa}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{margin:0 0 4px;font-size:26px}h2{margin-top:32px;border-bottom:1px solid #d0d7de}
h3{margin:0 0 8px;font-size:17px}
.meta{color:#59636e;font-size:13px}.warning{background:#fff8c5;border:1px solid #d4a72c;
padding:8px 12px;border-radius:6px}
table{border-collapse:collapse;width:100%;margin:8px 0;background:#fff}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef1f4;font-weight:600}td.num{text-align:right;white-space:nowrap}
.badge{display:inline-block;min-width:104px;text-align:center;border-radius:4px;color:#fff;
font-weight:700;font-size:12px;padding:2px 6px}
.pass{background:#1a7f37}.fail{background:#cf222e}.inconclusive{background:#9a6700}
.error{background:#6e40c9}.other{background:#59636e}
.status{font-size:18px;padding:4px 10px}
.assumption{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:16px;
margin:16px 0}
.reason{margin:8px 0}.plots{display:flex;flex-wrap:wrap;gap:12px}
figure{margin:0;flex:0 1 calc(50% - 6px);min-width:320px}figure img{width:100%;height:auto;
border:1px solid #d0d7de}
code{font-size:12px;white-space:nowrap}code.long{white-space:normal;word-break:break-all}
.compare{border-top:1px solid #d0d7de;margin-top:12px}.compare h4{margin:12px 0 4px;font-size:15px}
.baseline-side{color:#4c72b0;font-weight:600}.candidate-side{color:#dd8452;font-weight:600}
"""


def _header(doc: dict[str, Any]) -> str:
    status = overall_status(doc)
    parts = [f"<header><h1>infratest report {_badge(status, ' status')}</h1>"]
    parts.append(f"<p><strong>{_e(counts_text(doc) or 'no assumptions')}</strong></p>")
    meta = (
        f"{_e(doc.get('started_at') or '?')} → {_e(doc.get('finished_at') or 'unfinished')}"
        f" · host {_e(doc.get('host') or '?')} · config {_e(doc.get('config') or '?')}"
        f" · infratest {_e(doc.get('infratest_version') or '?')}"
    )
    parts.append(f'<p class="meta">{meta}</p>')
    warning = run_warning(doc)
    if warning:
        parts.append(f'<p class="warning">Warning: {_e(warning)}</p>')
    return "".join(parts) + "</header>"


def _verdict_table(doc: dict[str, Any]) -> str:
    rows = []
    for index, entry in enumerate(entries(doc)):
        figures = "<br>".join(_e(check_line(c)) for c in checks(entry)) or _e(entry.get("reason"))
        link = f'<a href="#a{index}">{_e(entry.get("id", "?"))}</a>'
        rows.append([_badge(entry.get("verdict")), link, figures, duration_text(entry)])
    table = _table(["Verdict", "Assumption", "Key figures", "Time"], rows)
    return f"<section><h2>Verdicts</h2>{table}</section>"


def _capacity(doc: dict[str, Any]) -> str:
    found = [e for e in entries(doc) if is_capacity(e)]
    if not found:
        return ""
    parts = ["<section><h2>Capacity</h2>"]
    for entry in found:
        rows = [[_e(label), _e(value)] for label, value in capacity_facts(entry)]
        rows += [[f"Headroom: {_e(c.get('metric'))}", _e(check_line(c))] for c in checks(entry)]
        title = f"{_e(entry.get('id', '?'))} ({_e(entry.get('workload', ''))})"
        parts.append(f"<h3>{title}</h3>{_table(['Figure', 'Value'], rows)}")
    return "".join(parts) + "</section>"


def _checks_table(entry: Entry) -> str:
    rows = []
    for check in checks(entry):
        metric = str(check.get("metric", "?"))
        rows.append(
            [
                f"<code>{_e(metric)}</code>",
                _e(condition_text(check)),
                _e(check_measured_text(check)),
                _e(headroom_text(check_headroom(check))),
                _badge(check.get("verdict")),
                _e(check.get("reason")),
            ]
        )
    if not rows:
        return ""
    head = ["Metric", "Condition", "Measured", "Headroom", "Verdict", "Why"]
    return _table(head, rows)


def _metrics_table(entry: Entry) -> str:
    found = entry.get("metrics")
    if not isinstance(found, dict) or not found:
        return ""
    rows = []
    for name, figure in found.items():
        if isinstance(figure, dict):
            detail = f"n={figure.get('n', '?')}, {figure.get('method') or '?'}"
            rows.append([f"<code>{_e(name)}</code>", _e(measured_text(name, figure)), _e(detail)])
    table = _table(["Metric", "Measured", "Samples, method"], rows)
    return f"<details><summary>All measured metrics ({len(rows)})</summary>{table}</details>"


def _step_row(step: Entry, level_key: str) -> list[str]:
    throughput = {
        "value": step.get("throughput"),
        "ci_low": step.get("throughput_low"),
        "ci_high": step.get("throughput_high"),
    }
    meets = step.get("meets_slo")
    verdict = "" if meets is None else _badge("pass" if meets else "fail")
    return [
        _e(step.get(level_key)),
        _e(measured_text("throughput", throughput)),
        _e(quantity("latency.p95", step.get("p95"))),
        _e(quantity("errors.rate", step.get("errors_rate"))),
        _e(quantity("process.rss.peak", step.get("process_rss_peak"))),
        _e(quantity("process.cpu.mean", step.get("process_cpu_mean"))),
        verdict,
        _e(step.get("why") or ""),
    ]


def _steps_table(entry: Entry) -> str:
    kind, steps = load_steps(entry)
    if not steps:
        return ""
    axis = step_axis(steps)
    level = "Rate (1/s)" if axis.key == "rate" else "Users"
    head = [level, "Throughput", "p95", "Errors", "RSS peak", "Target CPU", "SLO", "Why"]
    table = _table(head, [_step_row(step, axis.key) for step in steps])
    return f"<details><summary>{_e(kind)} steps ({len(steps)})</summary>{table}</details>"


def _error_kinds(entry: Entry) -> str:
    rows = [[_e(k.key), _e(k.count), _e(k.examples_text())] for k in failure_kinds(entry)]
    return _table(["Error", "Count", "Examples"], rows) if rows else ""


def _notes(entry: Entry) -> str:
    notes = entry.get("notes")
    if not isinstance(notes, list) or not notes:
        return ""
    return "<ul>" + "".join(f"<li>{_e(note)}</li>" for note in notes) + "</ul>"


def _plots(entry: Entry) -> str:
    return plots_block(plots_for(entry) + body_plots_for(entry))


def _where(entry: Entry) -> str:
    place = f"{entry.get('file') or '?'}:{entry.get('line') or '?'}"
    duration = duration_text(entry)
    took = f" · {duration}" if duration else ""
    facts = [text for text in (request_counts_text(entry), stopping_text(entry)) if text]
    more = "".join(f'<p class="meta">{_e(text)}</p>' for text in facts)
    return (
        f'<p class="meta">{_e(place)} · target {_e(entry.get("target") or "-")} · workload '
        f"{_e(entry.get('workload') or '-')} · started {_e(entry.get('started_at'))}{took}</p>"
        f"{more}"
    )


def _assumption(entry: Entry, index: int) -> str:
    title = f"{_badge(entry.get('verdict'))} {_e(entry.get('id', '?'))}"
    parts = [f'<div class="assumption" id="a{index}"><h3>{title}</h3>', _where(entry)]
    parts.append(f'<p class="reason">{_e(entry.get("reason") or "")}</p>')
    parts += [_checks_table(entry), compare_section(entry), _error_kinds(entry)]
    parts += [traces_section(entry), _notes(entry)]
    parts += [_plots(entry), _steps_table(entry), _metrics_table(entry), "</div>"]
    return "".join(parts)


def _provenance(doc: dict[str, Any]) -> str:
    rows = [[_e(k), f'<code class="long">{_e(v)}</code>'] for k, v in provenance_rows(doc)]
    if not rows:
        return ""
    return f"<section><h2>Provenance</h2>{_table(['Item', 'Value'], rows)}</section>"


def render_html(doc: dict[str, Any]) -> str:
    """The whole report as one HTML document."""
    body = [_header(doc), _verdict_table(doc), _capacity(doc), "<section><h2>Assumptions</h2>"]
    body += [_assumption(entry, i) for i, entry in enumerate(entries(doc))]
    body += ["</section>", _provenance(doc)]
    title = f"infratest: {overall_status(doc)}"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )
