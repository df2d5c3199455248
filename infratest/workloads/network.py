"""The network workload: TCP connect time, name resolution time, or HTTP time-to-first-byte and
download speed of one address, each from `samples` fresh attempts.

Failed attempts stay in the latency samples as +inf, so a flaky peer cannot report a fast p99
by dropping its failures. Every attempt is bounded by `timeout`, the run by samples × timeout
(at most 60 s), and the allow list is checked before the first packet.
"""

from __future__ import annotations

import contextlib
import http.client
import math
import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from infratest.hosts import HostNotAllowed, check_allowed
from infratest.measurements import MeasurementError, Measurements
from infratest.spec.resource_sections import NetworkSpec
from infratest.stats import mean_interval, quantile_interval

__all__ = ["RUN_LIMIT_S", "Attempt", "Sampling", "run_network", "sample", "split_hostport"]

RUN_LIMIT_S = 60.0
SERIES_MAX = 2000
GIVE_UP_TIMEOUTS = 3  # this many timeouts before any success: the peer is not answering
BODY_CHUNK = 256 * 1024
BODY_MAX = 2**30  # stop reading a body after 1 GiB: bounds the read loop in count
USER_AGENT = "infratest-network-workload"


@dataclass(frozen=True)
class Attempt:
    """One sample: latency in seconds (+inf on failure) and why it failed, if it did."""

    seconds: float
    failure: str | None = None
    timed_out: bool = False
    nbytes: int = 0
    total_s: float = 0.0  # HTTP: connect start to last body byte
    final: bool = False  # no further attempt may be made (e.g. a hung resolver thread)


@dataclass
class Sampling:
    """All attempts of a run and why it stopped before `samples`, if it did."""

    attempts: list[Attempt] = field(default_factory=list)
    stopped: str | None = None

    @property
    def failures(self) -> list[Attempt]:
        return [a for a in self.attempts if a.failure is not None]

    @property
    def latencies(self) -> list[float]:
        return [a.seconds for a in self.attempts]


# --- pure helpers ------------------------------------------------------------------------------


def split_hostport(target: str) -> tuple[str, int]:
    """ "host:port" or "[v6]:port" -> (host, port)."""
    host, _, port = target.rpartition(":")
    return host.strip("[]"), int(port)


def sample(attempt: Callable[[float], Attempt], samples: int, budget_s: float) -> Sampling:
    """Run up to `samples` attempts, none started after `budget_s`; each gets the deadline.

    Also gives up after GIVE_UP_TIMEOUTS timeouts with no success: a silent peer would
    otherwise cost samples × timeout for nothing.
    """
    deadline = time.monotonic() + budget_s
    out = Sampling()
    for i in range(samples):
        if i and time.monotonic() >= deadline:
            out.stopped = f"stopped after {i} of {samples} samples: run time bound {budget_s:g} s"
            break
        last = attempt(deadline)
        out.attempts.append(last)
        if last.final:
            out.stopped = f"stopped after {i + 1} of {samples} samples: {last.failure}"
            break
        timeouts = sum(a.timed_out for a in out.attempts)
        if timeouts >= GIVE_UP_TIMEOUTS and len(out.failures) == len(out.attempts):
            out.stopped = f"gave up after {timeouts} timeouts in a row with no success"
            break
    return out


def _budget(spec: NetworkSpec) -> float:
    return min(RUN_LIMIT_S, spec.samples * float(spec.timeout))


def _error_reason(exc: BaseException, timeout: float) -> tuple[str, bool]:
    """Short cause of a failed attempt, and whether it was a timeout."""
    if isinstance(exc, TimeoutError):
        return f"no answer within the {timeout:g} s timeout", True
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused", False
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower(), False
    return f"{type(exc).__name__}: {exc}".rstrip(": "), False


def _failure_summary(run: Sampling, target: str) -> str:
    """ "connection refused by 127.0.0.1:6379 (200 of 200 attempts)"."""
    reason = Counter(a.failure for a in run.failures).most_common(1)[0][0] or "failed"
    if reason == "connection refused":
        what = f"connection refused by {target}"
    elif reason.startswith(("HTTP", "no answer", "cut off")):
        what = f"{reason} from {target}"
    else:
        what = f"{target}: {reason}"
    return f"{what} ({len(run.failures)} of {len(run.attempts)} attempts)"


def _failure_note(run: Sampling) -> str:
    counts = Counter(a.failure for a in run.failures)
    causes = ", ".join(f"{reason} ×{n}" for reason, n in counts.most_common())
    return (
        f"{len(run.failures)} of {len(run.attempts)} attempts failed ({causes}); "
        "counted as infinite latency"
    )


