"""The HTML and Markdown reports, rendered from a realistic synthetic results document: every
assumption shows with its verdict, plots are embedded, text is escaped, and missing or partial
series never break rendering."""

from __future__ import annotations

import copy
import json
import math
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, ClassVar

import pytest

from infratest.results import compare_plots, plots
from infratest.results.html import render_html
from infratest.results.markdown import render_markdown
from infratest.results.render import write_reports
from infratest.results.view import check_headroom, check_line

IMG = '<img src="data:image/png;base64,'
HOSTILE = "server said <script>alert('x')</script> | & more"

# Plots each synthetic assumption has data for: load+probe draws latency, RSS and CPU.
EXPECTED_PLOTS = {
    "api.yaml::api::p95 under 20 users": 3,
    "api.yaml::api::errors at 200 users": 1,
    "api.yaml::api::scaling": 2,
    "api.yaml::api::capacity": 2,
    "api.yaml::api::cold start": 1,
    "storage.yaml::s3::upload": 0,
    "storage.yaml::disk::scratch": 1,
}


def _check(metric: str, op: str, bound: float | None, unit: str, **measured: Any) -> dict:
    return {
        "metric": metric,
        "op": op,
        "bound": bound,
        "unit": unit,
        "value": measured.get("value"),
        "ci_low": measured.get("low"),
        "ci_high": measured.get("high"),
        "confidence": 0.95 if measured.get("value") is not None else None,
        "verdict": measured.get("verdict", "pass"),
        "reason": measured.get("reason", f"{metric} meets {op} {bound}"),
    }


def _metric(value: float, unit: str, low: float, high: float, n: int = 100) -> dict:
    method = "exact" if low == high else "bootstrap"
    interval = {"value": value, "ci_low": low, "ci_high": high, "confidence": 0.95}
    return interval | {"unit": unit, "n": n, "method": method}


def _entry(ident: str, workload: str, verdict: str, reason: str, **rest: Any) -> dict:
    scenario_file = ident.split("::")[0]
    return {
        "id": ident,
        "scenario": ident.split("::")[1],
        "name": ident.split("::")[2],
        "file": f"scenarios/{scenario_file}",
        "line": 12,
        "target": "api",
        "workload": workload,
        "verdict": verdict,
        "reason": reason,
        "checks": rest.get("checks", []),
        "metrics": rest.get("metrics", {}),
        "notes": rest.get("notes", []),
        "series": rest.get("series", {}),
        "started_at": "2025-01-01T10:00:00Z",
        "duration_s": rest.get("duration_s", 31.2),
    }


def _per_second(seconds: int, users: int, slow: float) -> list[dict]:
    rows = []
    for t in range(seconds):
        base = 0.020 + slow * t / seconds
        rows.append(
            {"t": t, "users": min(users, 2 + t * 4), "requests": 180, "errors": t % 7 == 0}
            | {"p50": base, "p95": base * 2.1, "p99": base * 3.4}
        )
    return rows


def _probe(seconds: float) -> dict:
    t = [round(i * 0.25, 3) for i in range(int(seconds * 4))]
    rss = [150e6 + 40_000 * x + (5e5 if i % 9 == 0 else 0) for i, x in enumerate(t)]
    rss[3] = None  # a missed sample is null in the document
    return {
        "t": t,
        "rss": rss,
        "cpu": [0.4 + 0.2 * math.sin(x) for x in t],
        "threads": [12] * len(t),
        "fds": [40] * len(t),
        "host_available": [8e9] * len(t),
        "host_cpu": [0.25] * len(t),
        "pid": 4242,
        "process_gone_at": None,
        "sampler_cpu": 0.01,
        "warmup_s": 2.0,
    }


