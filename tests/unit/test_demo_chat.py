"""The demo's chat model and its OpenAI request/answer shapes, without a server."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infratest.demo import chat_train
from infratest.demo.chat_api import ChatRequestError, Generation, chunk, parse_generation
from infratest.demo.chat_http import generate
from infratest.demo.chat_model import (
    CHARS_PER_TOKEN,
    DEFAULT_CHAT_MODEL,
    count_tokens,
    load_chat_model,
)

MODEL = load_chat_model()


def request(**fields: object) -> bytes:
    body = {"model": "demo-chat", "messages": [{"role": "user", "content": "hi"}], **fields}
    return json.dumps({k: v for k, v in body.items() if v is not ...}).encode()


def test_the_shipped_model_is_what_the_trainer_writes(tmp_path: Path) -> None:
    """`python -m infratest.demo.chat_train` rewrites the committed file byte for byte."""
    assert chat_train.main(["--out", str(tmp_path / "m.json.gz")]) == 0
    written = (tmp_path / "m.json.gz").read_bytes()
    assert gzip.decompress(written) == gzip.decompress(DEFAULT_CHAT_MODEL.read_bytes())
    assert written == DEFAULT_CHAT_MODEL.read_bytes()
    assert len(written) < 2_000_000
    assert MODEL.order == chat_train.ORDER


def test_temperature_zero_is_deterministic_and_seeds_repeat() -> None:
    prompt = "Tell me about the lighthouse."
    greedy = list(MODEL.tokens(prompt, 40, temperature=0))
    assert greedy == list(MODEL.tokens(prompt, 40, temperature=0, seed=99))
    assert list(MODEL.tokens(prompt, 40, 1.0, seed=5)) == list(MODEL.tokens(prompt, 40, 1.0, 5))
    drawn = {"".join(MODEL.tokens(prompt, 40, 1.0, seed)) for seed in range(8)}
    assert len(drawn) > 1  # sampling does sample


def test_generated_text_is_the_corpus_language() -> None:
    text = "".join(MODEL.tokens("The keeper", 30, temperature=0))
    words = set(chat_train.CORPUS.read_text().split())
    assert text and sum(w in words for w in text.split()) >= len(text.split()) // 2


@settings(max_examples=60, deadline=None)
@given(prompt=st.text(max_size=40), max_tokens=st.integers(1, 60), seed=st.integers(0, 99))
def test_tokens_are_groups_of_four_characters(prompt: str, max_tokens: int, seed: int) -> None:
    tokens = list(MODEL.tokens(prompt, max_tokens, temperature=1.0, seed=seed))
    assert 1 <= len(tokens) <= max_tokens  # never an empty answer
    assert all(len(t) == CHARS_PER_TOKEN for t in tokens[:-1])
    assert all(1 <= len(t) <= CHARS_PER_TOKEN for t in tokens)
    assert count_tokens("".join(tokens)) == len(tokens)


def test_finish_reasons_and_stop_sequences() -> None:
    long = parse_generation(request(max_tokens=12, temperature=0), "chat")
    out = generate(MODEL, long)
    assert len(out.tokens) == 12 and out.finish == "length"
    text = "".join(out.tokens)
    cut = text[5:8]
    stopped = generate(
        MODEL, parse_generation(request(max_tokens=12, temperature=0, stop=cut), "chat")
    )
    assert "".join(stopped.tokens) == text[: text.find(cut)] and stopped.finish == "stop"


@pytest.mark.parametrize(
    ("fields", "param", "status"),
    [
        ({"messages": ...}, "messages", 400),
        ({"messages": []}, "messages", 400),
        ({"messages": [{"role": "robot", "content": "x"}]}, "messages[0].role", 400),
        ({"messages": [{"role": "user", "content": 3}]}, "messages[0].content", 400),
        ({"max_tokens": 0}, "max_tokens", 400),
        ({"max_tokens": 5000}, "max_tokens", 400),
        ({"max_tokens": "8"}, "max_tokens", 400),
        ({"max_completion_tokens": -1}, "max_completion_tokens", 400),
        ({"temperature": 3}, "temperature", 400),
        ({"stream": "yes"}, "stream", 400),
        ({"stream_options": {"include_usage": True}}, "stream_options", 400),
        ({"n": 2}, "n", 400),
        ({"model": ...}, "model", 400),
        ({"model": "gpt-4"}, "model", 404),
    ],
)
def test_bad_requests_are_refused_openai_style(fields: dict, param: str, status: int) -> None:
    with pytest.raises(ChatRequestError) as caught:
        parse_generation(request(**fields), "chat")
    assert caught.value.status == status
    error = caught.value.body()["error"]
    assert error["param"] == param and error["message"] and error["type"]


def test_completions_take_a_prompt() -> None:
    body = json.dumps({"model": "demo-chat", "prompt": ["The sea"], "max_tokens": 3}).encode()
    assert parse_generation(body, "text").prompt == "The sea"
    with pytest.raises(ChatRequestError, match="prompt"):
        parse_generation(json.dumps({"model": "demo-chat"}).encode(), "text")


def test_chunk_shapes() -> None:
    gen = Generation("chat", "hi", 4, True, True, 0.0, None, ())
    first = chunk(gen, "chatcmpl-1", 0, "abcd", None, first=True)
    assert first["object"] == "chat.completion.chunk"
    assert first["choices"][0]["delta"] == {"role": "assistant", "content": "abcd"}
    last = chunk(gen, "chatcmpl-1", 0, None, "length", first=False)
    assert last["choices"][0]["delta"] == {} and last["choices"][0]["finish_reason"] == "length"
    text = chunk(Generation("text", "hi", 4, True, False, 0.0, None, ()), "c", 0, "ab", None, True)
    assert text["object"] == "text_completion" and text["choices"][0]["text"] == "ab"
    assert "usage" not in text
