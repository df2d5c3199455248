"""The failure table's kinds, shared by the terminal, Markdown and HTML: a fuzz run's server
errors with the smallest body first, escaped for each markup and cut to a cell's width."""

from __future__ import annotations

from typing import Any

from infratest.results.failure_kinds import EXAMPLE_CHARS, failure_kinds
from infratest.results.html import render_html
from infratest.results.markdown import render_markdown

HOSTILE = '{"features": "<img src=x onerror=alert(1)>|"}'


def _fuzz_entry() -> dict[str, Any]:
    kinds = [
        {"key": "HTTP 500", "count": 4, "smallest": HOSTILE, "examples": [HOSTILE, "x" * 400]},
        {"key": "reset", "count": 1, "smallest": None, "examples": ["[1, 2]"]},
    ]
    return {
        "id": "s.yaml::fuzz",
        "verdict": "fail",
        "reason": "fuzz.server_errors 5 misses < 1",
        "workload": "fuzz",
        "series": {"fuzz": {"examples": 50, "error_kinds": kinds}},
    }


def _doc(entry: dict[str, Any]) -> dict[str, Any]:
    return {"assumptions": [entry], "summary": {"fail": 1}}


def test_fuzz_kinds_lead_with_the_smallest_body_and_are_cut() -> None:
    first, second = failure_kinds(_fuzz_entry())
    assert first.line().startswith(f"HTTP 500 ×4: smallest body: {HOSTILE}; first failing")
    assert max(len(x) for x in first.examples) == EXAMPLE_CHARS
    assert second.line() == "reset ×1: first failing bodies: [1, 2]"


def test_the_smallest_body_is_escaped_in_html_and_markdown() -> None:
    page = render_html(_doc(_fuzz_entry()))
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "<img src=x" not in page
    text = render_markdown(_doc(_fuzz_entry()))
    line = next(x for x in text.splitlines() if "HTTP 500 ×4" in x)
    assert "&lt;img src=x onerror=alert(1)>\\|" in line and "<img" not in line


def test_a_load_entry_keeps_its_failure_messages() -> None:
    entry = {"series": {"load": {"error_kinds": [{"key": "HTTP 503", "count": 2,
                                                  "examples": ["busy", "down"]}]}}}  # fmt: skip
    [kind] = failure_kinds(entry)
    assert kind.line() == "HTTP 503 ×2: busy; down"
    assert failure_kinds({"series": {"load": {"error_kinds": "junk"}}}) == []