def _load_pass() -> dict:
    return _entry(
        "api.yaml::api::p95 under 20 users",
        "load",
        "pass",
        "every expectation met",
        checks=[
            _check("latency.p95", "<", 0.2, "s", value=0.0412, low=0.0398, high=0.0431),
            _check("errors.rate", "<", 0.01, "ratio", value=0.001, low=0.0004, high=0.002),
            _check("process.rss.growth", "<", 1e6, "B/s", value=4.1e4, low=3.5e4, high=4.6e4),
        ],
        metrics={
            "latency.p95": _metric(0.0412, "s", 0.0398, 0.0431, 5400),
            "throughput": _metric(180.0, "1/s", 176.0, 184.0, 5400),
            "process.rss.growth": _metric(4.1e4, "B/s", 3.5e4, 4.6e4, 120),
            "requests": _metric(5400, "count", 5400, 5400),
        },
        notes=["5400 requests in 30.0 s measured after warm-up"],
        series={"load": {"per_second": _per_second(30, 20, 0.01)}, "probe": _probe(30)}
        | {"other": None},
    )


def _load_fail() -> dict:
    load = {
        "per_second": _per_second(20, 200, 0.3),
        "error_kinds": [{"key": "HTTP 503", "count": 412, "examples": ["<html>busy</html>"]}],
        "measure_start": 5.0,
        "measure_end": 25.0,
    }
    return _entry(
        "api.yaml::api::errors at 200 users",
        "load",
        "fail",
        HOSTILE,
        checks=[
            _check("errors.rate", "<", 0.01, "ratio", value=0.11, low=0.1, high=0.12)
            | {"verdict": "fail", "reason": "errors.rate 11% misses < 1%"},
            _check("latency.p99", "<", None, "s", value=0.9, low=0.8, high=1.0),
        ],
        notes=["412 failed: HTTP 503 ×412", "pipe | in a note"],
        series={"load": load},
    )


def _sweep() -> dict:
    users = [1, 2, 4, 8, 16, 32]
    lam, sigma, kappa = 50.0, 0.05, 0.002
    steps = []
    for n in users:
        x = lam * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))
        steps.append(
            {"users": n, "throughput": x, "throughput_low": x * 0.95, "throughput_high": x * 1.05}
            | {"p50": 0.01 * n**0.5, "p95": 0.02 * n**0.6, "p99": 0.03 * n**0.7}
            | {"errors_rate": 0.0, "generator_cpu_peak": 0.3, "duration_s": 10.0}
        )
    usl = {"sigma": sigma, "kappa": kappa, "lam": lam, "r2": 0.99, "ok": True, "reason": ""}
    usl |= {"peak_users": 21.8, "peak_throughput": 362.0}
    return _entry(
        "api.yaml::api::scaling",
        "sweep",
        "inconclusive",
        "scaling.efficiency straddles > 50%",
        checks=[
            _check("scaling.efficiency", ">", 0.5, "ratio", value=0.55, low=0.45, high=0.62)
            | {"verdict": "inconclusive", "reason": "scaling.efficiency straddles > 50%"}
        ],
        metrics={"scaling.efficiency": _metric(0.55, "ratio", 0.45, 0.62, 6)},
        series={
            "sweep": {"steps": steps, "usl": usl | {"peak_users": 21.8, "peak_throughput": 362.0}}
        }
        | {"load": {"per_second": []}},
    )


def _capacity() -> dict:
    rows = [(4, 190.0, 0.05, True), (8, 360.0, 0.09, True), (16, 410.0, 0.21, False)]
    steps = [
        {"users": u, "throughput": x, "throughput_low": x - 8, "throughput_high": x + 8}
        | {"p95": p95, "errors_rate": 0.0, "meets_slo": ok, "generator_cpu_peak": 0.4}
        | {"why": "latency.p95 misses < 150ms" if not ok else "every SLO met"}
        for u, x, p95, ok in rows
    ]
    plan = {"rate": 1000.0, "headroom": 0.3, "replicas": 4, "per_replica_throughput": 360.0}
    return _entry(
        "api.yaml::api::capacity",
        "capacity",
        "pass",
        "every expectation met",
        checks=[_check("capacity.users", ">=", 5, "count", value=8, low=8, high=15)],
        metrics={
            "capacity.users": _metric(8, "count", 8, 15, 3),
            "capacity.throughput": _metric(360.0, "1/s", 352.0, 368.0, 3),
        },
        notes=["1000/s with 30% headroom needs 4 replicas at 360/s each"],
        series={
            "capacity": {
                "steps": steps,
                "bracket": [8, 16],
                "slo": {"latency.p95": "< 150ms", "errors.rate": "< 1%"},
                "plan": plan,
            }
        },
    )


