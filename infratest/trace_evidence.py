"""The failed and slowest requests of a load, made useful to a person: a link to each trace
(the config's `trace_url` with `{trace_id}` filled in) and, for a managed target, the lines of
its output that mention the request's trace id (servers log the `x-request-id` they were sent)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from infratest.processes import redact
from infratest.traces import TracedRequest, TraceLists

if TYPE_CHECKING:
    from infratest.targets import Target

LINES_PER_TRACE = 5
LINE_CHARS = 300
SCAN_BYTES = 64 * 1024 * 1024  # at most the last 64 MiB of a target's output are searched


def lines_mentioning(
    log: Path | None, ids: set[str], secrets: tuple[str, ...] = ()
) -> dict[str, list[str]]:
    """Per id, the first few output lines that contain it (credentials redacted)."""
    found: dict[str, list[str]] = {}
    if log is None or not ids:
        return found
    try:
        with log.open("rb") as out:
            size = out.seek(0, 2)
            out.seek(max(0, size - SCAN_BYTES))
            for raw in out:
                line = raw.decode("utf-8", "replace")
                for trace_id in ids:
                    if trace_id in line:
                        kept = found.setdefault(trace_id, [])
                        if len(kept) < LINES_PER_TRACE:
                            kept.append(redact(line.rstrip("\n"), secrets)[:LINE_CHARS])
    except OSError:
        return found
    return found


def annotated(
    traces: TraceLists,
    trace_url: str | None,
    log_lines: dict[str, list[str]],
) -> TraceLists:
    """`traces` with each request's link and the output lines that mention it."""

    def one(request: TracedRequest) -> TracedRequest:
        url = trace_url.replace("{trace_id}", request.trace_id) if trace_url else None
        return dataclasses.replace(request, url=url, log=tuple(log_lines.get(request.trace_id, ())))

    return TraceLists(tuple(one(t) for t in traces.failed), tuple(one(t) for t in traces.slowest))


def with_evidence(traces: TraceLists, trace_url: str | None, target: Target | None) -> TraceLists:
    """The load's traces with links, and the managed target's lines about them."""
    process = target.process if target is not None else None
    lines = process.output_lines_mentioning(traces.ids) if process is not None else {}
    return annotated(traces, trace_url, lines)
