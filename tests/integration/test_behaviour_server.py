"""The behaviour server really behaves as its flags say: other tests rely on it as ground truth."""

from __future__ import annotations

import http.client
import json
import time
from concurrent.futures import ThreadPoolExecutor

import psutil
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.behaviour_server import PREDICTION_RANGE, prediction_for
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


def timed_get(server: RunningServer) -> tuple[float, float]:
    """Wall-clock start of one request and how long it took."""
    started = time.time()
    assert fetch(server)[0] == 200
    return started, time.time() - started


def test_slow_at_epoch_in_the_past_or_the_future(run: list[RunningServer]) -> None:
    now = time.time()
    already = launch(run, "--slow-at-epoch", str(now - 1), "--slow-delay", "0.4")
    not_yet = launch(run, "--slow-at-epoch", str(now + 3600), "--slow-delay", "0.4")
    assert timed_get(already)[1] >= 0.4
    assert timed_get(not_yet)[1] < 0.4


def test_servers_started_apart_slow_down_at_the_same_moment(run: list[RunningServer]) -> None:
    slow_at, slow_delay = time.time() + 3.0, 0.3
    flags = ("--slow-at-epoch", str(slow_at), "--slow-delay", str(slow_delay))
    servers = [launch(run, *flags), launch(run, *flags)]
    seen: list[list[tuple[float, float]]] = [[], []]
    deadline = slow_at + 10
    while time.time() < deadline and not all(s and s[-1][0] > slow_at for s in seen):
        for server, timings in zip(servers, seen, strict=True):
            timings.append(timed_get(server))
        time.sleep(0.05)  # pacing between rounds, not a readiness wait
    for timings in seen:
        before = [took for began, took in timings if began + took < slow_at]
        after = [took for began, took in timings if began >= slow_at]
        assert before and after, "no request on one side of the switch"
        assert all(took < slow_delay for took in before)
        assert all(took >= slow_delay for took in after)


def post(conn: http.client.HTTPConnection, body: bytes) -> tuple[int, str, bytes]:
    conn.request("POST", "/predict", body=body)
    response = conn.getresponse()
    return response.status, response.getheader("Content-Type", ""), response.read()


def test_answer_json_is_a_deterministic_function_of_the_body(run: list[RunningServer]) -> None:
    server = launch(run, "--answer-json")
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    try:
        first = post(conn, b'{"features": [1, 2, 3, 4]}')
        again = post(conn, b'{"features": [1, 2, 3, 4]}')
        other = post(conn, b'{"features": [4, 3, 2, 1]}')
    finally:
        conn.close()
    assert first == again
    status, content_type, body = first
    assert status == 200 and content_type == "application/json"
    assert json.loads(body) == {"prediction": prediction_for(b'{"features": [1, 2, 3, 4]}')}
    assert json.loads(other[2]) == {"prediction": prediction_for(b'{"features": [4, 3, 2, 1]}')}
    assert fetch(server, "/anything") == (200, b"ok")  # GET keeps the plain answer


def predictions(server: RunningServer, bodies: list[bytes]) -> list[int]:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    try:
        return [json.loads(post(conn, body)[2])["prediction"] for body in bodies]
    finally:
        conn.close()


def test_disagree_every_differs_on_about_one_body_in_n(run: list[RunningServer]) -> None:
    baseline = launch(run, "--answer-json")
    candidate = launch(run, "--answer-json", "--disagree-every", "20")
    bodies = [json.dumps({"features": [i, i % 7, 0.5, -i]}).encode() for i in range(1000)]
    pairs = zip(predictions(baseline, bodies), predictions(candidate, bodies), strict=True)
    differing = [i for i, (a, b) in enumerate(pairs) if a != b]
    assert differing == [
        i for i, b in enumerate(bodies) if prediction_for(b, 20) != prediction_for(b)
    ]
    assert 25 <= len(differing) <= 80  # 50 expected


@given(st.binary(max_size=200), st.integers(min_value=1, max_value=5000))
def test_prediction_is_in_range_and_a_disagreement_moves_it_by_one(body: bytes, every: int) -> None:
    base, changed = prediction_for(body), prediction_for(body, every)
    assert 0 <= base < PREDICTION_RANGE
    assert changed in {base, (base + 1) % PREDICTION_RANGE}
    assert prediction_for(body, 0) == base
    if every == 1:
        assert changed != base  # N=1: every body disagrees


@pytest.mark.parametrize(
    ("every", "count", "low", "high"), [(20, 20_000, 900, 1100), (1000, 200_000, 150, 250)]
)
def test_disagreement_share_is_one_in_n_of_distinct_bodies(
    every: int, count: int, low: int, high: int
) -> None:
    bodies = (f'{{"features": [{i}, 0, 0, 0]}}'.encode() for i in range(count))
    differing = sum(prediction_for(b, every) != prediction_for(b) for b in bodies)
    assert low <= differing <= high
