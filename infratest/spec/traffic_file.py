"""Recorded traffic for the `replay` workload: a JSONL file (one request a line, with `t`,
`method`, `path` and optionally `body` and `headers`) or a HAR file from a browser or a proxy.

Read at validation (so a bad line is reported with its number, not mid-run) and again, cached,
when the workload runs. Recorded hosts are kept only as data: where each request is sent is the
workload's decision, and the allow-list's.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from infratest.spec.text_files import read_utf8
from infratest.spec.traffic import METHODS

MAX_REQUESTS: Final = 1_000_000  # a replay holds its timeline in memory: refuse larger files
# Headers a replay never resends from a recording: hop-by-hop and client state belong to the
# recording's connection, and credentials must come from the scenario, not from a file.
DROPPED_HEADERS: Final = frozenset(
    {
        "authorization",
        "connection",
        "content-length",
        "cookie",
        "host",
        "keep-alive",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "accept-encoding",
    }
)


class TrafficFileError(ValueError):
    """The traffic file cannot be replayed; the message names the file and line."""


@dataclass(frozen=True)
class RecordedRequest:
    """One request of a recording: when it was sent (seconds from the first), and what."""

    t_s: float
    method: str
    target: str  # "/path?query", or an absolute URL as recorded
    body: str | None  # the body as sent, encoded
    content_type: str | None
    headers: tuple[tuple[str, str], ...]
    line: int  # where it is in the file (JSONL line; HAR: the entry's number)

    @property
    def path(self) -> str:
        """The path without query or host: what the request is named by."""
        return urlsplit(self.target).path or "/"

    @property
    def origin(self) -> str | None:
        """scheme://host[:port] of an absolute URL; None for a bare path."""
        parts = urlsplit(self.target)
        return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None

    @property
    def path_and_query(self) -> str:
        parts = urlsplit(self.target)
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


@dataclass(frozen=True)
class RecordedTraffic:
    """A whole recording, in send order."""

    file: str
    kind: str  # "jsonl" or "har"
    requests: tuple[RecordedRequest, ...]

    @property
    def span_s(self) -> float:
        """From the first request's send time to the last's."""
        return self.requests[-1].t_s if self.requests else 0.0


def read_traffic(path: Path) -> RecordedTraffic:
    """The recording in `path` (HAR by its `.har` suffix, else JSONL), times from 0, sorted."""
    return _read_cached(str(path), _mtime(path))


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError as exc:
        raise TrafficFileError(f"cannot read traffic file {path}: {exc.strerror or exc}") from None


@functools.lru_cache(maxsize=8)
def _read_cached(file: str, _mtime: float) -> RecordedTraffic:
    path = Path(file)
    text = read_utf8(path, "traffic file", TrafficFileError)
    is_har = path.suffix.lower() == ".har"
    rows = list(_har_rows(path, text) if is_har else _jsonl_rows(path, text))
    if not rows:
        raise TrafficFileError(f"traffic file {path} holds no requests")
    if len(rows) > MAX_REQUESTS:
        raise TrafficFileError(
            f"traffic file {path} holds {len(rows)} requests, more than a replay takes "
            f"({MAX_REQUESTS}); split it"
        )
    first = min(r.t_s for r in rows)
    ordered = sorted(rows, key=lambda r: (r.t_s, r.line))
    shifted = tuple(
        RecordedRequest(
            round(r.t_s - first, 6), r.method, r.target, r.body, r.content_type, r.headers, r.line
        )
        for r in ordered
    )
    return RecordedTraffic(str(path), "har" if is_har else "jsonl", shifted)


# --- JSONL -------------------------------------------------------------------------------------


def _jsonl_rows(path: Path, text: str) -> Iterator[RecordedRequest]:
    clock: bool | None = None  # whether times are ISO strings (True) or seconds (False)
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TrafficFileError(f"{where}: not JSON: {exc.msg}") from None
        if not isinstance(row, dict):
            raise TrafficFileError(f"{where}: expected an object with t, method and path")
        request = _jsonl_request(row, number, where)
        iso = isinstance(row["t"], str)
        if clock is not None and iso != clock:
            raise TrafficFileError(
                f"{where}: 't' mixes ISO times and seconds; give every line the same kind"
            )
        clock = iso
        yield request


