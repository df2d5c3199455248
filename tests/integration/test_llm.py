"""The llm workload against a loopback OpenAI-compatible server with known timing: TTFT, ITL
and tokens/s come out as the server's schedule predicts; a cut stream is an error; an answer
that is not streamed is measured end to end only, and says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from infratest.verdict import Verdict
from tests.support.assumptions import behaviour_config, run_assumption

pytestmark = [pytest.mark.load, pytest.mark.usefixtures("no_leftover_processes")]

SERVER = Path(__file__).parents[1] / "support" / "streaming_server.py"
TTFT, ITL, TOKENS, USERS = 0.2, 0.02, 10, 2


def _config(folder: Path, *flags: str):
    launch = ["{python}", str(SERVER), "--port", "{port}", *flags]
    return behaviour_config(folder, launch=launch)


def _timing(*more: str) -> tuple[str, ...]:
    return ("--ttft", str(TTFT), "--itl", str(ITL), "--tokens", str(TOKENS), *more)


def test_a_streamed_chat_load_measures_the_servers_ttft_itl_and_tokens_per_second(
    tmp_path: Path,
) -> None:
    result = run_assumption(
        tmp_path,
        _config(tmp_path, *_timing("--usage")),
        f"llm: {{api: openai-chat, users: {USERS}, duration: 3s, prompt_tokens: 30, "
        "max_tokens: 10, slo: {llm.ttft.p95: < 100ms}}\n"
        "expect: {llm.ttft.p50: < 1s, errors.count: < 1}\n",
    )
    assert result.outcome.verdict == Verdict.PASS, result.outcome.reason
    m = result.measurements.values
    assert 0.200 <= m["llm.ttft.p50"].value <= 0.230
    assert 0.0195 <= m["llm.itl.p50"].value <= 0.025  # the server keeps a fixed schedule
    predicted = USERS * TOKENS / (TTFT + (TOKENS - 1) * ITL)
    assert 0.6 * predicted <= m["llm.output_tokens.rate"].value <= 1.2 * predicted
    assert m["llm.goodput"].value == 0.0  # no answer's first token comes within 100 ms
    assert m["llm.e2e.p50"].value == m["latency.p50"].value
    llm = result.measurements.series["load"]["llm"]
    assert llm["tokens"] == llm["answers"] * TOKENS and llm["tokens_from_usage"] == llm["answers"]
    assert any("usage.completion_tokens" in n for n in result.measurements.notes)


def test_a_stream_cut_mid_way_is_an_error_and_goodput_counts_only_whole_answers(
    tmp_path: Path,
) -> None:
    result = run_assumption(
        tmp_path,
        _config(tmp_path, *_timing("--drop-after", "3")),
        "llm: {api: openai-completions, rate: 4/s, duration: 3s, prompt_tokens: 8, "
        "max_tokens: 10, slo: {llm.e2e.p99: < 5s}}\n"
        "expect: {errors.rate: < 1%}\n",
    )
    assert result.outcome.verdict == Verdict.FAIL, result.outcome.reason
    m = result.measurements.values
    assert m["errors.rate"].value == 1.0 and m["llm.goodput"].value == 0.0
    assert any("stream ended early" in n for n in result.measurements.notes)


def test_an_answer_not_streamed_is_timed_end_to_end_only_and_says_so(tmp_path: Path) -> None:
    result = run_assumption(
        tmp_path,
        _config(tmp_path, *_timing()),
        "llm: {api: openai-chat, users: 2, duration: 3s, prompt_tokens: 8, stream: false, "
        "slo: {latency.p99: < 2s}}\n"
        "expect: {llm.e2e.p50: < 1s, llm.goodput: '> 1/s'}\n",
    )
    assert result.outcome.verdict == Verdict.PASS, result.outcome.reason
    m = result.measurements.values
    assert 0.38 <= m["llm.e2e.p50"].value <= 0.45
    assert "llm.ttft.p50" not in m and "llm.itl.p50" not in m
    notes = result.measurements.notes
    assert any("TTFT and ITL are not measured" in n for n in notes)
    assert any("characters ÷ 4" in n for n in notes)


def test_requests_that_never_get_a_first_token_count_in_ttft(tmp_path: Path) -> None:
    """1 request in 5 stalls past the timeout before its first token: TTFT p95 over every
    request sent is at least the time they failed at, so a 500 ms bound cannot pass (with
    `latency_of: successful` it would, and the reason says whose figures they are)."""
    flags = _timing("--stall-every", "5", "--stall", "3")
    body = (
        "llm: {api: openai-chat, users: 4, duration: 3s, timeout: 1s, prompt_tokens: 8, "
        "max_tokens: 4}\nexpect: {llm.ttft.p95: < 500ms}\n"
    )
    every = run_assumption(tmp_path, _config(tmp_path, *flags), body)
    assert every.outcome.verdict != Verdict.PASS, every.outcome.reason
    assert every.measurements.values["llm.ttft.p95"].value >= 0.9
    successful = run_assumption(
        tmp_path, _config(tmp_path, *flags), "latency_of: successful\n" + body
    )
    assert successful.measurements.values["llm.ttft.p95"].value < 0.5