def _cold_start() -> dict:
    runs = [
        {"port_open_s": 0.8 + i / 10, "ready_s": 2.1 + i / 10, "first_response_s": 2.4, "rss": 2e8}
        for i in range(3)
    ]
    runs[1]["port_open_s"] = None
    return _entry(
        "api.yaml::api::cold start",
        "cold_start",
        "pass",
        "every expectation met",
        checks=[_check("cold_start.ready", "<", 5.0, "s", value=2.2, low=2.1, high=2.3)],
        series={"cold_start": {"runs": runs}},
    )


def _error() -> dict:
    return _entry(
        "storage.yaml::s3::upload",
        "s3",
        "error",
        "could not reach the bucket: connection refused",
        checks=[_check("s3.upload.throughput", ">=", 5e7, "B/s", verdict="error", reason="")],
        series={"s3": {}},
        duration_s=None,
    )


def _disk() -> dict:
    return _entry(
        "storage.yaml::disk::scratch",
        "disk",
        "pass",
        "every expectation met",
        checks=[
            _check("disk.write.throughput", ">=", 1e8, "B/s", value=4e8, low=3.8e8, high=4.2e8)
        ],
        series={"disk": {"write_chunk_Bps": [4e8 + i * 1e6 for i in range(40)], "fsync_s": []}},
    )


def synthetic_document() -> dict[str, Any]:
    """A results document shaped like a real run, covering every workload the reports draw."""
    assumptions = [_load_pass(), _load_fail(), _sweep(), _capacity(), _cold_start(), _error()]
    assumptions.append(_disk())
    summary: dict[str, int] = {}
    for entry in assumptions:
        summary[entry["verdict"]] = summary.get(entry["verdict"], 0) + 1
    return {
        "infratest_version": "0.1.0",
        "schema_version": 1,
        "started_at": "2025-01-01T10:00:00Z",
        "finished_at": "2025-01-01T10:05:00Z",
        "complete": True,
        "interrupted": False,
        "config": "infratest.yaml",
        "host": "ci-runner-1",
        "summary": summary,
        "assumptions": assumptions,
        "provenance": {
            "scenario_files": {
                "scenarios/api.yaml": "ab" * 32,
                "scenarios/storage.yaml": "cd" * 32,
            },
            "config": "infratest.yaml",
            "git_commit": "0123456789abcdef",
            "python": "3.11.9",
            "command": "pytest --infratest-html report.html",
        },
    }


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return synthetic_document()


@pytest.fixture(scope="module")
def page(doc: dict[str, Any]) -> str:
    return render_html(doc)


def _table_rows(markdown: str) -> dict[str, str]:
    """Assumption id -> verdict, from the first column pair of the verdict table."""
    found = re.findall(r"^\| (PASS|FAIL|INCONCLUSIVE|ERROR) \| ([^|]+?) \|", markdown, re.M)
    return {ident: verdict for verdict, ident in found}


def test_markdown_lists_every_assumption_with_its_verdict(doc: dict[str, Any]) -> None:
    text = render_markdown(doc)
    rows = _table_rows(text)
    assert rows == {e["id"]: e["verdict"].upper() for e in doc["assumptions"]}
    assert text.startswith("## infratest: FAIL")
    assert "**4 pass · 1 fail · 1 inconclusive · 1 error**" in text


def test_markdown_key_figures_and_capacity(doc: dict[str, Any]) -> None:
    text = render_markdown(doc)
    assert "latency.p95 41.2ms vs < 200ms (headroom +79%)" in text
    assert "### Capacity" in text
    capacity = text.split("### Capacity")[1].split("###")[0]
    assert "| Maximum load under the SLO | 8 users |" in capacity
    assert "| Replicas for that rate | 4 (360/s per replica) |" in capacity
    assert "1e+03/s with 30% headroom" in capacity or "1000/s with 30% headroom" in capacity
    assert "latency.p95 90ms vs < 150ms: +40%" in capacity  # SLO headroom at 8 users
    assert "peak" in capacity and "USL fit" in capacity


