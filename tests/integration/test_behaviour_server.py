"""The behaviour server really behaves as its flags say: other tests rely on it as ground truth."""

from __future__ import annotations

import http.client
import time
from concurrent.futures import ThreadPoolExecutor

import psutil
import pytest

from tests.support.servers import RunningServer, launch

MIB = 1 << 20


pytestmark = pytest.mark.usefixtures("no_leftover_processes")


def fetch(server: RunningServer, path: str = "/", method: str = "GET", timeout: float = 5.0):
    """One request on a fresh connection: (status, body)."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=timeout)
    try:
        conn.request(method, path, body=b"{}" if method == "POST" else None)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_answers_ok_after_the_service_delay(run: list[RunningServer]) -> None:
    server = launch(run, "--delay", "0.2")
    started = time.monotonic()
    assert fetch(server, "/anything") == (200, b"ok")
    assert time.monotonic() - started >= 0.2
    assert fetch(server, "/predict", method="POST") == (200, b"ok")


def test_healthz_is_immediate_and_not_counted(run: list[RunningServer]) -> None:
    server = launch(run, "--delay", "1", "--die-after-requests", "0")
    started = time.monotonic()
    for _ in range(5):
        assert fetch(server, "/healthz") == (200, b"ok")
    assert time.monotonic() - started < 0.9
    assert server.proc.poll() is None


def test_every_third_request_fails(run: list[RunningServer]) -> None:
    server = launch(run, "--error-every", "3")
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    statuses = []
    try:
        for _ in range(30):
            conn.request("GET", "/")
            response = conn.getresponse()
            response.read()
            statuses.append(response.status)
    finally:
        conn.close()
    assert statuses.count(500) == 10
    assert [i + 1 for i, s in enumerate(statuses) if s == 500] == list(range(3, 31, 3))


def test_dies_abruptly_after_n_requests(run: list[RunningServer]) -> None:
    server = launch(run, "--die-after-requests", "5")
    for _ in range(5):
        assert fetch(server)[0] == 200
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        fetch(server)
    assert server.proc.wait(timeout=5) == 3


def test_hangs_after_n_requests(run: list[RunningServer]) -> None:
    server = launch(run, "--hang-after-requests", "2")
    assert fetch(server)[0] == 200
    assert fetch(server)[0] == 200
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        fetch(server, timeout=1.0)
    assert time.monotonic() - started >= 1.0
    assert fetch(server, "/healthz") == (200, b"ok")


def test_startup_delay_postpones_listening(run: list[RunningServer]) -> None:
    started = time.monotonic()
    launch(run, "--startup-delay", "0.6")
    assert time.monotonic() - started >= 0.6


def test_ballast_is_resident(run: list[RunningServer]) -> None:
    server = launch(run, "--ballast-mib", "200")
    assert psutil.Process(server.pid).memory_info().rss >= 200 * MIB


def test_leak_grows_rss_per_request(run: list[RunningServer]) -> None:
    server = launch(run, "--leak-kib-per-request", "1024")
    process = psutil.Process(server.pid)
    before = process.memory_info().rss
    for _ in range(60):
        assert fetch(server)[0] == 200
    assert process.memory_info().rss - before >= 50 * MIB


def test_open_fds_and_extra_threads(run: list[RunningServer]) -> None:
    plain = psutil.Process(launch(run).pid)
    loaded = psutil.Process(launch(run, "--open-fds", "50", "--threads-extra", "7").pid)
    assert loaded.num_fds() - plain.num_fds() >= 50
    assert loaded.num_threads() - plain.num_threads() >= 7


def concurrent_wall_time(server: RunningServer, n: int) -> float:
    """Seconds for n simultaneous requests, each on its own connection."""
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=n) as pool:
        futures = [pool.submit(fetch, server) for _ in range(n)]
        assert all(f.result(timeout=10)[0] == 200 for f in futures)
    return time.monotonic() - started


def test_slots_cap_concurrency(run: list[RunningServer]) -> None:
    capped = launch(run, "--slots", "2", "--delay", "0.2")
    free = launch(run, "--delay", "0.2")
    assert concurrent_wall_time(capped, 8) >= 0.8
    assert concurrent_wall_time(free, 8) < 0.6


def test_sigterm_exits_cleanly(run: list[RunningServer]) -> None:
    server = launch(run)
    assert server.stop() == 0
