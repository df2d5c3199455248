"""The replay's pure parts: reading recorded traffic (JSONL, HAR), turning it into a plan's
timeline, splitting it over generator processes, and sizing what may be in flight."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infratest.spec.replay_section import ReplaySpec
from infratest.spec.traffic_file import TrafficFileError, read_traffic
from infratest.workloads.load_plan import LoadPlan
from infratest.workloads.replay_plan import peak_in_flight, replay_plan
from infratest.workloads.replay_timeline import NO_BODY

HOST = "http://127.0.0.1:1"


def _jsonl(path: Path, *rows: object) -> Path:
    path.write_text("\n".join(json.dumps(r) if not isinstance(r, str) else r for r in rows))
    return path


def _har(path: Path, entries: list[dict]) -> Path:
    path.write_text(json.dumps({"log": {"version": "1.2", "entries": entries}}))
    return path


def test_jsonl_times_start_at_zero_in_send_order_and_one_clock_per_file(tmp_path: Path) -> None:
    file = _jsonl(
        tmp_path / "t.jsonl",
        {"t": 10.5, "method": "post", "path": "/p", "body": {"x": "é"}},
        "",
        {"t": 10.0, "path": "/q?a=1"},
        {"t": "2026-01-01T00:00:12Z", "path": "/r"},
    )
    with pytest.raises(TrafficFileError, match=r"t\.jsonl:4: 't' mixes ISO times and seconds"):
        read_traffic(file)
    file = _jsonl(
        tmp_path / "u.jsonl",
        {"t": 10.5, "method": "post", "path": "/p", "body": {"x": "é"}},
        {"t": 10.0, "path": "/q?a=1"},
    )
    traffic = read_traffic(file)
    assert [(r.t_s, r.method, r.target, r.line) for r in traffic.requests] == [
        (0.0, "GET", "/q?a=1", 2),
        (0.5, "POST", "/p", 1),
    ]
    posted = traffic.requests[1]
    assert posted.body == '{"x": "é"}' and posted.content_type == "application/json"
    assert traffic.requests[0].body is None and traffic.span_s == 0.5


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "t.jsonl:2: not JSON"),
        ('{"t": 1}', "t.jsonl:2: field 'path' is missing"),
        ('{"t": 1, "path": "p"}', "must start with '/'"),
        ('{"t": 1, "path": "/p", "method": "BREW"}', "method 'BREW' is not one of"),
        ('{"t": "yesterday", "path": "/p"}', "neither seconds nor an ISO 8601 time"),
        ('{"t": 1, "path": "/p", "url": "/x"}', "unknown field 'url'"),
        ('{"t": 1, "path": "/p", "headers": {"a": 1}}', "'headers' must map names to strings"),
        ("[1, 2]", "expected an object"),
    ],
)
def test_a_bad_jsonl_line_is_named_with_its_number(tmp_path: Path, line: str, message: str) -> None:
    file = tmp_path / "t.jsonl"
    file.write_text('{"t": 0, "path": "/ok"}\n' + line + "\n")
    with pytest.raises(TrafficFileError, match=r"t\.jsonl") as info:
        read_traffic(file)
    assert message in str(info.value)


def test_har_entries_keep_method_url_and_body_but_never_credentials(tmp_path: Path) -> None:
    secret = [{"name": "Authorization", "value": "Bearer s3cr3t"}, {"name": "Cookie", "value": "k"}]
    file = _har(
        tmp_path / "t.har",
        [
            {
                "startedDateTime": "2026-11-30T12:00:00.250+01:00",
                "request": {
                    "method": "POST",
                    "url": "https://api.example.com/predict?v=2",
                    "headers": secret,
                    "postData": {"mimeType": "application/json", "text": '{"features":[1]}'},
                },
            },
            {
                "startedDateTime": "2026-11-30T11:00:00Z",
                "request": {"method": "GET", "url": "https://api.example.com/healthz"},
            },
        ],
    )
    first, second = read_traffic(file).requests
    assert (first.t_s, first.method, first.path, first.origin) == (
        0.0,
        "GET",
        "/healthz",
        "https://api.example.com",
    )
    assert second.t_s == 0.25 and second.path_and_query == "/predict?v=2"
    assert second.body == '{"features":[1]}' and second.content_type == "application/json"
    assert second.headers == () and "s3cr3t" not in repr(read_traffic(file))


def test_a_file_that_is_not_har_says_so(tmp_path: Path) -> None:
    (tmp_path / "x.har").write_text('{"log": {}}')
    with pytest.raises(TrafficFileError, match=r"not a HAR file: no log\.entries"):
        read_traffic(tmp_path / "x.har")
    _har(tmp_path / "y.har", [{"request": {"url": "/a"}}])
    with pytest.raises(TrafficFileError, match=r"log.entries\[0\]: no startedDateTime"):
        read_traffic(tmp_path / "y.har")


def test_the_plan_groups_kinds_divides_times_by_speed_and_indexes_bodies(tmp_path: Path) -> None:
    file = _jsonl(
        tmp_path / "t.jsonl",
        {"t": 0, "method": "POST", "path": "/users/123/predict", "body": {"a": 1}},
        {"t": 1, "method": "POST", "path": "/users/456/predict", "body": {"a": 1}},
        {"t": 2, "method": "GET", "path": "/healthz?probe=1"},
        {"t": 3, "method": "POST", "path": "/users/7/predict", "body": {"a": 2}},
    )
    spec = ReplaySpec(file=str(file), speed=2.0, headers={"X-Key": "k"})
    plan = replay_plan(read_traffic(file), spec, HOST, 10_000)
    timeline = plan.replay
    assert timeline is not None
    assert [r.name for r in plan.requests] == ["POST /users/{id}/predict", "GET /healthz"]
    assert plan.requests[0].headers == {"X-Key": "k", "Content-Type": "application/json"}
    assert timeline.offsets == (0.0, 0.5, 1.0, 1.5) and plan.duration_s == 2.0
    assert timeline.requests == (0, 0, 1, 0)
    assert [timeline.urls[i] for i in timeline.targets][2] == "/healthz?probe=1"
    assert timeline.bodies == (0, 0, NO_BODY, 1) and len(timeline.payloads) == 2
    assert plan.open_model and LoadPlan.from_json(plan.to_json()) == plan


def test_paths_and_duration_keep_part_of_the_recording(tmp_path: Path) -> None:
    rows = [{"t": i, "path": "/predict" if i % 2 else "/static/x.js"} for i in range(10)]
    file = _jsonl(tmp_path / "t.jsonl", *rows)
    spec = ReplaySpec(file=str(file), paths=("/predict",), duration="6s")
    plan = replay_plan(read_traffic(file), spec, HOST, 10_000)
    assert plan.replay is not None and plan.replay.offsets == (1.0, 3.0, 5.0)
    assert plan.duration_s == 6.0
    with pytest.raises(ValueError, match="no request"):
        replay_plan(read_traffic(file), ReplaySpec(file=str(file), paths=("/none",)), HOST, 10)


@given(
    st.lists(st.floats(0, 30, allow_nan=False), min_size=1, max_size=60),
    st.integers(1, 5),
)
def test_workers_split_the_recording_into_disjoint_parts_that_keep_its_order(
    times: list[float], workers: int
) -> None:
    from infratest.workloads.replay_timeline import ReplayTimeline

    offsets = tuple(sorted(times))
    n = len(offsets)
    timeline = ReplayTimeline(offsets, (0,) * n, tuple(range(n)), (NO_BODY,) * n, ("/",), ())
    parts = [list(timeline.worker_events(i, workers)) for i in range(workers)]
    assert sorted(p for part in parts for p in part) == list(range(n))
    schedule = timeline.schedule(31.0)
    for index, part in enumerate(parts):
        assert list(schedule.for_worker(index, workers).times()) == [offsets[p] for p in part]


@given(st.lists(st.floats(0, 20, allow_nan=False), min_size=1, max_size=80), st.floats(0.01, 5))
def test_peak_in_flight_is_the_most_requests_due_within_one_timeout(
    times: list[float], timeout: float
) -> None:
    offsets = sorted(times)
    brute = max(sum(1 for u in offsets if t <= u < t + timeout) for t in offsets)
    assert peak_in_flight(offsets, timeout) == brute
