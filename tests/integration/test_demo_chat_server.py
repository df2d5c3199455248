"""The demo's OpenAI-compatible endpoints over real HTTP: SSE chunks arrive one by one as the
tokens are paced out, streams end with [DONE] and keep the connection usable, usage counts
the tokens sent, and bad requests get OpenAI-style 400s."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import requests

from tests.support.servers import RunningServer, start_server

TOKEN_DELAY = 0.05


@pytest.fixture(scope="module")
def chat() -> Iterator[RunningServer]:
    args = ["--load-delay", "0", "--token-delay", str(TOKEN_DELAY)]
    with start_server(args, module="infratest.demo") as server:
        yield server


def body(**fields: object) -> dict:
    messages = [{"role": "user", "content": "Tell me about the harbour."}]
    return {"model": "demo-chat", "messages": messages, "max_tokens": 6, **fields}


def events(response: requests.Response) -> Iterator[tuple[float, str]]:
    """(arrival time, data) of each SSE event, read as the chunks arrive."""
    for line in response.iter_lines(chunk_size=None):
        if line.startswith(b"data: "):
            yield time.monotonic(), line[len(b"data: ") :].decode()


def test_stream_arrives_token_by_token(chat: RunningServer) -> None:
    with requests.Session() as session:
        payload = body(stream=True, stream_options={"include_usage": True})
        for _ in range(2):  # the second stream reuses the keep-alive connection
            with session.post(f"{chat.url}/v1/chat/completions", json=payload, stream=True) as r:
                assert r.status_code == 200
                assert r.headers["Content-Type"] == "text/event-stream"
                assert r.headers["Transfer-Encoding"] == "chunked"
                got = list(events(r))
    assert got[-1][1] == "[DONE]"
    chunks = [json.loads(data) for _, data in got[:-1]]
    content = [c for c in chunks if c["choices"] and "content" in c["choices"][0]["delta"]]
    assert len(content) == 6 and content[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-2]["choices"][0]["finish_reason"] == "length"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["completion_tokens"] == 6
    assert chunks[-1]["usage"]["prompt_tokens"] == 7  # 26 characters, 4 a token
    assert {c["id"] for c in chunks} == {chunks[0]["id"]}
    first_token_at, done_at = got[0][0], got[-1][0]
    # five paced gaps lie between the first token and the last: the first came well before
    assert done_at - first_token_at >= 5 * TOKEN_DELAY * 0.9


def test_non_streaming_answers(chat: RunningServer) -> None:
    r = requests.post(f"{chat.url}/v1/chat/completions", json=body(temperature=0), timeout=10)
    again = requests.post(f"{chat.url}/v1/chat/completions", json=body(temperature=0), timeout=10)
    answer = r.json()
    assert r.status_code == 200 and answer["object"] == "chat.completion"
    message = answer["choices"][0]["message"]
    assert message["role"] == "assistant" and 21 <= len(message["content"]) <= 24
    assert message["content"] == again.json()["choices"][0]["message"]["content"]
    assert answer["usage"] == {"prompt_tokens": 7, "completion_tokens": 6, "total_tokens": 13}
    text = requests.post(
        f"{chat.url}/v1/completions",
        json={"model": "demo-chat", "prompt": "The river", "max_tokens": 3},
        timeout=10,
    ).json()
    assert text["object"] == "text_completion" and text["usage"]["completion_tokens"] == 3
    models = requests.get(f"{chat.url}/v1/models", timeout=10).json()
    assert [m["id"] for m in models["data"]] == ["demo-chat"]


@pytest.mark.parametrize(
    ("payload", "status", "param"),
    [
        ({"model": "demo-chat", "max_tokens": 4}, 400, "messages"),
        (body(max_tokens=0), 400, "max_tokens"),
        (body(max_tokens=100_000), 400, "max_tokens"),
        (body(model="other"), 404, "model"),
    ],
)
def test_bad_requests_get_openai_errors(
    chat: RunningServer, payload: dict, status: int, param: str
) -> None:
    r = requests.post(f"{chat.url}/v1/chat/completions", json=payload, timeout=10)
    assert r.status_code == status
    error = r.json()["error"]
    assert error["param"] == param and error["type"] == "invalid_request_error"
    assert r.headers["Content-Type"] == "application/json"
