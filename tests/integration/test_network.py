"""The network workload against real loopback listeners and HTTP servers (port 0)."""

from __future__ import annotations

import http.server
import math
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from infratest.measurements import MeasurementError
from infratest.spec.resource_sections import NetworkSpec
from infratest.workloads.network import run_network

ALLOW = ["127.0.0.1", "localhost", "::1"]
CONF = 0.95
BODY = bytes(range(256)) * 4096  # 1 MiB
SERVER_LIFETIME_S = 30.0


# --- servers -----------------------------------------------------------------------------------


def _accept_until(server: socket.socket, stop: threading.Event) -> None:
    """Accept and close at once; bounded by the stop event and SERVER_LIFETIME_S."""
    server.settimeout(0.05)
    end = time.monotonic() + SERVER_LIFETIME_S
    while not stop.is_set() and time.monotonic() < end:
        try:
            conn, _ = server.accept()
        except TimeoutError:
            continue
        except OSError:
            return
        conn.close()


@pytest.fixture
def tcp_listener() -> Iterator[int]:
    server = socket.create_server(("127.0.0.1", 0), backlog=256)
    stop = threading.Event()
    thread = threading.Thread(target=_accept_until, args=(server, stop), daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        server.close()


@pytest.fixture
def closed_port() -> int:
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


class _Quiet(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Body(_Quiet):
    def do_GET(self) -> None:
        self._send(200, BODY)


class _Fail(_Quiet):
    def do_GET(self) -> None:
        self._send(500, b"boom")


class _Flaky(_Quiet):
    """Every third request answers 503."""

    count = 0
    lock = threading.Lock()

    def do_GET(self) -> None:
        with self.lock:
            type(self).count += 1
            n = type(self).count
        self._send(503 if n % 3 == 0 else 200, b"ok")


class _Trickle(_Quiet):
    """Headers at once, then one body byte per 0.1 s: every read stays inside the timeout."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        pace = threading.Event()
        for _ in range(100):
            try:
                self.wfile.write(b"x")
                self.wfile.flush()
            except OSError:
                return
            pace.wait(0.1)


@pytest.fixture
def http_server() -> Iterator[Callable[[type], str]]:
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(handler: type) -> str:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        servers.append(server)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        return f"http://127.0.0.1:{server.server_address[1]}/data"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def silent_listener() -> Iterator[int]:
    """Completes handshakes (kernel backlog) but never accepts, so never answers."""
    server = socket.create_server(("127.0.0.1", 0), backlog=16)
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


# --- tcp ---------------------------------------------------------------------------------------


def test_tcp_connect_percentiles(tcp_listener: int) -> None:
    spec = NetworkSpec(tcp=f"127.0.0.1:{tcp_listener}", samples=200, timeout="1.0s")
    m = run_network(spec, CONF, ALLOW)
    p50, p99 = m.values["tcp.connect.p50"], m.values["tcp.connect.p99"]
    assert 0 < p50.value <= p99.value < 1.0
    assert p50.n == 200
    series = m.series["network"]
    assert series["kind"] == "tcp" and len(series["samples_s"]) == 200


def test_tcp_refused_is_an_error(closed_port: int) -> None:
    spec = NetworkSpec(tcp=f"127.0.0.1:{closed_port}", samples=20, timeout="1.0s")
    with pytest.raises(MeasurementError, match=r"refused by 127\.0\.0\.1:\d+ \(20 of 20"):
        run_network(spec, CONF, ALLOW)


def test_tcp_disallowed_host_fails_before_any_connection() -> None:
    spec = NetworkSpec(tcp="10.0.0.1:80", samples=100, timeout="5.0s")
    start = time.monotonic()
    with pytest.raises(MeasurementError, match=r"not in allow\.hosts"):
        run_network(spec, CONF, ["127.0.0.1"])
    assert time.monotonic() - start < 0.5


# --- dns ---------------------------------------------------------------------------------------


def test_dns_localhost() -> None:
    m = run_network(NetworkSpec(dns="localhost", samples=20, timeout="2.0s"), CONF, ALLOW)
    p99 = m.values["dns.resolve.p99"]
    assert 0 < p99.value < 2.0 and p99.n == 20
    assert any("cache" in note for note in m.notes)


def test_dns_unresolvable_name_names_it() -> None:
    # An empty label is rejected locally (idna), so no query leaves the machine.
    with pytest.raises(MeasurementError, match=r"cannot resolve a\.\.b"):
        run_network(NetworkSpec(dns="a..b", samples=3, timeout="1.0s"), CONF, ALLOW)


# --- http --------------------------------------------------------------------------------------


def test_http_ttfb_and_download(http_server: Callable[[type], str]) -> None:
    url = http_server(_Body)
    m = run_network(NetworkSpec(http=url, samples=10, timeout="2.0s"), CONF, ALLOW)
    ttfb = m.values["http.ttfb.p99"]
    rate = m.values["http.download.throughput"]
    assert 0 < ttfb.value < 2.0
    assert rate.value > 1e6 and rate.n == 10
    assert len(m.series["network"]["download_Bps"]) == 10


def test_http_500_is_an_error(http_server: Callable[[type], str]) -> None:
    url = http_server(_Fail)
    with pytest.raises(MeasurementError, match=r"HTTP 500 from http://127.*\(5 of 5"):
        run_network(NetworkSpec(http=url, samples=5, timeout="2.0s"), CONF, ALLOW)


def test_http_partial_failures_count_as_infinite(http_server: Callable[[type], str]) -> None:
    url = http_server(_Flaky)
    m = run_network(NetworkSpec(http=url, samples=30, timeout="2.0s"), CONF, ALLOW)
    assert math.isinf(m.values["http.ttfb.p99"].value)  # 10 of 30 failed: p99 is a failure
    assert any("10 of 30 attempts failed (HTTP 503 ×10)" in note for note in m.notes)
    assert m.series["network"]["samples_s"].count(None) == 10


def test_http_silent_server_stops_within_the_time_bound(silent_listener: int) -> None:
    spec = NetworkSpec(http=f"http://127.0.0.1:{silent_listener}/", samples=5, timeout="0.3s")
    start = time.monotonic()
    with pytest.raises(MeasurementError, match="timeout"):
        run_network(spec, CONF, ALLOW)
    assert time.monotonic() - start < 3.0


def test_http_trickling_body_is_cut_at_the_run_bound(http_server: Callable[[type], str]) -> None:
    url = http_server(_Trickle)
    start = time.monotonic()
    with pytest.raises(MeasurementError, match="cut off at the run time bound"):
        run_network(NetworkSpec(http=url, samples=2, timeout="0.3s"), CONF, ALLOW)
    assert time.monotonic() - start < 2.0  # 2 × 0.3 s budget + 0.3 s grace


def test_http_disallowed_host() -> None:
    spec = NetworkSpec(http="http://10.0.0.1:8080/", samples=10, timeout="5.0s")
    start = time.monotonic()
    with pytest.raises(MeasurementError, match=r"host .10\.0\.0\.1. is not in allow\.hosts"):
        run_network(spec, CONF, ["127.0.0.1"])
    assert time.monotonic() - start < 0.5
