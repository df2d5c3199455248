"""The llm workload's pure parts: SSE lines into token timings, prompts from files or
generated, the request body and the SLO a request must meet, and the token figures from the
child's recorder through the wire into the parent's record."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infratest.spec.llm_prompts import (
    CHARS_PER_TOKEN,
    PromptsError,
    generated_prompts,
    read_prompts,
)
from infratest.units import parse_condition
from infratest.workloads.llm import slo_bounds
from infratest.workloads.llm_plan import LlmPlan, LlmSample
from infratest.workloads.load_figures import Reading, load_intervals
from infratest.workloads.load_record import LoadRecord
from infratest.workloads.recorder import WindowRecorder
from infratest.workloads.sse import DONE, Chunk, StreamError, StreamTally, parse_line
from infratest.workloads.wire import Tick, decode, encode


def _chat(text: str) -> bytes:
    return b"data: " + json.dumps({"choices": [{"delta": {"content": text}}]}).encode() + b"\n"


def test_sse_lines_of_both_apis_and_the_usage_chunk_are_read() -> None:
    assert parse_line(_chat("Hi")) == Chunk("Hi")
    assert parse_line('data: {"choices": [{"text": "yo"}]}\r\n') == Chunk("yo")
    usage = 'data: {"choices": [], "usage": {"completion_tokens": 7}}'
    assert parse_line(usage) == Chunk("", 7)
    assert parse_line("data: [DONE]\n") == DONE
    for quiet in (b"\n", b": keep-alive\n", b"event: message\n", b"id: 3\n", b"retry: 10\n"):
        assert parse_line(quiet) is None


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("data: {not json", "bad stream"),
        ("data: [1, 2]", "bad stream"),
        ('data: {"error": {"message": "overloaded"}}', "stream error"),
    ],
)
def test_a_malformed_or_error_data_line_is_a_stream_error(line: str, key: str) -> None:
    with pytest.raises(StreamError) as info:
        parse_line(line)
    assert info.value.key == key


def test_ttft_is_the_first_content_chunk_and_itl_the_gaps_after_it() -> None:
    tally = StreamTally()
    tally.feed(b": ping\n", 0.05)
    tally.feed(b'data: {"choices": [{"delta": {"role": "assistant"}}]}\n', 0.1)
    for at in (0.2, 0.25, 0.27):
        tally.feed(_chat("x"), at)
    tally.feed(b"data: [DONE]\n", 0.3)
    tally.feed(_chat("after done"), 0.4)
    tally.check_complete()
    assert tally.first_token_s == 0.2
    assert tally.gaps_s == pytest.approx([0.05, 0.02])
    assert tally.tokens == 3 and tally.usage is None


def test_usage_counts_tokens_when_the_server_sends_it() -> None:
    tally = StreamTally()
    tally.feed(_chat("two tokens"), 0.1)
    tally.feed(b'data: {"choices": [], "usage": {"completion_tokens": 2}}\n', 0.2)
    assert tally.tokens == 2 and tally.chunks == 1


def test_a_stream_without_done_ended_early() -> None:
    tally = StreamTally()
    tally.feed(_chat("x"), 0.1)
    with pytest.raises(StreamError, match="stream ended early: no \\[DONE\\] after 1 content"):
        tally.check_complete()


@given(st.lists(st.floats(min_value=0.0, max_value=5.0), min_size=1, max_size=40))
def test_gaps_add_up_to_the_time_from_first_to_last_token(offsets: list[float]) -> None:
    times = sorted(offsets)
    tally = StreamTally()
    for at in times:
        tally.feed(_chat("t"), at)
    assert tally.chunks == len(times) and len(tally.gaps_s) == len(times) - 1
    assert sum(tally.gaps_s) == pytest.approx(times[-1] - times[0], abs=1e-9)


def test_prompts_files_take_messages_prompts_strings_and_text_lines(tmp_path: Path) -> None:
    jsonl = tmp_path / "p.jsonl"
    jsonl.write_text(
        '{"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]}\n'
        '\n{"prompt": "p"}\n"plain"\n'
    )
    chat = read_prompts(jsonl, "openai-chat")
    assert chat[0][1]["content"] == "u" and chat[1] == [{"role": "user", "content": "p"}]
    text = tmp_path / "p.txt"
    text.write_text("one\ntwo {not json}\n")
    assert read_prompts(text, "openai-completions") == ["one", "two {not json}"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('"ok"\n{"prompt": 3}\n')
    with pytest.raises(PromptsError, match=r"bad\.jsonl:2: expected"):
        read_prompts(bad, "openai-chat")


@pytest.mark.parametrize("tokens", [1, 17, 512])
def test_generated_prompts_are_about_the_asked_length_and_differ(tokens: int) -> None:
    prompts = generated_prompts(tokens)
    assert len(set(prompts)) > len(prompts) // 2
    assert all(abs(len(p) - tokens * CHARS_PER_TOKEN) <= 1 for p in prompts)
    assert prompts == generated_prompts(tokens)  # the same prompts every run


def test_the_body_asks_for_a_stream_with_usage_and_cycles_the_prompts() -> None:
    plan = LlmPlan(api="openai-completions", prompts=("a", "b"), model="m", max_tokens=5)
    bodies = [json.loads(plan.body(i)) for i in range(3)]
    assert [b["prompt"] for b in bodies] == ["a", "b", "a"]
    assert bodies[0]["stream_options"] == {"include_usage": True} and bodies[0]["model"] == "m"
    whole = LlmPlan(api="openai-chat", prompts=([{"role": "user", "content": "q"}],), stream=False)
    assert "stream_options" not in json.loads(whole.body(0))


def test_a_request_is_good_when_it_meets_every_bound_of_the_slo() -> None:
    slo = {
        m: parse_condition(c)
        for m, c in {
            "llm.ttft.p95": "< 300ms",
            "llm.ttft.p50": "<= 200ms",
            "llm.itl.p99": "< 50ms",
        }.items()
    }
    bounds = slo_bounds(slo)
    assert bounds == {"ttft": (0.2, True), "itl": (0.05, False)}
    plan = LlmPlan(api="openai-chat", prompts=("x",), slo=bounds)
    assert plan.meets_slo(0.2, 0.01, 9.0)
    assert not plan.meets_slo(0.21, 0.01, 1.0)
    assert not plan.meets_slo(0.1, 0.05, 1.0)
    assert plan.meets_slo(0.1, None, 1.0)  # a one-token answer has no gap to judge
    assert not plan.meets_slo(None, None, 1.0)  # no token at all


def test_token_figures_travel_from_the_recorder_over_the_wire_into_the_record() -> None:
    recorder = WindowRecorder(measure_start_s=0.0)
    for second in range(3):
        for k in range(4):
            sample = LlmSample(
                0.1 + 0.01 * k, (0.02, 0.02, 0.03), 3, from_usage=k % 2 == 0, good=k < 3
            )
            recorder.record(second + 0.1, 0.2, None, "", "openai-chat", sample)
        recorder.record(second + 0.2, 0.5, "stream ended early", "cut", "openai-chat")
    tick = Tick(t=3.0, users=1, windows=recorder.flush(), in_flight=(), lag_s=(), warmup_requests=0)
    decoded = decode(encode(tick))
    assert isinstance(decoded, Tick)
    record = LoadRecord(0.0, 3.0, 10.0)
    record.llm_load = "stream"
    record.add_tick(decoded)
    record.last_t = 3.0
    figures = load_intervals(record, Reading(0.95))
    assert figures["llm.output_tokens.rate"].value == pytest.approx(12.0)
    assert figures["llm.goodput"].value == pytest.approx(3.0)
    assert figures["llm.itl.p50"].value == pytest.approx(0.02, rel=0.01)
    assert 0.1 <= figures["llm.ttft.p50"].value <= 0.12
    assert record.llm.total("llm.usage") == 6 and record.llm.total("llm.answers") == 12
    assert figures["errors.rate"].value == pytest.approx(3 / 15)


def test_a_load_that_is_not_llm_has_no_llm_figures() -> None:
    record = LoadRecord(0.0, 3.0, 10.0)
    assert not any(m.startswith("llm.") for m in load_intervals(record, Reading(0.95)))
    record.llm_load = "whole"
    names = load_intervals(record, Reading(0.95))
    assert "llm.e2e.p95" in names and "llm.ttft.p50" not in names


def test_the_parent_side_of_an_llm_load_imports_no_locust() -> None:
    code = (
        "import sys, infratest.workloads.llm, infratest.execution\n"
        "bad = [m for m in sys.modules if m.startswith('locust') or m.endswith('llm_client')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