def test_markdown_escapes_cells_and_explains_failures(doc: dict[str, Any]) -> None:
    text = render_markdown(doc)
    assert "<script" not in text
    assert "&lt;script>alert('x')&lt;/script>" in text
    reasons = text.split("### Why not passing")[1]
    assert "pipe \\| in a note" in reasons
    assert "could not reach the bucket" in reasons
    for line in text.splitlines():
        if line.startswith("| ") and "|" in line[2:]:
            cells = re.split(r"(?<!\\)\|", line)[1:-1]
            assert len(cells) in (2, 4), line  # no stray `|` broke a row


def test_html_embeds_one_image_per_plot(page: str, doc: dict[str, Any]) -> None:
    assert page.count(IMG) == sum(EXPECTED_PLOTS.values())
    for entry in doc["assumptions"]:
        assert len(plots.plots_for(entry)) == EXPECTED_PLOTS[entry["id"]], entry["id"]


def test_html_is_self_contained_and_escaped(page: str) -> None:
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "&lt;html&gt;busy&lt;/html&gt;" in page


def test_html_shows_checks_capacity_and_provenance(page: str, doc: dict[str, Any]) -> None:
    for entry in doc["assumptions"]:
        assert entry["id"] in page
    assert "41.2ms (95% CI 39.8ms..43.1ms)" in page
    assert "Maximum load under the SLO" in page and "4 (360/s per replica)" in page
    assert "<h2>Provenance</h2>" in page and "ab" * 32 in page
    assert "< ∞" not in page and "&lt; ∞" in page  # a null bound is an infinite one


class _Structure(HTMLParser):
    """Checks that block tags are closed in order."""

    VOID: ClassVar[set[str]] = {"img", "meta", "br", "hr", "link", "input"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:]}")
            return
        self.stack.pop()


def test_html_is_well_formed(page: str) -> None:
    parser = _Structure()
    parser.feed(page)
    parser.close()
    assert parser.problems == []
    assert parser.stack == []
    assert page.count("<table>") == page.count("</table>")
    assert page.count("<div") == page.count("</div>")


def _stripped(doc: dict[str, Any]) -> dict[str, Any]:
    bare = copy.deepcopy(doc)
    for i, entry in enumerate(bare["assumptions"]):
        entry["series"] = [{}, None, {"load": {}, "probe": {"t": []}}, [], {"sweep": None}][i % 5]
        if i % 2:
            entry.pop("metrics")
            entry["checks"] = [{"metric": "unknown.metric"}]
    return bare


@pytest.mark.parametrize(
    "variant",
    [
        lambda d: _stripped(d),
        lambda d: {},
        lambda d: {"assumptions": [{"id": "x"}], "interrupted": True, "provenance": None},
        lambda d: d | {"complete": False, "finished_at": None},
    ],
    ids=["missing-series", "empty-document", "minimal-entry", "unfinished"],
)
def test_missing_or_empty_data_does_not_raise(variant: Any, doc: dict[str, Any]) -> None:
    bare = variant(doc)
    assert "infratest" in render_markdown(bare)
    assert "<html" in render_html(bare)


def test_partial_series_keep_the_plots_they_can_draw() -> None:
    entry = _sweep()
    entry["series"]["sweep"]["usl"] = None
    for step in entry["series"]["sweep"]["steps"]:
        step.pop("throughput_low")
        step["p99"] = None
    assert len(plots.plots_for(entry)) == 2
    entry["series"]["sweep"]["steps"] = [{"users": 1}]
    assert plots.plots_for(entry) == []


def test_headroom_sign_follows_the_operator() -> None:
    assert check_headroom({"op": "<", "bound": 0.2, "value": 0.05}) == pytest.approx(75.0)
    assert check_headroom({"op": ">=", "bound": 100.0, "value": 80.0}) == pytest.approx(-20.0)
    assert check_headroom({"op": "<", "bound": None, "value": 1.0}) is None


