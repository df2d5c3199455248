"""The report's list of requests by trace id: the first failed requests and the slowest, each
linked to the tracing UI when the config gives `trace_url`, with the target's own log lines
about it. Open by default when the assumption did not pass; escaped like every other cell."""

from __future__ import annotations

from typing import Any

from infratest.results.html_markup import e, table
from infratest.results.view import Entry, quantity

SHOWN_LOG_LINES = 3


def _trace_cell(trace: dict[str, Any]) -> str:
    trace_id = f"<code>{e(trace.get('trace_id'))}</code>"
    url = str(trace.get("url") or "")
    if url.startswith(("https://", "http://")):
        return f'<a href="{e(url)}" rel="noreferrer">{trace_id}</a>'
    return trace_id


def _row(trace: dict[str, Any]) -> list[str]:
    log = trace.get("log") or []
    lines = "<br>".join(f'<code class="long">{e(line)}</code>' for line in log[:SHOWN_LOG_LINES])
    status = trace.get("status") or "no answer"
    sent = f"{float(trace.get('t_s') or 0):.3f} s"
    return [
        _trace_cell(trace),
        f'<span class="num">{e(sent)}</span>',
        e(trace.get("request")),
        e(status),
        e(quantity("latency.max", trace.get("latency_s"))),
        e(trace.get("error") or ""),
        lines,
    ]


def traces_section(entry: Entry) -> str:
    """The failed and slowest requests of a load, '' when it listed none."""
    traces = entry.get("traces")
    if not isinstance(traces, dict):
        return ""
    failed = [t for t in traces.get("failed") or [] if isinstance(t, dict)]
    slowest = [t for t in traces.get("slowest") or [] if isinstance(t, dict)]
    if not failed and not slowest:
        return ""
    head = ["Trace", "Sent at", "Request", "Status", "Latency", "Error", "Target log"]
    parts = []
    for title, rows in (("First failed requests", failed), ("Slowest requests", slowest)):
        if rows:
            parts.append(f"<h4>{e(title)} ({len(rows)})</h4>{table(head, [_row(t) for t in rows])}")
    shown = " open" if entry.get("verdict") != "pass" else ""
    summary = f"Requests by trace id: {len(failed)} failed, {len(slowest)} slowest"
    return f"<details{shown}><summary>{e(summary)}</summary>{''.join(parts)}</details>"
