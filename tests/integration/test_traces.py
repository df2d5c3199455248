"""Every request carries its own W3C trace context; the failed and slowest requests are listed by
trace id, linked to the tracing UI, with the managed target's log lines about them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infratest.verdict import Verdict
from tests.support.assumptions import behaviour_config, run_assumption

pytestmark = [pytest.mark.load, pytest.mark.usefixtures("no_leftover_processes")]

TRACE_URL = "https://traces.example/trace/{trace_id}"


def test_failed_and_slowest_requests_are_listed_by_the_trace_ids_the_server_received(
    tmp_path: Path,
) -> None:
    got = tmp_path / "got.jsonl"
    config = behaviour_config(
        tmp_path,
        *("--error-every", "10", "--tail-every", "7", "--tail-extra", "0.05"),
        *("--record-requests", str(got), "--log-requests"),
        extra={"trace_url": TRACE_URL},
    )
    result = run_assumption(
        tmp_path,
        config,
        "load: {users: 4, duration: 3s, requests: ['POST /predict']}\n"
        "expect: {errors.rate: < 1%}\n",
    )
    assert result.outcome.verdict == Verdict.FAIL, result.outcome.reason
    received = [json.loads(line) for line in got.read_text().splitlines()]
    parents = [r["traceparent"] for r in received]
    assert all(p is not None and p.startswith("00-") and len(p) == 55 for p in parents)
    sent_ids = {p.split("-")[1] for p in parents}
    assert len(sent_ids) == len(received)  # one trace per request
    traces = result.to_dict()["traces"]
    failed, slowest = traces["failed"], traces["slowest"]
    assert 1 <= len(failed) <= 20 and len(slowest) == 20
    assert {t["trace_id"] for t in failed + slowest} <= sent_ids
    assert all(t["status"] == 500 and t["error"] == "HTTP 500" for t in failed)
    assert [t["at"] for t in failed] == sorted(t["at"] for t in failed)
    latencies = [t["latency_s"] for t in slowest]
    assert latencies == sorted(latencies, reverse=True) and latencies[0] >= 0.05
    for trace in failed + slowest:
        assert trace["url"] == TRACE_URL.replace("{trace_id}", trace["trace_id"])
        assert any(f"request_id={trace['trace_id']}" in line for line in trace["log"]), trace
    assert all(line.startswith("500 ") for t in failed for line in t["log"])


def test_trace_headers_can_be_switched_off_for_a_target_that_pays_for_them(
    tmp_path: Path,
) -> None:
    got = tmp_path / "got.jsonl"
    config = behaviour_config(
        tmp_path, "--record-requests", str(got), extra={"trace_headers": False}
    )
    result = run_assumption(
        tmp_path,
        config,
        "load: {users: 2, duration: 2s, requests: ['POST /predict']}\n"
        "expect: {errors.count: < 1}\n",
    )
    assert result.outcome.verdict == Verdict.PASS, result.outcome.reason
    received = [json.loads(line) for line in got.read_text().splitlines()]
    assert received and all(r["traceparent"] is None for r in received)
    assert all("x-request-id" not in r["headers"] for r in received)
    assert result.to_dict()["traces"] == {"failed": [], "slowest": []}
