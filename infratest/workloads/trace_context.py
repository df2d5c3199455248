"""W3C trace context on every request infratest sends: a fresh `traceparent` (and the same id
as `x-request-id`), so a failing or slow request can be found in the system's traces and logs.

The trace id rides in the request's Locust `context`, so the recorder can list the requests it
belongs to. A scenario that sets its own `traceparent` keeps it (and its id is listed).
Used inside the Locust processes; imports no Locust.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any, Final

TRACE_KEY: Final = "infratest_trace"  # request context: the request's trace id
TRACEPARENT: Final = "traceparent"
REQUEST_ID: Final = "x-request-id"
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")


def traceparent(trace_id: str, span_id: str) -> str:
    """The header value: version 00, sampled."""
    return f"00-{trace_id}-{span_id}-01"


def trace_of(headers: Mapping[str, str]) -> str | None:
    """The trace id of a `traceparent` among `headers`, if one is there and well formed."""
    value = next((v for k, v in headers.items() if k.lower() == TRACEPARENT), None)
    match = _TRACEPARENT.match(value.strip().lower()) if value else None
    return match[1] if match else None


def traced(kwargs: dict[str, Any]) -> str:
    """Give one send's client arguments their trace headers and context; its trace id."""
    headers = dict(kwargs.get("headers") or {})
    trace_id = trace_of(headers)
    if trace_id is None:
        random = os.urandom(24).hex()
        trace_id, span_id = random[:32], random[32:]
        headers[TRACEPARENT] = traceparent(trace_id, span_id)
        if not any(k.lower() == REQUEST_ID for k in headers):
            headers[REQUEST_ID] = trace_id
    kwargs["headers"] = headers
    context = dict(kwargs.get("context") or {})
    context[TRACE_KEY] = trace_id
    kwargs["context"] = context
    return trace_id
