"""Which model a target served: its version endpoint as answered when it first became ready,
and the SHA-256 of the artifact (a model file or folder) the config names.

Stdlib only: the target pool calls :func:`fetch_version` in the parent process.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from infratest.evidence.manifest import file_sha256
from infratest.hosts import HostNotAllowed, check_allowed

VERSION_TIMEOUT_S = 2.0
MAX_VERSION_BYTES = 4096


def _timestamp(seconds: float | None = None) -> str:
    moment = datetime.now(UTC) if seconds is None else datetime.fromtimestamp(seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def version_url(base: str, version: str) -> str:
    """`version` is a path on the target (/version) or an absolute URL of its own."""
    return version if "://" in version else urljoin(base.rstrip("/") + "/", version.lstrip("/"))


def _get(url: str, timeout: float) -> tuple[int, str, bytes]:
    """One GET without proxies: (status, content type, at most MAX_VERSION_BYTES + 1 bytes)."""
    parts = urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = kind(parts.netloc, timeout=timeout)
    try:
        query = f"?{parts.query}" if parts.query else ""
        conn.request("GET", (parts.path or "/") + query)
        response = conn.getresponse()
        body = response.read(MAX_VERSION_BYTES + 1)
        return response.status, response.getheader("Content-Type", ""), body
    finally:
        conn.close()


def _body(raw: bytes) -> dict[str, Any]:
    """JSON when the (whole) body parses as JSON, text otherwise; cut to MAX_VERSION_BYTES."""
    truncated = len(raw) > MAX_VERSION_BYTES
    raw = raw[:MAX_VERSION_BYTES]
    if not truncated:
        try:
            return {"json": json.loads(raw), "truncated": False}
        except ValueError:
            pass
    return {"text": raw.decode("utf-8", "replace"), "truncated": truncated}


def fetch_version(
    base: str, version: str, allow_hosts: Sequence[str], timeout: float = VERSION_TIMEOUT_S
) -> dict[str, Any]:
    """What the target says about its version; a failure is recorded, never raised."""
    url = version_url(base, version)
    found: dict[str, Any] = {"url": url, "fetched_at": _timestamp()}
    try:
        check_allowed(url, allow_hosts)
        status, content_type, raw = _get(url, timeout)
    except HostNotAllowed as exc:
        return {**found, "error": str(exc)}
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return {**found, "error": f"{type(exc).__name__}: {exc}"}
    found.update(status=status, content_type=content_type, **_body(raw))
    if status != 200:
        found["error"] = f"HTTP {status}"
    return found


def _entry(path: Path, name: str) -> dict[str, Any]:
    stat = path.stat()
    return {
        "path": name,
        "sha256": file_sha256(path),
        "size": stat.st_size,
        "mtime": _timestamp(stat.st_mtime),
    }


def artifact_digest(path: Path, written: str) -> dict[str, Any]:
    """SHA-256, size and mtime of a file, or of every file of a folder (sorted by path);
    a folder's `sha256` is that of its listing, in `sha256sum` format."""
    found: dict[str, Any] = {"path": written}
    try:
        if path.is_dir():
            names = sorted(
                str(Path(root, f).relative_to(path).as_posix())
                for root, _, files in os.walk(path)
                for f in files
            )
            entries = [_entry(path / name, name) for name in names]
            listing = "".join(f"{e['sha256']}  {e['path']}\n" for e in entries)
            digest = hashlib.sha256(listing.encode()).hexdigest()
            return {**found, "kind": "directory", "sha256": digest, "files": entries}
        entry = _entry(path, path.name)
        return {**found, "kind": "file", **{k: entry[k] for k in ("sha256", "size", "mtime")}}
    except OSError as exc:
        return {**found, "error": f"cannot read {written}: {exc.strerror or exc}"}
