"""Replaying recorded traffic against a real loopback server: the recording's requests arrive in
its order, with its bodies, at its times divided by `speed`; a HAR capture's requests go to the
target, never with the capture's credentials."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from infratest.spec.problems import SpecError
from infratest.verdict import Verdict
from tests.support.assumptions import behaviour_config, run_assumption

pytestmark = [pytest.mark.load, pytest.mark.usefixtures("no_leftover_processes")]

RECORDED = [
    {"t": 50.0, "method": "POST", "path": "/predict", "body": {"features": [1, 2, 3, 4]}},
    {"t": 50.6, "method": "GET", "path": "/items/42?x=1"},
    {"t": 51.6, "method": "POST", "path": "/predict", "body": {"features": [5, 6, 7, 8]}},
    {"t": 52.2, "method": "PUT", "path": "/items/7", "body": {"name": "é"}},
    {"t": 53.4, "method": "POST", "path": "/predict", "body": {"features": [9, 9, 9, 9]}},
]


def _received(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_recording_arrives_in_order_with_its_bodies_at_its_times_over_speed(
    tmp_path: Path,
) -> None:
    (tmp_path / "traffic.jsonl").write_text("\n".join(json.dumps(r) for r in RECORDED))
    got = tmp_path / "got.jsonl"
    config = behaviour_config(tmp_path, "--delay", "0.005", "--record-requests", str(got))
    result = run_assumption(
        tmp_path,
        config,
        "replay: {file: traffic.jsonl, speed: 2}\nexpect: {errors.count: < 1, requests: '>= 5'}\n",
    )
    assert result.outcome.verdict == Verdict.PASS, result.outcome.reason
    received = _received(got)
    assert [(r["method"], r["path"]) for r in received] == [
        (r["method"], r["path"]) for r in RECORDED
    ]
    bodies = [json.loads(r["body"]) for r in received if r["body"]]
    assert bodies == [r["body"] for r in RECORDED if "body" in r]
    gaps = [b["at"] - a["at"] for a, b in itertools.pairwise(received)]
    recorded = [(b["t"] - a["t"]) / 2 for a, b in itertools.pairwise(RECORDED)]
    assert all(abs(g - r) < 0.15 for g, r in zip(gaps, recorded, strict=True)), gaps
    load = result.measurements.series["load"]
    assert load["replay"]["requests"] == 5 and load["arrivals"]["arrivals"] == "recorded"
    assert "GET /items/{id}" in load["replay"]["kinds"]


def _har_entry(second: float, method: str, url: str, body: str | None = None) -> dict:
    request: dict = {
        "method": method,
        "url": url,
        "headers": [
            {"name": "Authorization", "value": "Bearer capture-secret"},
            {"name": "Cookie", "value": "session=capture-secret"},
        ],
    }
    if body is not None:
        request["postData"] = {"mimeType": "application/json", "text": body}
    return {"startedDateTime": f"2026-11-30T12:00:{second:06.3f}Z", "request": request}


def test_a_har_capture_replays_its_requests_at_the_target_without_its_credentials(
    tmp_path: Path,
) -> None:
    entries = [
        _har_entry(0.1 * i, "POST", f"https://api.example.com/predict?n={i}", f'{{"n": {i}}}')
        if i % 3
        else _har_entry(0.1 * i, "GET", "https://cdn.example.com/static/app.js")
        for i in range(15)
    ]
    (tmp_path / "capture.har").write_text(json.dumps({"log": {"entries": entries}}))
    got = tmp_path / "got.jsonl"
    config = behaviour_config(tmp_path, "--record-requests", str(got))
    result = run_assumption(
        tmp_path,
        config,
        "replay: {file: capture.har, paths: ['/predict'], headers: {X-Tenant: t1}}\n"
        "expect: {errors.rate: < 50%}\n",
    )
    assert result.outcome.verdict == Verdict.PASS, result.outcome.reason
    received = _received(got)
    assert [r["path"] for r in received] == [f"/predict?n={i}" for i in range(15) if i % 3]
    assert [json.loads(r["body"])["n"] for r in received] == [i for i in range(15) if i % 3]
    assert all(
        "authorization" not in r["headers"] and "cookie" not in r["headers"] for r in received
    )
    assert all("x-tenant" in r["headers"] for r in received)
    assert all(r["content_type"] == "application/json" for r in received)


def test_recorded_hosts_are_kept_when_asked_and_only_on_allowed_hosts(
    tmp_path: Path, target
) -> None:
    got_a, got_b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a = target("--record-requests", str(got_a))
    b = target("--record-requests", str(got_b))
    entries = [_har_entry(0.2 * i, "GET", f"{(a, b)[i % 2].url}/r{i}") for i in range(6)]
    (tmp_path / "capture.har").write_text(json.dumps({"log": {"entries": entries}}))
    config = behaviour_config(tmp_path, url=a.url)
    replay = "replay: {file: capture.har, hosts: recorded}\nexpect: {errors.count: < 1}\n"
    result = run_assumption(tmp_path, config, replay)
    assert result.outcome.verdict == Verdict.PASS, result.outcome.reason
    assert [r["path"] for r in _received(got_a)] == ["/r0", "/r2", "/r4"]
    assert [r["path"] for r in _received(got_b)] == ["/r1", "/r3", "/r5"]
    assert f"GET {b.url}/r1" in result.measurements.series["load"]["replay"]["kinds"]
    refused = behaviour_config(tmp_path, url=a.url, hosts=("localhost",))
    with pytest.raises(SpecError, match=r"capture\.har:1: host '127\.0\.0\.1' is not in allow"):
        run_assumption(tmp_path, refused, replay)
