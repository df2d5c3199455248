"""Trace context on each send, and the small lists of failed and slowest requests kept however
long the run (by simulation against sorting everything)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from infratest.trace_evidence import annotated, lines_mentioning
from infratest.traces import KEEP, TracedRequest, TraceLists
from infratest.workloads.trace_context import TRACE_KEY, trace_of, traced
from infratest.workloads.trace_ledger import TraceLedger


def test_each_send_gets_its_own_traceparent_and_request_id() -> None:
    first = {"headers": {"X-Key": "k"}, "context": {"other": 1}}
    second: dict = {}
    a, b = traced(first), traced(second)
    assert a != b and len(a) == 32 and int(a, 16) >= 0
    assert trace_of(first["headers"]) == a and first["headers"]["x-request-id"] == a
    assert first["context"] == {"other": 1, TRACE_KEY: a} and first["headers"]["X-Key"] == "k"
    assert second["headers"]["traceparent"].startswith(f"00-{b}-")


def test_a_scenarios_own_traceparent_and_request_id_are_kept() -> None:
    own = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    kwargs = {"headers": {"TraceParent": own, "X-Request-ID": "mine"}}
    assert traced(kwargs) == "0af7651916cd43dd8448eb211c80319c"
    assert kwargs["headers"] == {"TraceParent": own, "X-Request-ID": "mine"}
    assert trace_of({"traceparent": "not-a-traceparent"}) is None


def _request(i: int, latency: float, failed: bool) -> TracedRequest:
    return TracedRequest(
        f"{i:032x}",
        1000.0 + i,
        float(i),
        "GET /",
        500 if failed else 200,
        latency,
        "HTTP 500" if failed else None,
    )


requests_strategy = st.lists(
    st.tuples(st.floats(0, 10, allow_nan=False), st.booleans()), max_size=120
).map(lambda rows: [_request(i, lat, bad) for i, (lat, bad) in enumerate(rows)])


@given(requests_strategy, st.integers(1, 4))
def test_the_lists_are_the_first_failed_and_the_slowest_also_merged_over_workers(
    requests: list[TracedRequest], workers: int
) -> None:
    ledgers = [TraceLedger() for _ in range(workers)]
    for request in requests:
        ledger = ledgers[int(request.t_s) % workers]
        before = ledger.lists()
        wanted = ledger.wants(request.latency_s, request.error is not None)
        ledger.record(request)
        assert wanted or ledger.lists() == before  # the check that skips building one is exact
    merged = TraceLists.merged(ledger.lists() for ledger in ledgers)
    failed = [r for r in requests if r.error]
    if workers == 1:
        assert list(merged.failed) == failed[:KEEP]
    assert len(merged.failed) == min(len(failed), KEEP)
    assert [r.at for r in merged.failed] == sorted(r.at for r in merged.failed)
    top = sorted((r.latency_s for r in requests), reverse=True)[:KEEP]
    assert [r.latency_s for r in merged.slowest] == top
    assert TraceLists.from_dict(merged.to_dict()) == merged


def test_links_and_log_lines_are_attached_with_secrets_redacted(tmp_path) -> None:
    trace = _request(7, 0.5, True)
    log = tmp_path / "out.log"
    log.write_text(
        f"500 POST /p request_id={trace.trace_id} token=s3cr3t\nunrelated\n"
        f"retrying {trace.trace_id}\n"
    )
    lines = lines_mentioning(log, {trace.trace_id, "f" * 32}, secrets=("s3cr3t",))
    assert lines == {
        trace.trace_id: [
            f"500 POST /p request_id={trace.trace_id} token=***",
            f"retrying {trace.trace_id}",
        ]
    }
    out = annotated(TraceLists((trace,), ()), "https://t.example/{trace_id}?x=1", lines)
    assert out.failed[0].url == f"https://t.example/{trace.trace_id}?x=1"
    assert out.failed[0].log == tuple(lines[trace.trace_id])
    assert lines_mentioning(tmp_path / "missing.log", {trace.trace_id}) == {}


def test_the_report_links_each_trace_and_escapes_what_the_target_logged() -> None:
    from infratest.results.html_traces import traces_section

    failed = _request(1, 0.2, True).to_dict() | {
        "url": "https://traces.example/trace/abc",
        "log": ["<script>alert(1)</script> request_id=abc"],
    }
    hostile = _request(2, 0.9, False).to_dict() | {"url": "javascript:alert(1)"}
    entry = {"verdict": "fail", "traces": {"failed": [failed], "slowest": [hostile, failed]}}
    html = traces_section(entry)
    assert html.startswith("<details open>") and "1 failed, 2 slowest" in html
    assert '<a href="https://traces.example/trace/abc" rel="noreferrer">' in html
    assert "javascript:" not in html and "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; request_id=abc" in html
    assert (
        traces_section({"verdict": "pass", "traces": {"failed": [], "slowest": [failed]}})[:9]
        == "<details>"
    )
    assert traces_section({"verdict": "pass"}) == ""
