"""The reports of steps over arrival rate: the steps table, the capacity facts and the plots
read each row's `rate` (there is no `users`), and a rate search's answer is shown in req/s."""

from __future__ import annotations

from typing import Any

from infratest.results import plots
from infratest.results.html import render_html
from infratest.results.markdown import render_markdown
from infratest.results.view import capacity_facts


def _figure(value: float, unit: str, low: float, high: float) -> dict[str, Any]:
    return {"value": value, "ci_low": low, "ci_high": high, "confidence": 0.95, "unit": unit}


def _rate_capacity() -> dict[str, Any]:
    rows = [(30.0, 30.1, 0.06, True), (60.0, 59.8, 0.09, True), (120.0, 80.2, 2.5, False)]
    steps = [
        {"rate": r, "throughput": x, "throughput_low": x - 2, "throughput_high": x + 2}
        | {"p95": p95, "errors_rate": 0.0, "meets_slo": ok, "generator_cpu_peak": 0.2}
        | {"why": "every SLO met" if ok else "latency.p95 misses < 150ms", "locust_workers": 0}
        for r, x, p95, ok in rows
    ]
    metrics = {
        "capacity.rate": _figure(60.0, "1/s", 60.0, 119.0) | {"n": 4, "method": "capacity-search"},
        "capacity.throughput": _figure(59.8, "1/s", 57.0, 62.0) | {"n": 40, "method": "t"},
    }
    return {
        "id": "api.yaml::api::rate capacity",
        "scenario": "api",
        "name": "rate capacity",
        "file": "scenarios/api.yaml",
        "line": 3,
        "target": "api",
        "workload": "capacity",
        "verdict": "pass",
        "reason": "every expectation met",
        "checks": [],
        "metrics": metrics,
        "notes": [],
        "series": {
            "capacity": {
                "steps": steps,
                "by": "rate",
                "bracket": [60, 120],
                "confirmed": 60,
                "slo": {"latency.p95": "< 150ms"},
                "plan": None,
            }
        },
        "started_at": "2025-01-01T10:00:00Z",
        "duration_s": 20.0,
    }


def _document(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "infratest_version": "0.1.0",
        "schema_version": 1,
        "started_at": "2025-01-01T10:00:00Z",
        "finished_at": "2025-01-01T10:01:00Z",
        "complete": True,
        "interrupted": False,
        "summary": {"pass": 1},
        "assumptions": [entry],
    }


def test_capacity_facts_show_the_rate() -> None:
    facts = dict(capacity_facts(_rate_capacity()))
    assert facts["Maximum load under the SLO"] == "60/s"
    assert facts["Search bracket"] == "largest met: 60/s; smallest missed: 120/s"
    assert "latency.p95" in facts["SLO headroom at that load"]  # found the 60/s row


def test_the_reports_show_rate_steps() -> None:
    entry = _rate_capacity()
    page = render_html(_document(entry))
    assert "<th>Rate (1/s)</th>" in page and "<th>Users</th>" not in page
    text = render_markdown(_document(entry))
    assert "| Maximum load under the SLO | 60/s |" in text
    kind, steps = plots.load_steps(entry)
    assert kind == "capacity" and [s["rate"] for s in steps] == [30.0, 60.0, 120.0]
    assert plots.capacity_level(entry) == 60.0
    assert plots.throughput_vs_load(entry) is not None
    assert plots.latency_vs_load(entry) is not None
