"""The demo target over real HTTP: readiness, predictions, input validation, shutdown."""

from __future__ import annotations

import http.client
import json
import signal
import time
from collections.abc import Iterator

import pytest

from tests.support.servers import (
    RunningServer,
    child_pids,
    http_status,
    leftover_children,
    start_server,
    tcp_open,
)

DEMO = "infratest.demo"


@pytest.fixture(scope="module", autouse=True)
def no_leftover_processes() -> Iterator[None]:
    """Runs first and finishes last in this module, so it sees every server reaped."""
    before = child_pids()
    yield
    assert not leftover_children(before), "a demo server outlived the tests"


@pytest.fixture(scope="module")
def demo(no_leftover_processes: None) -> Iterator[RunningServer]:
    with start_server(["--load-delay", "0"], module=DEMO) as server:
        yield server


def call(
    server: RunningServer, method: str, path: str, body: bytes | None = None
) -> tuple[int, dict]:
    """One request on a fresh connection; the JSON answer decoded."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    try:
        conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def predict(server: RunningServer, payload: object) -> tuple[int, dict]:
    return call(server, "POST", "/predict", json.dumps(payload).encode())


def test_healthz_reports_loading_then_ok() -> None:
    with start_server(["--load-delay", "1"], module=DEMO, ready_path=None) as server:
        assert call(server, "GET", "/healthz") == (503, {"status": "loading"})
        status, body = predict(server, {"features": [0, 0, 0, 0]})
        assert status == 503 and "error" in body
        deadline = time.monotonic() + 10
        while http_status(server.url, "/healthz") != 200 and time.monotonic() < deadline:
            time.sleep(0.05)  # poll interval; the deadline bounds the wait
        assert call(server, "GET", "/healthz") == (200, {"status": "ok"})
        assert predict(server, {"features": [0, 0, 0, 0]})[0] == 200


def test_predict_single_row(demo: RunningServer) -> None:
    status, body = predict(demo, {"features": [0.1, -0.5, 1.2, 0.3]})
    assert status == 200
    probabilities = body["probabilities"]
    assert len(probabilities) == 3
    assert sum(probabilities) == pytest.approx(1.0, abs=1e-9)
    assert body["label"] == probabilities.index(max(probabilities))


def test_predict_batch(demo: RunningServer) -> None:
    rows = [[0.1, -0.5, 1.2, 0.3], [2, 0, 0, -1], [0, 0, 0, 0]]
    status, body = predict(demo, {"instances": rows})
    assert status == 200
    assert len(body["labels"]) == 3
    assert [len(p) for p in body["probabilities"]] == [3, 3, 3]
    single = predict(demo, {"features": rows[1]})[1]
    assert body["labels"][1] == single["label"]
    assert predict(demo, {"instances": [[0, 0, 0, 0]] * 256})[0] == 200


INVALID = [
    pytest.param(b"{not json", 400, id="malformed-json"),
    pytest.param(b"", 400, id="empty-body"),
    pytest.param(b"\xff\xfe\xfa", 400, id="not-utf8"),
    pytest.param(b"[1, 2, 3, 4]", 400, id="not-an-object"),
    pytest.param(b'{"features": [1, 2, 3]}', 400, id="too-few-features"),
    pytest.param(b'{"features": [[1, 2, 3, 4]]}', 400, id="nested-features"),
    pytest.param(b'{"features": [1, 2, "3", 4]}', 400, id="string-feature"),
    pytest.param(b'{"features": [1, 2, true, 4]}', 400, id="bool-feature"),
    pytest.param(b'{"features": [1, 2, NaN, 4]}', 400, id="nan"),
    pytest.param(b'{"features": [1, 2, 1e999, 4]}', 400, id="overflow-to-inf"),
    pytest.param(b'{"features": [1, 2, ' + b"9" * 400 + b", 4]}", 400, id="huge-int"),
    pytest.param(b'{"rows": [[1, 2, 3, 4]]}', 400, id="no-known-key"),
    pytest.param(b'{"features": [1, 2, 3, 4], "instances": [[1, 2, 3, 4]]}', 400, id="both-keys"),
    pytest.param(b'{"instances": []}', 400, id="empty-batch"),
    pytest.param(b'{"instances": [[1, 2, 3, 4], [1, 2]]}', 400, id="ragged-batch"),
    pytest.param(json.dumps({"instances": [[0] * 4] * 257}).encode(), 400, id="batch-too-big"),
    pytest.param(b"[" * 100_000, 400, id="deep-nesting"),
    pytest.param(b" " * ((1 << 20) + 1), 413, id="body-over-1MiB"),
]


@pytest.mark.parametrize(("body", "expected"), INVALID)
def test_invalid_input_is_rejected_with_json_error(
    demo: RunningServer, body: bytes, expected: int
) -> None:
    status, answer = call(demo, "POST", "/predict", body)
    assert status == expected
    assert isinstance(answer["error"], str) and answer["error"]


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [("GET", "/predict", 405), ("POST", "/healthz", 405), ("PUT", "/predict", 405),
     ("GET", "/nope", 404), ("POST", "/nope", 404)],
)  # fmt: skip
def test_wrong_method_or_path(demo: RunningServer, method: str, path: str, expected: int) -> None:
    status, answer = call(demo, method, path, b"{}" if method != "GET" else None)
    assert status == expected
    assert "error" in answer


def test_keep_alive_survives_errors(demo: RunningServer) -> None:
    conn = http.client.HTTPConnection(demo.host, demo.port, timeout=5)
    try:
        bodies = [b'{"features": [1, 2, 3, 4]}', b"{bad", b'{"instances": [[0, 0, 0, 0]]}']
        statuses = []
        for body in bodies:
            conn.request("POST", "/predict", body=body)
            response = conn.getresponse()
            response.read()
            statuses.append(response.status)
            if len(statuses) == 1:
                first_socket = conn.sock
            assert conn.sock is first_socket and not response.will_close
    finally:
        conn.close()
    assert statuses == [200, 400, 200]


def test_metrics_counts_requests(demo: RunningServer) -> None:
    predict(demo, {"features": [0, 0, 0, 0]})
    conn = http.client.HTTPConnection(demo.host, demo.port, timeout=5)
    try:
        conn.request("GET", "/metrics")
        response = conn.getresponse()
        text = response.read().decode()
    finally:
        conn.close()
    values = dict(line.split() for line in text.splitlines() if not line.startswith("#"))
    assert response.status == 200
    assert int(values["demo_requests_total"]) >= 2
    assert int(values["demo_predictions_total"]) >= 1
    assert values["demo_model_loaded"] == "1"
    assert float(values["demo_model_load_seconds"]) >= 0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_exits_zero_quickly(sig: signal.Signals) -> None:
    with start_server(["--load-delay", "0", "--threads"], module=DEMO) as server:
        idle = http.client.HTTPConnection(server.host, server.port, timeout=5)
        try:
            idle.request("GET", "/healthz")  # an open keep-alive connection must not block exit
            idle.getresponse().read()
            assert predict(server, {"features": [1, 1, 1, 1]})[0] == 200
            started = time.monotonic()
            server.proc.send_signal(sig)
            assert server.proc.wait(timeout=3) == 0
            assert time.monotonic() - started < 2.0
            assert not tcp_open(server.host, server.port)
        finally:
            idle.close()