def test_write_reports_writes_both_files_atomically(doc: dict[str, Any], tmp_path: Path) -> None:
    html_path, md_path = tmp_path / "out" / "report.html", tmp_path / "summary.md"
    write_reports(doc, str(html_path), str(md_path))
    assert html_path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert md_path.read_text(encoding="utf-8").startswith("## infratest:")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["out", "report.html", "summary.md"]
    write_reports(doc, None, None)  # nothing asked, nothing written


# --- rollout comparison (`compare:`): a real results document from a compare run ---

COMPARE_FIXTURE = Path(__file__).parent.parent / "fixtures" / "compare-results.json"
HOSTILE_ANSWER = '<img src=x onerror=alert(1)> & "quoted"'


def compare_document() -> dict[str, Any]:
    """The recorded compare run, with one disagreement answering hostile markup."""
    doc = json.loads(COMPARE_FIXTURE.read_text(encoding="utf-8"))
    found = doc["assumptions"][0]["series"]["predictions"]["disagreements"]
    found[0]["candidate"] = HOSTILE_ANSWER
    return doc


@pytest.fixture(scope="module")
def compare_doc() -> dict[str, Any]:
    return compare_document()


@pytest.fixture(scope="module")
def compare_page(compare_doc: dict[str, Any]) -> str:
    return render_html(compare_doc)


def _section(page: str) -> str:
    start = page.index('<section class="compare">')
    return page[start : page.index("</section>", start)]


def test_html_compare_section_side_by_side(compare_page: str) -> None:
    section = _section(compare_page)
    assert "<h4>Baseline vs candidate</h4>" in section
    assert "4 rounds of 1 s: A B B A A B B A" in section
    row = section.split("<code>latency.p95</code>")[1].split("</tr>")[0]
    assert "24.1ms (95% CI 22.8ms..24.9ms)" in row  # baseline
    assert "27.9ms (95% CI 27.3ms..28.5ms)" in row  # candidate
    assert "+16% (95% CI +12%..+23.9%)" in row  # the change the check decided on
    assert '<span class="badge fail">FAIL</span> &lt;= +10%' in row
    errors = section.split("<code>errors.rate</code>")[1].split("</tr>")[0]
    assert "+1.91pp (95% CI -0.253pp..+4.11pp)" in errors and "INCONCLUSIVE" in errors
    p99 = section.split("<code>latency.p99</code>")[1].split("</tr>")[0]
    assert "&lt; 1s (candidate&#x27;s own)" in p99


def test_html_compare_plots_and_blocks(compare_page: str, compare_doc: dict[str, Any]) -> None:
    section = _section(compare_page)
    assert section.count(IMG) == 2
    assert 'alt="Latency distribution: baseline vs candidate"' in section
    assert 'alt="Latency per block"' in section
    entry = compare_doc["assumptions"][0]
    assert compare_page.count(IMG) == 2 + len(plots.plots_for(entry))
    blocks = section.split("<summary>Blocks (8)</summary>")[1].split("</table>")[0]
    assert blocks.count("<tr>") == 9  # header and 8 blocks
    assert blocks.count('class="candidate-side"') == 4
    assert blocks.count('class="baseline-side"') == 4
    for title, draw in compare_plots.COMPARE_PLOTS:
        png = draw(entry)
        assert png is not None and png.startswith(b"\x89PNG"), title


def test_html_predictions_escape_answers(compare_page: str) -> None:
    section = _section(compare_page)
    assert "<td>287 of 300</td>" in section
    assert "95.7% (95% CI 93.2%..97.4%)" in section
    assert "candidate: HTTP 500 ×6" in section
    assert "First 13 inputs answered differently" in section
    assert "<img src=x" not in compare_page
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quoted&quot;" in section
    assert "{&quot;id&quot;: 18}" in section


