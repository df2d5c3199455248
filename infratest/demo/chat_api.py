"""The OpenAI-compatible request and answer shapes of the demo's ``/v1/chat/completions`` and
``/v1/completions``: parsing with OpenAI-style errors, and the JSON of answers and SSE chunks.

Pure functions, so the shapes are unit-tested without a server; :mod:`infratest.demo.chat_http`
does the pacing and the streaming.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

MODEL_NAME = "demo-chat"
MAX_TOKENS_LIMIT = 4096
DEFAULT_MAX_TOKENS = 16  # OpenAI's default for /v1/completions; chat uses it too here
ROLES = ("system", "developer", "user", "assistant", "tool")


class ChatRequestError(Exception):
    """A request the API refuses: the HTTP status and OpenAI's error object."""

    def __init__(self, message: str, param: str | None, status: int = 400, code: str | None = None):
        super().__init__(message)
        self.status, self.param, self.code = status, param, code

    def body(self) -> dict[str, Any]:
        """OpenAI's error body: ``{"error": {"message", "type", "param", "code"}}``."""
        kind = "invalid_request_error" if self.status < 500 else "server_error"
        return {
            "error": {"message": str(self), "type": kind, "param": self.param, "code": self.code}
        }


@dataclass(frozen=True)
class Generation:
    """One validated request: what to continue, how much, and how to answer."""

    kind: str  # "chat" or "text"
    prompt: str
    max_tokens: int
    stream: bool
    include_usage: bool
    temperature: float
    seed: int | None
    stop: tuple[str, ...]


def parse_generation(body: bytes, kind: str) -> Generation:
    """A request body of either endpoint, validated like OpenAI does (400 otherwise)."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ChatRequestError(f"body is not JSON: {exc}", None) from None
    if not isinstance(payload, dict):
        raise ChatRequestError("body must be a JSON object", None)
    model = payload.get("model")
    if not isinstance(model, str) or not model:
        raise ChatRequestError("you must provide a model parameter", "model")
    if model != MODEL_NAME:
        raise ChatRequestError(
            f"the model '{model}' does not exist; this server has '{MODEL_NAME}'",
            "model",
            status=404,
            code="model_not_found",
        )
    prompt = _messages_text(payload) if kind == "chat" else _prompt_text(payload)
    stream = _optional(payload, "stream", bool, False)
    options = _optional(payload, "stream_options", dict, None)
    if options is not None and not stream:
        raise ChatRequestError(
            "stream_options is only allowed when stream is true", "stream_options"
        )
    include_usage = (options or {}).get("include_usage", False)
    if not isinstance(include_usage, bool):
        raise ChatRequestError("stream_options.include_usage must be a boolean", "stream_options")
    if _optional(payload, "n", int, 1) != 1:
        raise ChatRequestError("only n=1 is supported", "n")
    return Generation(
        kind=kind,
        prompt=prompt,
        max_tokens=_max_tokens(payload, kind),
        stream=stream,
        include_usage=include_usage,
        temperature=_temperature(payload),
        seed=_optional(payload, "seed", int, None),
        stop=_stop(payload),
    )


def _optional(payload: dict[str, Any], key: str, kind: type, default: Any) -> Any:
    value = payload.get(key)
    if value is None:
        return default
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ChatRequestError(f"{key} must be of type {kind.__name__}", key)
    return value


def _messages_text(payload: dict[str, Any]) -> str:
    messages = payload.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ChatRequestError("messages must be a non-empty array", "messages")
    parts = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise ChatRequestError(
                f"messages[{i}] needs a role of {', '.join(ROLES)}", f"messages[{i}].role"
            )
        parts.append(_content_text(message.get("content"), f"messages[{i}].content"))
    return "\n".join(parts)


def _content_text(content: Any, param: str) -> str:
    """A message's text: a string, or the text parts of a content array."""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(
        isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)
        for p in content
    ):
        return "".join(p["text"] for p in content)
    raise ChatRequestError(f"{param} must be a string or an array of text parts", param)


def _prompt_text(payload: dict[str, Any]) -> str:
    prompt = payload.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
        prompt = prompt[0]
    if not isinstance(prompt, str):
        raise ChatRequestError("prompt must be a string (one prompt per request)", "prompt")
    return prompt


def _max_tokens(payload: dict[str, Any], kind: str) -> int:
    key = "max_completion_tokens" if payload.get("max_completion_tokens") is not None else None
    key = key or "max_tokens"
    value = _optional(payload, key, int, DEFAULT_MAX_TOKENS)
    if not 1 <= value <= MAX_TOKENS_LIMIT:
        raise ChatRequestError(f"{key} must be between 1 and {MAX_TOKENS_LIMIT}, got {value}", key)
    return value


def _temperature(payload: dict[str, Any]) -> float:
    value = payload.get("temperature", 1.0)
    if value is None:
        return 1.0
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 2:
        raise ChatRequestError("temperature must be a number between 0 and 2", "temperature")
    return float(value)


def _stop(payload: dict[str, Any]) -> tuple[str, ...]:
    stop = payload.get("stop")
    if stop is None:
        return ()
    stops = [stop] if isinstance(stop, str) else stop
    if (
        not isinstance(stops, list)
        or len(stops) > 4
        or not all(isinstance(s, str) and s for s in stops)
    ):
        raise ChatRequestError("stop must be a string or up to 4 non-empty strings", "stop")
    return tuple(stops)


def new_id(kind: str) -> str:
    """An id like OpenAI's: ``chatcmpl-...`` or ``cmpl-...``."""
    return f"{'chatcmpl' if kind == 'chat' else 'cmpl'}-{uuid.uuid4().hex[:24]}"


def usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _envelope(kind: str, ident: str, created: int, stream: bool) -> dict[str, Any]:
    suffix = ".chunk" if stream and kind == "chat" else ""
    name = "chat.completion" if kind == "chat" else "text_completion"
    return {"id": ident, "object": name + suffix, "created": created, "model": MODEL_NAME}


def chunk(
    gen: Generation, ident: str, created: int, text: str | None, finish: str | None, first: bool
) -> dict[str, Any]:
    """One streamed chunk: a piece of text, or (``text`` None) the final one with a reason."""
    out = _envelope(gen.kind, ident, created, stream=True)
    if gen.kind == "chat":
        delta: dict[str, str] = {"role": "assistant"} if first else {}
        if text is not None:
            delta["content"] = text
        choice: dict[str, Any] = {"index": 0, "delta": delta}
    else:
        choice = {"index": 0, "text": text or ""}
    out["choices"] = [{**choice, "logprobs": None, "finish_reason": finish}]
    if gen.include_usage:
        out["usage"] = None  # OpenAI: null on every chunk but the usage chunk
    return out


def usage_chunk(gen: Generation, ident: str, created: int, used: dict[str, int]) -> dict[str, Any]:
    """The last chunk before ``[DONE]`` when ``stream_options.include_usage``: no choices."""
    return {**_envelope(gen.kind, ident, created, stream=True), "choices": [], "usage": used}


def completion(gen: Generation, text: str, finish: str, used: dict[str, int]) -> dict[str, Any]:
    """The whole non-streamed answer."""
    out = _envelope(gen.kind, new_id(gen.kind), int(time.time()), stream=False)
    if gen.kind == "chat":
        choice: dict[str, Any] = {"message": {"role": "assistant", "content": text}}
    else:
        choice = {"text": text}
    out["choices"] = [{"index": 0, **choice, "logprobs": None, "finish_reason": finish}]
    out["usage"] = used
    return out
