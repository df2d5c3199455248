"""The demo target over real HTTP: readiness, predictions, input validation, shutdown, and
the v2 variant that rollout comparisons use as a candidate."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

from infratest.demo import VARIANT_NAMES
from infratest.demo import model as demo_model
from infratest.demo import variant as demo_variant
from infratest.demo.inputs import read_features
from tests.support.servers import (
    REPO_ROOT,
    RunningServer,
    child_pids,
    http_status,
    leftover_children,
    start_server,
    tcp_open,
)

DEMO = "infratest.demo"
ROLLOUT_INPUTS = REPO_ROOT / "scenarios" / "data" / "rollout-inputs.jsonl"


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
    values = {
        s.name: s.value for family in text_string_to_metric_families(text) for s in family.samples
    }
    assert response.status == 200
    assert values["demo_requests_total"] >= 2
    assert values["demo_predictions_total"] >= 1
    assert values["demo_model_loaded"] == 1
    assert values["demo_model_load_seconds"] >= 0
    # the process collector's figures, which a `probe: {prometheus: /metrics}` reads
    assert values["process_resident_memory_bytes"] == pytest.approx(
        psutil.Process(demo.pid).memory_info().rss, rel=0.2
    )
    assert values["process_open_fds"] >= 3


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


def model_labels(variant: str, features: np.ndarray) -> np.ndarray:
    """Labels the named variant gives, computed in-process from the committed weights."""
    served = demo_variant.apply(demo_model.load(), demo_variant.get(variant))
    return served.predict(features)[0]


def labels_over_http(server: RunningServer, path: Path) -> list[int]:
    """Send every line of a bodies file as-is, one request each on a keep-alive connection."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    labels = []
    try:
        for line in path.read_text().splitlines():
            conn.request("POST", "/predict", body=line.encode())
            response = conn.getresponse()
            answer = json.loads(response.read())
            assert response.status == 200, answer
            labels.append(answer["label"])
    finally:
        conn.close()
    return labels


def test_cli_variants_match_the_registry() -> None:
    assert tuple(demo_variant.VARIANTS) == VARIANT_NAMES
    with pytest.raises(KeyError, match="known: v1, v2"):
        demo_variant.get("v3")


def test_v1_serves_the_committed_model_unchanged(demo: RunningServer) -> None:
    committed = demo_model.load()
    assert demo_variant.apply(committed, demo_variant.get("v1")) is committed
    features = read_features(ROLLOUT_INPUTS)[:200]
    status, body = predict(demo, {"instances": features.tolist()})
    assert status == 200
    expected_labels, expected_probabilities = committed.predict(features)
    assert body["labels"] == expected_labels.tolist()
    np.testing.assert_allclose(body["probabilities"], expected_probabilities, rtol=1e-12)
    assert call(demo, "GET", "/version") == (200, {"variant": "v1"})
    assert call(demo, "GET", "/healthz") == (200, {"status": "ok"})


def test_inputs_file_is_reproducible_and_shaped_for_predict(tmp_path: Path) -> None:
    out = tmp_path / "inputs.jsonl"
    command = [sys.executable, "-m", "infratest.demo.inputs", "--out", str(out)]
    subprocess.run([*command, "--count", "400", "--seed", "7"], check=True, cwd=REPO_ROOT)
    assert out.read_bytes() == ROLLOUT_INPUTS.read_bytes()
    bodies = [json.loads(line) for line in ROLLOUT_INPUTS.read_text().splitlines()]
    assert len(bodies) == 400 and len({json.dumps(b) for b in bodies}) == 400
    assert all(list(b) == ["features"] and len(b["features"]) == 4 for b in bodies)


def test_v2_disagrees_with_v1_on_a_designed_share_of_inputs() -> None:
    """About 1.5% by design: 4-8 of the 400 committed bodies, and 0.8-2.5% of fresh draws."""
    committed = read_features(ROLLOUT_INPUTS)
    on_file = int(np.sum(model_labels("v1", committed) != model_labels("v2", committed)))
    assert 4 <= on_file <= 8
    fresh = np.random.default_rng(2024).normal(size=(50_000, 4))
    rate = float(np.mean(model_labels("v1", fresh) != model_labels("v2", fresh)))
    assert 0.008 <= rate <= 0.025


def test_v2_server_answers_with_the_designed_disagreements(demo: RunningServer) -> None:
    features = read_features(ROLLOUT_INPUTS)
    expected_v1, expected_v2 = model_labels("v1", features), model_labels("v2", features)
    with start_server(["--load-delay", "0", "--variant", "v2"], module=DEMO) as v2:
        assert call(v2, "GET", "/version") == (200, {"variant": "v2"})
        assert call(v2, "GET", "/healthz") == (200, {"status": "ok"})
        served_v2 = labels_over_http(v2, ROLLOUT_INPUTS)
    served_v1 = labels_over_http(demo, ROLLOUT_INPUTS)
    assert served_v1 == expected_v1.tolist()
    assert served_v2 == expected_v2.tolist()
    differing = [i for i, (a, b) in enumerate(zip(served_v1, served_v2, strict=True)) if a != b]
    assert 4 <= len(differing) <= 8


def test_unknown_variant_is_a_clear_usage_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", DEMO, "--port", "0", "--variant", "v3"],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=REPO_ROOT,
    )
    assert result.returncode == 2
    assert "--variant: invalid choice: 'v3'" in result.stderr
    assert "'v1'" in result.stderr and "'v2'" in result.stderr