def _jsonl_request(row: Mapping[str, Any], number: int, where: str) -> RecordedRequest:
    unknown = sorted(set(row) - {"t", "method", "path", "body", "headers"})
    if unknown:
        raise TrafficFileError(
            f"{where}: unknown field {unknown[0]!r} (a line takes t, method, path, body, headers)"
        )
    if "t" not in row or "path" not in row:
        missing = "t" if "t" not in row else "path"
        raise TrafficFileError(f"{where}: field {missing!r} is missing")
    headers = _headers(row.get("headers", {}), where)
    has_body = "body" in row
    body = json.dumps(row["body"], ensure_ascii=False) if has_body else None
    content_type = _content_type(headers) or ("application/json" if has_body else None)
    return RecordedRequest(
        t_s=_time_of(row["t"], where),
        method=_method(row.get("method", "GET"), where),
        target=_target(row["path"], where),
        body=body,
        content_type=content_type,
        headers=_kept(headers),
        line=number,
    )


def _headers(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise TrafficFileError(f"{where}: field 'headers' must map names to strings")
    return {str(k): v for k, v in value.items()}


# --- HAR ---------------------------------------------------------------------------------------


def _har_rows(path: Path, text: str) -> Iterator[RecordedRequest]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TrafficFileError(f"{path}:{exc.lineno}: not a HAR file (JSON): {exc.msg}") from None
    entries = document.get("log", {}).get("entries") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise TrafficFileError(f"{path}: not a HAR file: no log.entries list")
    for number, entry in enumerate(entries, start=1):
        yield _har_request(entry, number, f"{path}: log.entries[{number - 1}]")


def _har_request(entry: Any, number: int, where: str) -> RecordedRequest:
    request = entry.get("request") if isinstance(entry, dict) else None
    if not isinstance(request, dict) or "url" not in request:
        raise TrafficFileError(f"{where}: no request.url")
    if "startedDateTime" not in entry:
        raise TrafficFileError(f"{where}: no startedDateTime")
    headers = {
        str(h.get("name", "")): str(h.get("value", ""))
        for h in request.get("headers", [])
        if isinstance(h, dict)
    }  # read for the content type only: a capture's headers carry cookies and browser noise
    post = request.get("postData") if isinstance(request.get("postData"), dict) else None
    body = post.get("text") if post else None
    content_type = (post.get("mimeType") if post else None) or _content_type(headers)
    return RecordedRequest(
        t_s=_time_of(entry["startedDateTime"], where),
        method=_method(request.get("method", "GET"), where),
        target=_target(request["url"], where),
        body=body if isinstance(body, str) and (body or post) else None,
        content_type=content_type if body is not None else None,
        headers=(),
        line=number,
    )


# --- fields ------------------------------------------------------------------------------------


def _time_of(value: Any, where: str) -> float:
    """Seconds: a number as it is, or an ISO 8601 timestamp (with its zone)."""
    if isinstance(value, bool):
        raise TrafficFileError(f"{where}: 't' must be seconds or an ISO 8601 time")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    raise TrafficFileError(
        f"{where}: time {value!r} is neither seconds nor an ISO 8601 time such as "
        "2026-01-31T12:00:00.250Z"
    )


def _method(value: Any, where: str) -> str:
    method = str(value).upper()
    if method not in METHODS:
        raise TrafficFileError(f"{where}: method {value!r} is not one of {', '.join(METHODS)}")
    return method


def _target(value: Any, where: str) -> str:
    text = str(value)
    parts = urlsplit(text)
    if text.startswith("/") or (parts.scheme in ("http", "https") and parts.netloc):
        return text
    raise TrafficFileError(f"{where}: path {value!r} must start with '/' or be an http(s) URL")


def _content_type(headers: Mapping[str, str]) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == "content-type"), None)


def _kept(headers: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The recorded headers worth resending (not hop-by-hop, not credentials, not HTTP/2's
    pseudo-headers, not the content type: that travels with the body)."""
    return tuple(
        (k, v)
        for k, v in headers.items()
        if k.lower() not in DROPPED_HEADERS
        and not k.startswith(":")
        and k.lower() != "content-type"
    )
