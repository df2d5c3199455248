"""Readiness probes: is the port open, does the ready path answer 200. Each probe returns None
on success or a short reason, so the last reason can be shown when the target is late."""

from __future__ import annotations

import http.client
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from infratest.hosts import host_of
from infratest.processes import TAIL_BYTES

PROBE_TIMEOUT_S = 1.0


@dataclass(frozen=True)
class ReadyTimes:
    """Seconds from launch until the port accepted connections and until ready."""

    port_open_s: float
    ready_s: float


def tcp_open(host: str, port: int, timeout: float) -> str | None:
    """None when the port accepts a connection, else a short description of why not."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except ConnectionRefusedError:
        return "connection refused"
    except TimeoutError:
        return "connect timed out"
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"


def ready_check_failure(check: str, url: str, port: int, timeout: float) -> str | None:
    """None when the ready check passes: "tcp" passes once the port is open, a path needs 200."""
    if check.lower() == "tcp":
        return None
    path = check if check.startswith("/") else "/" + check
    scheme = urlsplit(url).scheme or "http"
    return http_status(scheme, host_of(url), port, path, timeout)


def http_status(scheme: str, host: str, port: int, path: str, timeout: float) -> str | None:
    """None on HTTP 200, else "HTTP 503" or the connection error."""
    if scheme == "https":
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # loopback process we launched ourselves
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            host, port, timeout=timeout, context=ctx
        )
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read(TAIL_BYTES)
        return None if response.status == 200 else f"HTTP {response.status}"
    except ConnectionRefusedError:
        return "connection refused"
    except TimeoutError:
        return "HTTP timed out"
    except (OSError, http.client.HTTPException) as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        conn.close()
