"""Answering a generation request over HTTP: the text is generated at once (it is cheap), then
paced out ``token_delay`` per token, so time to first token and inter-token latency look like
a real model server's. Streams are Server-Sent Events in HTTP/1.1 chunked encoding, one
chunk flushed per token, so the connection stays usable for the next request.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from infratest.demo.chat_api import (
    Generation,
    chunk,
    completion,
    new_id,
    usage,
    usage_chunk,
)
from infratest.demo.chat_model import CharModel, count_tokens


@dataclass(frozen=True)
class Output:
    """The generated tokens and why generation ended ("length" or "stop")."""

    tokens: tuple[str, ...]
    finish: str


def generate(model: CharModel, gen: Generation) -> Output:
    """Tokens for a request: up to max_tokens, cut before the first stop sequence."""
    tokens = list(model.tokens(gen.prompt, gen.max_tokens, gen.temperature, gen.seed))
    finish = "length" if len(tokens) == gen.max_tokens else "stop"
    text = "".join(tokens)
    cuts = [text.find(s) for s in gen.stop if s in text]
    if cuts:
        kept, cut = [], min(cuts)
        for token in tokens:
            if cut <= 0:
                break
            kept.append(token[:cut])
            cut -= len(token)
        tokens, finish = kept, "stop"
    return Output(tuple(tokens), finish)


def answer(handler: BaseHTTPRequestHandler, model: CharModel, gen: Generation, delay: float) -> int:
    """Send the whole answer (JSON or an SSE stream); returns the tokens generated."""
    out = generate(model, gen)
    used = usage(count_tokens(gen.prompt), len(out.tokens))
    if gen.stream:
        _stream(handler, gen, out, used, delay)
    else:
        if delay:
            time.sleep(delay * max(len(out.tokens), 1))  # as long as the stream would take
        body = json.dumps(completion(gen, "".join(out.tokens), out.finish, used)).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
    return len(out.tokens)


def _stream(
    handler: BaseHTTPRequestHandler,
    gen: Generation,
    out: Output,
    used: dict[str, int],
    delay: float,
) -> None:
    ident, created = new_id(gen.kind), int(time.time())
    handler.send_response(200)
    handler.send_header("Content-Type", "text/event-stream")
    handler.send_header("Cache-Control", "no-cache")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    handler.wfile.flush()
    if delay:
        time.sleep(delay)  # the prompt's prefill
    for i, token in enumerate(out.tokens):
        if i and delay:
            time.sleep(delay)
        _event(handler, chunk(gen, ident, created, token, None, first=i == 0))
    _event(handler, chunk(gen, ident, created, None, out.finish, first=not out.tokens))
    if gen.include_usage:
        _event(handler, usage_chunk(gen, ident, created, used))
    _send_chunk(handler, b"data: [DONE]\n\n")
    _send_chunk(handler, b"")  # the zero-length chunk ends the body


def _event(handler: BaseHTTPRequestHandler, payload: dict[str, Any]) -> None:
    _send_chunk(handler, b"data: " + json.dumps(payload).encode() + b"\n\n")


def _send_chunk(handler: BaseHTTPRequestHandler, data: bytes) -> None:
    """One HTTP/1.1 chunk, flushed now: the handler's write buffer would hold it back."""
    handler.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
    handler.wfile.flush()