# --- tcp ---------------------------------------------------------------------------------------


def _resolve_bounded(host: str, timeout: float, **hints: int) -> tuple[float, list | None, str]:
    """getaddrinfo has no timeout, so it runs in a daemon thread that we stop waiting for.

    Returns (seconds, addresses or None, failure reason); the timing is taken inside the
    thread, so the thread start does not inflate it.
    """
    box: dict = {}

    def work() -> None:
        start = time.perf_counter()
        try:
            box["addrs"] = socket.getaddrinfo(host, None, **hints)
        except (OSError, UnicodeError) as exc:  # idna rejects empty or long labels
            box["error"] = exc
        box["seconds"] = time.perf_counter() - start

    worker = threading.Thread(target=work, name=f"infratest-resolve-{host}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        return math.inf, None, f"no answer within the {timeout:g} s timeout"
    if "error" in box:
        return math.inf, None, str(box["error"])
    return box["seconds"], box["addrs"], ""


def _tcp_address(spec: NetworkSpec) -> tuple[socket.AddressFamily, tuple]:
    """Resolve once, so each sample times the connect and not the resolver."""
    assert spec.tcp is not None
    host, port = split_hostport(spec.tcp)
    _, addrs, why = _resolve_bounded(host, float(spec.timeout), type=socket.SOCK_STREAM)
    if not addrs:
        raise MeasurementError(f"cannot resolve {host}: {why}")
    family, _, _, _, sockaddr = addrs[0]
    return family, (sockaddr[0], port, *sockaddr[2:])


def _tcp_attempt(family: socket.AddressFamily, addr: tuple, timeout: float) -> Attempt:
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        start = time.perf_counter()
        sock.connect(addr)
        return Attempt(time.perf_counter() - start)
    except OSError as exc:
        reason, timed_out = _error_reason(exc, timeout)
        return Attempt(math.inf, reason, timed_out)
    finally:
        sock.close()


def _run_tcp(spec: NetworkSpec, confidence: float, out: Measurements) -> Sampling:
    family, addr = _tcp_address(spec)
    timeout = float(spec.timeout)
    run = sample(lambda _deadline: _tcp_attempt(family, addr, timeout), spec.samples, _budget(spec))
    if run.failures and len(run.failures) == len(run.attempts):
        raise MeasurementError(_failure_summary(run, str(spec.tcp)))
    out.add("tcp.connect.p50", quantile_interval(run.latencies, 0.5, confidence))
    out.add("tcp.connect.p99", quantile_interval(run.latencies, 0.99, confidence))
    out.notes.append(f"connect time to {addr[0]} port {addr[1]}; name resolved once beforehand")
    return run


# --- dns ---------------------------------------------------------------------------------------


def _dns_attempt(name: str, timeout: float) -> Attempt:
    seconds, _, why = _resolve_bounded(name, timeout)
    if math.isinf(seconds):
        hung = why.startswith("no answer")
        return Attempt(math.inf, why, hung, final=hung)  # a hung lookup thread cannot be reused
    return Attempt(seconds)


def _run_dns(spec: NetworkSpec, confidence: float, out: Measurements) -> Sampling:
    name, timeout = str(spec.dns), float(spec.timeout)
    run = sample(lambda _deadline: _dns_attempt(name, timeout), spec.samples, _budget(spec))
    if len(run.failures) == len(run.attempts):
        reason = run.failures[0].failure
        raise MeasurementError(f"cannot resolve {name}: {reason} ({len(run.attempts)} attempts)")
    out.add("dns.resolve.p99", quantile_interval(run.latencies, 0.99, confidence))
    out.notes.append(
        "getaddrinfo timings: answers may come from a local cache (/etc/hosts, nscd, "
        "systemd-resolved), not from a DNS server"
    )
    return run


# --- http --------------------------------------------------------------------------------------


def _http_connection(url: str, timeout: float) -> tuple[http.client.HTTPConnection, str]:
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = parts.hostname or ""
    if parts.scheme == "https":
        ctx = ssl.create_default_context()
        return http.client.HTTPSConnection(host, parts.port, timeout=timeout, context=ctx), path
    return http.client.HTTPConnection(host, parts.port, timeout=timeout), path


class _Watchdog:
    """Shuts the socket at the run's hard deadline: per-operation timeouts alone cannot stop a
    peer that trickles one byte at a time."""

    def __init__(self, conn: http.client.HTTPConnection, seconds: float) -> None:
        self.conn = conn
        self.fired = False
        self.timer = threading.Timer(max(0.0, seconds), self._fire)
        self.timer.daemon = True

    def _fire(self) -> None:
        self.fired = True
        sock = self.conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> _Watchdog:
        self.timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.timer.cancel()


def _read_body(response: http.client.HTTPResponse) -> int:
    """Read and discard the body into one reused buffer, up to BODY_MAX bytes."""
    buf = memoryview(bytearray(BODY_CHUNK))
    total = 0
    for _ in range(BODY_MAX // BODY_CHUNK):
        n = response.readinto(buf)
        if not n:
            break
        total += n
    return total


def _timed_get(conn: http.client.HTTPConnection, path: str) -> tuple[int, float, int, float]:
    """(status, time to first byte, body bytes, whole request time) of one GET."""
    headers = {"User-Agent": USER_AGENT, "Connection": "close"}
    start = time.perf_counter()
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    ttfb = time.perf_counter() - start
    nbytes = _read_body(response)
    return response.status, ttfb, nbytes, time.perf_counter() - start


def _http_get(url: str, timeout: float, hard_deadline: float) -> Attempt:
    conn, path = _http_connection(url, timeout)
    watchdog = _Watchdog(conn, hard_deadline - time.monotonic())
    try:
        with watchdog:  # its thread starts before the clock does
            status, ttfb, nbytes, total = _timed_get(conn, path)
    except (OSError, http.client.HTTPException) as exc:
        if not watchdog.fired:
            return Attempt(math.inf, *_error_reason(exc, timeout))
    finally:
        conn.close()
    if watchdog.fired:  # also a close-delimited body cut short looks like a clean end
        return Attempt(math.inf, "cut off at the run time bound", True)
    if not 200 <= status < 300:
        return Attempt(math.inf, f"HTTP {status}")
    return Attempt(ttfb, nbytes=nbytes, total_s=total)


def _run_http(spec: NetworkSpec, confidence: float, out: Measurements) -> Sampling:
    url, timeout = str(spec.http), float(spec.timeout)
    run = sample(lambda d: _http_get(url, timeout, d + timeout), spec.samples, _budget(spec))
    if run.failures and len(run.failures) == len(run.attempts):
        raise MeasurementError(_failure_summary(run, url))
    out.add("http.ttfb.p99", quantile_interval(run.latencies, 0.99, confidence))
    rates = _download_rates(run)
    if rates:
        out.add("http.download.throughput", mean_interval(rates, confidence))
    else:
        out.notes.append("every successful response had an empty body: no download speed")
    out.notes.append(
        "time to first byte counts from connect (new connection each, name resolved each time) "
        "to the parsed status line and headers; download speed = body bytes / whole request "
        "time per successful request"
    )
    return run


def _download_rates(run: Sampling) -> list[float]:
    return [
        a.nbytes / a.total_s
        for a in run.attempts
        if a.failure is None and a.nbytes > 0 and a.total_s > 0
    ]


# --- the workload ------------------------------------------------------------------------------

_RUNNERS = {"tcp": _run_tcp, "dns": _run_dns, "http": _run_http}


def _check_hosts(spec: NetworkSpec, allow_hosts: Sequence[str]) -> None:
    target = spec.tcp or spec.http
    if target is None:
        return  # a DNS lookup goes to the configured resolver, not to the name itself
    try:
        check_allowed(target, allow_hosts)
    except HostNotAllowed as exc:
        raise MeasurementError(str(exc)) from None


def run_network(spec: NetworkSpec, confidence: float, allow_hosts: Sequence[str]) -> Measurements:
    """Time `samples` fresh TCP connects, name resolutions or HTTP GETs of one address."""
    _check_hosts(spec, allow_hosts)
    out = Measurements()
    run = _RUNNERS[spec.kind](spec, confidence, out)
    if run.failures:
        out.notes.append(_failure_note(run))
    if run.stopped:
        out.notes.append(run.stopped)
    out.series["network"] = _series(spec, run)
    return out


def _series(spec: NetworkSpec, run: Sampling) -> dict:
    """JSON-ready: failed attempts (+inf) appear as None."""
    first = run.attempts[:SERIES_MAX]
    series: dict = {
        "kind": spec.kind,
        "target": spec.tcp or spec.http or spec.dns,
        "samples_s": [a.seconds if math.isfinite(a.seconds) else None for a in first],
    }
    if spec.kind == "http":
        series["download_Bps"] = _download_rates(Sampling(first))
    return series
