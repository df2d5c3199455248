"""Load verdicts against real loopback servers of known behaviour: the right verdict, a clear
reason, bounded time, and no process left behind."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import jsonschema
import pytest

from infratest.bodies import draw_bodies
from infratest.execution import AssumptionResult
from infratest.hosts import free_port
from infratest.results.contract import document
from infratest.results.html import render_html
from infratest.spec.config import Config
from infratest.verdict import Verdict
from tests.support.assumptions import behaviour_config, run_assumption

pytestmark = [pytest.mark.load, pytest.mark.usefixtures("no_leftover_processes")]


def _run(
    tmp_path: Path,
    config: Config,
    load: str,
    expect: str,
    validate: bool = True,
    extra: str = "",
) -> AssumptionResult:
    """One load assumption against `svc`; `extra` adds assumption-level lines."""
    assumption = f"load: {{{load}, requests: [GET /work]}}\nexpect: {{{expect}}}\n{extra}"
    return run_assumption(tmp_path, config, assumption, validate=validate)


def _checks(result: AssumptionResult) -> dict[str, Verdict]:
    return {c.metric: c.verdict for c in result.outcome.checks}


def _check_reason(result: AssumptionResult, metric: str) -> str:
    return next(c.reason for c in result.outcome.checks if c.metric == metric)


def _requests(result: AssumptionResult) -> dict[str, int]:
    return result.measurements.series["load"]["requests"]


def _notes(result: AssumptionResult) -> str:
    return " | ".join(result.measurements.notes)


def test_fixed_service_time(tmp_path: Path) -> None:
    config = behaviour_config(tmp_path, "--delay", "0.02")
    result = _run(
        tmp_path,
        config,
        "users: 4, duration: 3s, fail_fast: false",
        "latency.p95: < 500ms, latency.p50: < 10ms, throughput: '>= 20/s'",
    )
    p50 = result.measurements.values["latency.p50"].value
    assert 0.02 <= p50 < 0.2
    assert _checks(result) == {
        "latency.p95": Verdict.PASS,
        "latency.p50": Verdict.FAIL,
        "throughput": Verdict.PASS,
    }
    assert result.outcome.verdict == Verdict.FAIL
    assert "latency.p50" in result.outcome.reason and "misses < 10ms" in result.outcome.reason
    rate = result.measurements.values["throughput"].value
    assert rate <= 4 / 0.02 * 1.1  # four users can do no better than 4 / service time
    assert result.measurements.stopping is not None
    assert result.measurements.stopping.stopped == "duration"  # a fail did not end it


def test_every_fifth_request_fails(tmp_path: Path) -> None:
    config = behaviour_config(tmp_path, "--delay", "0.005", "--error-every", "5")
    result = _run(
        tmp_path,
        config,
        "users: 4, duration: 3s",
        "errors.rate: < 1%, errors.count: '>= 1', latency.p99: < 1s",
    )
    rate = result.measurements.values["errors.rate"]
    assert 0.15 <= rate.value <= 0.25
    assert _checks(result)["errors.rate"] == Verdict.FAIL
    assert result.outcome.verdict == Verdict.FAIL
    assert any("HTTP 500" in note for note in result.measurements.notes)


def test_refusing_connections_is_an_error_with_the_reason(tmp_path: Path) -> None:
    config = behaviour_config(tmp_path, url=f"http://127.0.0.1:{free_port()}")
    started = time.monotonic()
    result = _run(tmp_path, config, "users: 2, duration: 2s", "latency.p95: < 1s")
    assert result.outcome.verdict == Verdict.ERROR
    assert "did not answer" in result.outcome.reason
    assert "Refused" in result.outcome.reason or "refused" in result.outcome.reason
    assert time.monotonic() - started < 30


def test_target_dying_mid_run_is_an_error_naming_the_exit(tmp_path: Path) -> None:
    config = behaviour_config(tmp_path, "--delay", "0.01", "--die-after-requests", "30")
    started = time.monotonic()
    result = _run(tmp_path, config, "users: 2, duration: 3s", "errors.rate: < 1%")
    assert time.monotonic() - started < 3 + 20
    assert result.outcome.verdict == Verdict.ERROR
    assert "died" in result.outcome.reason and "exit code 3" in result.outcome.reason


def test_hanging_target_ends_within_its_bound(tmp_path: Path) -> None:
    config = behaviour_config(tmp_path, "--delay", "0.01", "--hang-after-requests", "20")
    started = time.monotonic()
    result = _run(tmp_path, config, "users: 2, duration: 3s, timeout: 1s", "errors.rate: < 1%")
    assert time.monotonic() - started < 3 + 20
    # all its errors fall in its last seconds, so the error-rate interval is honestly wide;
    # the run says instead that the target stopped answering, and when
    assert result.outcome.verdict == Verdict.ERROR, result.outcome.reason
    assert "stopped answering" in result.outcome.reason
    assert "timeout" in " ".join([*result.measurements.notes, result.outcome.reason])


def test_host_outside_the_allow_list_gets_no_traffic(tmp_path: Path) -> None:
    config = behaviour_config(tmp_path, "--delay", "0.01", hosts=["localhost"])
    started = time.monotonic()
    result = _run(tmp_path, config, "users: 2, duration: 3s", "errors.rate: < 1%", validate=False)
    assert result.outcome.verdict == Verdict.ERROR
    assert "not in allow.hosts" in result.outcome.reason
    assert time.monotonic() - started < 2  # refused before anything was launched or sent


def test_sys_executable_is_the_python_placeholder(tmp_path: Path) -> None:
    config = behaviour_config(tmp_path, "--delay", "0.01")
    assert config.targets["svc"].launch[0] == "{python}"
    assert Path(sys.executable).exists()


# --- targets of known behaviour: an honest verdict, and an early one when it is clear -----


def _stall_config(tmp_path: Path) -> Config:
    """1 request in 10 stalls 3 s, past the 2 s timeout of the load."""
    return behaviour_config(tmp_path, "--delay", "0.005", "--stall-every", "10", "--stall", "3")


STALL_LOAD = "users: 4, duration: 10s, timeout: 2s"


def test_requests_stalling_past_the_timeout_do_not_pass_a_latency_check(tmp_path: Path) -> None:
    result = _run(tmp_path, _stall_config(tmp_path), STALL_LOAD, "latency.p95: < 1s")
    assert _checks(result)["latency.p95"] in (Verdict.FAIL, Verdict.INCONCLUSIVE)
    counts = _requests(result)
    assert counts["timed_out"] >= 2 and counts["failed"] >= counts["timed_out"]
    notes = _notes(result)
    assert f"{counts['timed_out']} timed out" in notes and "timeout ×" in notes
    assert "all requests sent" in notes


def test_successful_latency_leaves_the_stalled_requests_out(tmp_path: Path) -> None:
    result = _run(
        tmp_path,
        _stall_config(tmp_path),
        STALL_LOAD,
        "latency.p95: < 1s",
        extra="latency_of: successful",
    )
    p95 = result.measurements.values["latency.p95"]
    assert p95.value < 0.1 and p95.low < 0.1  # the stalled requests are not in it
    assert _checks(result)["latency.p95"] == Verdict.PASS  # 180 successes, all under ~20 ms
    assert "successful requests only" in _notes(result)
    assert _requests(result)["timed_out"] >= 2  # they are still counted, just not timed


def test_a_slow_tail_fails_the_percentile_it_reaches_and_passes_the_one_below(
    tmp_path: Path,
) -> None:
    # 1 request in 14 (7.1%) takes 200 ms more: p95 is in the tail, p90 is not.
    config = behaviour_config(
        tmp_path, "--delay", "0.002", "--tail-every", "14", "--tail-extra", "0.2"
    )
    result = _run(
        tmp_path,
        config,
        # p90 sits at the top of the body, whose jitter on a busy machine widens its
        # interval: run until both checks are decided (usually ~8 s), at most 20 s.
        "users: 8, wait: 10ms, duration: 20s, fail_fast: false, until: decided",
        "latency.p95: < 100ms, latency.p90: < 100ms",
    )
    assert _requests(result)["sent"] >= 600
    checks, values = _checks(result), result.measurements.values
    assert checks["latency.p95"] == Verdict.FAIL
    assert values["latency.p95"].value >= 0.2 and values["latency.p90"].value < 0.1
    assert checks["latency.p90"] == Verdict.PASS
    assert result.measurements.stopping.stopped == "decided"


def test_periodic_pauses_keep_the_interval_honest(tmp_path: Path) -> None:
    # A 1 s pause every 4 s: each user has one request caught in each pause, about 1 in 13
    # of its requests at 0.25 s service time, so the true p95 is over half a second.
    config = behaviour_config(tmp_path, "--delay", "0.25", "--pause-every", "4", "--pause-for", "1")
    result = _run(tmp_path, config, "users: 4, duration: 10s", "latency.p95: < 400ms")
    assert _checks(result)["latency.p95"] in (Verdict.FAIL, Verdict.INCONCLUSIVE)
    p95 = result.measurements.values["latency.p95"]
    assert p95.high >= 0.4  # the interval reaches into the pauses


def test_shedding_every_third_request_fails_the_error_rate(tmp_path: Path) -> None:
    config = behaviour_config(tmp_path, "--delay", "0.005", "--shed-every", "3")
    started = time.monotonic()
    result = _run(tmp_path, config, "users: 4, duration: 10s", "errors.rate: < 5%")
    assert _checks(result)["errors.rate"] == Verdict.FAIL
    assert 0.25 <= result.measurements.values["errors.rate"].value <= 0.4
    assert "HTTP 503" in _notes(result)
    assert result.measurements.stopping.stopped == "failed"  # clear at once: no need for 10 s
    assert time.monotonic() - started < 10 + 10


def test_a_clear_fail_stops_within_seconds(tmp_path: Path) -> None:
    config = behaviour_config(tmp_path, "--delay", "0.05")
    started = time.monotonic()
    result = _run(tmp_path, config, "users: 4, duration: 20s", "latency.p95: < 30ms")
    wall = time.monotonic() - started
    assert result.outcome.verdict == Verdict.FAIL
    stopping = result.measurements.stopping
    assert stopping.stopped == "failed" and stopping.measured_s < 8
    assert stopping.planned_s == 20
    assert wall < 15  # target start + child start + a few seconds of load, not 20 s
    assert any("stopped after" in note for note in result.measurements.notes)


def test_until_decided_passes_early(tmp_path: Path) -> None:
    config = behaviour_config(tmp_path, "--delay", "0.002")
    started = time.monotonic()
    result = _run(
        tmp_path,
        config,
        "users: 4, duration: 30s, until: decided, min_duration: 3s",
        "latency.p95: < 500ms, errors.rate: < 5%",
    )
    assert result.outcome.verdict == Verdict.PASS
    stopping = result.measurements.stopping
    assert stopping.stopped == "decided" and 3 <= stopping.measured_s < 20
    assert stopping.decided_after_s is not None and stopping.decided_after_s <= stopping.measured_s
    assert time.monotonic() - started < 30


def test_fast_then_slow_is_not_passed_at_its_fixed_duration(tmp_path: Path) -> None:
    # Fast for the first 5 s of the target's life, then 100x slower. With 50 ms of think
    # time the fast phase is a few hundred requests, enough for a look to see a pass; the
    # slow phase (at least 9 s at ~16 req/s) is over a quarter of what is sent, so the p95
    # of the run is 200 ms. Without `until: decided` only the whole run is judged: it fails,
    # or (the shift between regimes reads as extreme correlation between windows, so few
    # effective samples) is inconclusive; it never passes.
    config = behaviour_config(
        tmp_path, "--delay", "0.002", "--slow-after-s", "5", "--slow-delay", "0.2"
    )
    load = "users: 4, duration: 14s, wait: [40ms, 60ms]"
    result = _run(tmp_path, config, load, "latency.p95: < 50ms")
    assert _checks(result)["latency.p95"] in (Verdict.FAIL, Verdict.INCONCLUSIVE)
    p95 = result.measurements.values["latency.p95"]
    assert p95.value >= 0.2 and p95.high >= 0.2
    assert any("latency shifted during the run" in n for n in result.measurements.notes)
    assert result.measurements.stopping.stopped in ("duration", "failed")


def _bodies(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_replayed_bodies_are_sent_in_file_order_or_sampled_by_seed(tmp_path: Path) -> None:
    sent = tmp_path / "sent.jsonl"
    (tmp_path / "bodies.jsonl").write_text(
        "".join(json.dumps({"features": [i, 0.5]}) + "\n" for i in range(7))
    )
    config = behaviour_config(tmp_path, "--delay", "0.005", "--record-bodies", str(sent))
    in_order = (
        "load: {users: 1, duration: 2s, requests: "
        "[{method: POST, path: /p, replay: bodies.jsonl, order: file}]}\n"
        "expect: {errors.rate: < 50%}\n"
    )
    result = run_assumption(tmp_path, config, in_order)
    assert result.outcome.verdict == Verdict.PASS, result.outcome.reason
    received = _bodies(sent)
    assert len(received) > 14
    pool = result.measurements.series["load"]["bodies"]["POST /p"]
    assert pool["bodies"] == 7 and pool["order"] == "file" and pool["bytes"]["max"] > 10
    assert any(
        "bodies taken in file order from a pool of 7" in n for n in result.measurements.notes
    )
    assert received[:14] == [{"features": [i % 7, 0.5]} for i in range(14)]
    sent.unlink()
    sampled = in_order.replace("order: file", "seed: 3")
    run_assumption(tmp_path, config, sampled)
    first = _bodies(sent)
    assert {b["features"][0] for b in first} == set(range(7))  # every line is drawn from
    assert first[:10] != received[:10]
    sent.unlink()
    run_assumption(tmp_path, config, sampled)
    assert _bodies(sent)[:10] == first[:10]  # the same seed draws the same bodies


def test_csv_rows_are_sent_mapped_in_file_order_and_drawn_bodies_within_their_sizes(
    tmp_path: Path,
) -> None:
    """One run, two requests: CSV rows mapped by `columns` (in file order) and bodies drawn
    from a schema with a size hint; the server records what it received."""
    rows = "".join(f"r{i},{i},{i / 4},,text {i}\n" for i in range(5))
    (tmp_path / "rows.csv").write_text("request_id,f1,f2,f3,note\n" + rows)
    schema = {"type": "object", "required": ["features"], "additionalProperties": False}
    schema["properties"] = {"features": {"type": "array", "items": {"type": "integer"}}}
    (tmp_path / "request.json").write_text(json.dumps(schema))
    sent = tmp_path / "sent.jsonl"
    config = behaviour_config(tmp_path, "--delay", "0.005", "--record-bodies", str(sent))
    assumption = (
        "load:\n  users: 1\n  duration: 2s\n  requests:\n"
        "    - {method: POST, path: /p, replay: rows.csv, order: file,\n"
        "       columns: {id: request_id, features: 'f1..f3', inputs.note: note}}\n"
        "    - {method: POST, path: /q, json_schema: request.json, pool: 30,\n"
        "       sizes: {features: 3..5}}\n"
        "expect: {errors.rate: < 50%}\n"
    )
    result = run_assumption(tmp_path, config, assumption)
    assert result.outcome.verdict == Verdict.PASS, result.outcome.reason
    received = _bodies(sent)
    mapped = [b for b in received if "id" in b]
    expected = [
        {"id": f"r{i}", "features": [i, i / 4, None], "inputs": {"note": f"text {i}"}}
        for i in range(5)
    ]
    assert len(mapped) > 10
    assert mapped == [expected[i % 5] for i in range(len(mapped))]
    drawn = [b for b in received if "id" not in b]
    assert len(drawn) > 10 and {len(b["features"]) for b in drawn} <= {3, 4, 5}


def test_answers_failing_validate_count_as_errors_by_what_was_wrong(tmp_path: Path) -> None:
    (tmp_path / "answer.json").write_text(
        json.dumps(
            {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "required": ["prediction"],
                "properties": {"prediction": {"type": "integer", "maximum": 499}},
            }
        )
    )
    (tmp_path / "bodies.jsonl").write_text("".join(json.dumps({"id": i}) + "\n" for i in range(50)))
    config = behaviour_config(tmp_path, "--answer-json", "--error-every", "10")
    result = run_assumption(
        tmp_path,
        config,
        "load: {users: 2, duration: 3s, fail_fast: false, requests: "
        "[{method: POST, path: /p, replay: bodies.jsonl}], "
        "validate: {status: [200], json_schema: answer.json}}\n"
        "expect: {errors.rate: < 1%}\n",
    )
    kinds = {k["key"]: k for k in result.measurements.series["load"]["error_kinds"]}
    assert set(kinds) == {"schema: prediction: maximum", "status: 500"}, kinds
    requests = result.measurements.series["load"]["requests"]
    share = kinds["schema: prediction: maximum"]["count"] / requests["sent"]
    assert 0.3 < share < 0.65  # P is spread over 0..999: about half are over 499
    example = kinds["schema: prediction: maximum"]["examples"][0]
    assert example.startswith("schema: prediction: maximum; body: {") and "prediction" in example
    assert result.outcome.verdict == Verdict.FAIL


def test_bodies_drawn_from_a_schema_all_match_it(tmp_path: Path) -> None:
    schema = {
        "type": "object",
        "required": ["features"],
        "additionalProperties": False,
        "properties": {
            "features": {
                "type": "array",
                "items": {"type": "number"},
                "minItems": 1,
                "maxItems": 8,
            },
            "model": {"enum": ["a", "b"]},
        },
    }
    (tmp_path / "request.json").write_text(json.dumps(schema))
    sent = tmp_path / "sent.jsonl"
    config = behaviour_config(tmp_path, "--delay", "0.002", "--record-bodies", str(sent))
    assumption = (
        "load: {users: 2, duration: 2s, requests: "
        "[{method: POST, path: /p, json_schema: request.json, pool: 200, seed: 5}]}\n"
        "expect: {errors.rate: < 50%}\n"
    )
    result = run_assumption(tmp_path, config, assumption)
    assert result.outcome.verdict == Verdict.PASS, result.outcome.reason
    received = _bodies(sent)
    assert len(received) > 50
    for body in received:
        jsonschema.validate(body, schema)
    assert len({json.dumps(b, sort_keys=True) for b in received}) > 20  # varied, not one literal
    assert result.measurements.series["load"]["bodies"]["POST /p"]["bodies"] == 200
    sent.unlink()
    run_assumption(tmp_path, config, assumption)
    pool = {json.dumps(b, sort_keys=True) for b in draw_bodies(schema, 200, 5)}
    assert {json.dumps(b, sort_keys=True) for b in _bodies(sent)} <= pool  # same seed, same pool


def test_the_sizes_of_the_bodies_sent_are_counted_and_plotted(tmp_path: Path) -> None:
    schema = {
        "type": "object",
        "required": ["features"],
        "properties": {"features": {"type": "array", "items": {"type": "number"}, "maxItems": 40}},
    }
    (tmp_path / "request.json").write_text(json.dumps(schema))
    received = tmp_path / "received.jsonl"
    config = behaviour_config(tmp_path, "--delay", "0.002", "--record-bodies", str(received))
    result = run_assumption(
        tmp_path,
        config,
        "load: {users: 2, duration: 2s, until: duration, requests: "
        "[{method: POST, path: /p, json_schema: request.json, pool: 60, seed: 3}]}\n"
        "expect: {errors.rate: < 50%}\n",
    )
    assert result.outcome.verdict == Verdict.PASS, result.outcome.reason
    load = result.measurements.series["load"]
    pool = load["bodies"]["POST /p"]
    sent = pool["sent"]
    assert sent["count"] == load["requests"]["sent"] > 20
    drawn, shipped = pool["bytes"], sent["bytes"]
    assert drawn["min"] <= shipped["min"] <= shipped["max"] <= drawn["max"]
    assert sum(n for _, n in sent["histogram"]) == sent["count"]
    by_size: dict[int, int] = {}  # what the server received, by encoded size
    for body in _bodies(received):
        size = len(json.dumps(body).encode())
        by_size[size] = by_size.get(size, 0) + 1
    assert shipped["min"] == min(by_size) and shipped["max"] == max(by_size)
    assert sum(by_size.values()) >= sent["count"]  # and any sent after the measured window
    doc = document([result.to_dict()], config="c", started_at="s", finished_at="f")
    assert 'alt="Request body sizes"' in render_html(doc)