def test_html_check_table_formats_changes(compare_page: str) -> None:
    checks_table = compare_page.split('<section class="compare">')[0].split("<tbody>")[-1]
    p95 = checks_table.split("<code>latency.p95</code>")[1].split("</tr>")[0]
    assert "<td>&lt;= +10%</td>" in p95
    assert "+16% (95% CI +12%..+23.9%) vs baseline 24.1ms" in p95
    assert "160ms" not in p95 and "100ms" not in p95  # not a duration
    p50 = checks_table.split("<code>latency.p50</code>")[1].split("</tr>")[0]
    assert "<td>&lt;= +5ms</td>" in p50 and "+4.11ms (95% CI +3.83ms..+4.36ms)" in p50
    assert "<td>n/a</td>" in p50  # no headroom for a change
    rss = checks_table.split("<code>process.rss.peak</code>")[1].split("</tr>")[0]
    assert "-0.0696% vs baseline 23.5MB" in rss and "&lt;= +20%" in rss


def test_markdown_formats_changes(compare_doc: dict[str, Any]) -> None:
    text = render_markdown(compare_doc)
    assert "latency.p95 +16% (95% CI +12%..+23.9%) vs baseline 24.1ms misses <= +10%" in text
    assert "errors.rate +1.91pp (95% CI -0.253pp..+4.11pp) vs baseline 0% straddles <= +1pp" in text
    assert "latency.p99 29.5ms vs < 1s (headroom +97%)" in text  # unsigned: its own value
    section = text.split("### Baseline vs candidate")[1].split("###")[0]
    assert "| latency.p95 | 24.1ms (95% CI 22.8ms..24.9ms) | 27.9ms" in section
    assert "| +16% (95% CI +12%..+23.9%) | FAIL <= +10% |" in section
    assert "latency.p90" not in section  # the CI summary lists checked metrics only
    assert "inputs agreed 287 of 300" in section
    assert "<img" not in text


def test_check_line_words_a_change() -> None:
    check = {"metric": "latency.p95", "op": "<=", "bound": 0.1, "change": "relative"}
    check |= {"baseline": 0.0241, "value": 0.16, "ci_low": 0.12, "ci_high": 0.24}
    check |= {"confidence": 0.95, "verdict": "fail"}
    assert check_line(check) == (
        "latency.p95 +16% (95% CI +12%..+24%) vs baseline 24.1ms misses <= +10%"
    )
    assert check_headroom(check) is None
    points = check | {"metric": "errors.rate", "change": "absolute", "bound": 0.01}
    assert check_line(points | {"verdict": "pass"}).endswith("meets <= +1pp")


def _without_compare_data(doc: dict[str, Any], variant: int) -> dict[str, Any]:
    bare = copy.deepcopy(doc)
    entry = bare["assumptions"][0]
    compare, predictions = entry["series"]["compare"], entry["series"]["predictions"]
    if variant == 0:
        compare.pop("cdf"), compare.pop("blocks"), entry["series"].pop("predictions")
    elif variant == 1:
        compare["cdf"] = {"baseline": [[0, 0.5], ["x", None], [1]], "candidate": None}
        compare["blocks"] = [None, {"side": "candidate"}, {"block": "?", "p50_s": None}]
        compare["order"], compare["requests"] = "ABBA", {"baseline": None}
    elif variant == 2:
        entry["baseline"] = {"changes": {"latency.p95": None, "errors.rate": {"absolute": 5}}}
        predictions["disagreements"] = [None, {"index": 1}, "text"]
        predictions["problems"] = ["not", "a", "dict"]
    else:
        entry.pop("baseline")
        entry["series"] = {"compare": {"blocks": "none"}, "predictions": {"compared": None}}
        for check in entry["checks"]:
            check.update(value=None, ci_low=None, ci_high=None, baseline=None)
    return bare


@pytest.mark.parametrize("variant", range(4))
def test_missing_or_partial_compare_data_does_not_raise(
    compare_doc: dict[str, Any], variant: int
) -> None:
    bare = _without_compare_data(compare_doc, variant)
    page = render_html(bare)
    assert "Baseline vs candidate" in page
    assert "### Baseline vs candidate" in render_markdown(bare)
    parser = _Structure()
    parser.feed(page)
    assert parser.problems == [] and parser.stack == []
