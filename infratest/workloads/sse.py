"""Reading an OpenAI-compatible streaming answer: server-sent event lines (`data: {...}`,
`data: [DONE]`, comments and keep-alives) into the figures of one request — when the first
content token came, the gaps between later content chunks, and how many tokens were made
(the server's `usage` when it sends one, else the content chunks counted).

Pure and Locust-free, so the parsing is unit-tested apart from any network."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

DONE = "[DONE]"
SHOWN_LINE_CHARS = 120
# Failure kinds of an answer that did arrive (headers and all) but is not a whole answer.
ANSWER_KINDS = ("stream ended early", "bad stream", "stream error", "bad answer")
CHARS_PER_TOKEN_ESTIMATE = 4  # a non-streamed answer without `usage`: tokens by length


class StreamError(Exception):
    """The stream is not an acceptable answer; `key` groups it among the run's failures."""

    def __init__(self, key: str, detail: str) -> None:
        self.key = key
        self.first_token_s: float | None = None  # when the answer's first token came, if it did
        super().__init__(f"{key}: {detail}")


@dataclass(frozen=True)
class Chunk:
    """One `data:` event: its content text (may be empty), and `usage` tokens if it says."""

    content: str
    completion_tokens: int | None = None


def content_of(event: dict[str, Any]) -> str:
    """The generated text of a chunk: `delta.content` (chat) or `text` (completions)."""
    choices = event.get("choices") or []
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return ""
    choice = choices[0]
    delta = choice.get("delta")
    if isinstance(delta, dict):
        text = delta.get("content")
    else:
        message = choice.get("message")
        text = message.get("content") if isinstance(message, dict) else choice.get("text")
    return text if isinstance(text, str) else ""


def usage_tokens(event: dict[str, Any]) -> int | None:
    """`usage.completion_tokens` when the event carries it."""
    usage = event.get("usage")
    if isinstance(usage, dict) and isinstance(usage.get("completion_tokens"), int):
        return int(usage["completion_tokens"])
    return None


def parse_line(raw: bytes | str) -> Chunk | str | None:
    """One SSE line: a Chunk, DONE, or None for what carries no data (blank lines,
    `:` comments and keep-alives, `event:`/`id:`/`retry:` fields). Raises StreamError for a
    data line that is not JSON, or an error event."""
    line = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    line = line.rstrip("\r\n")
    if not line.startswith("data:"):
        return None
    data = line[5:].strip()
    if data == DONE:
        return DONE
    try:
        event = json.loads(data)
    except ValueError:
        raise StreamError("bad stream", f"not JSON: {line[:SHOWN_LINE_CHARS]}") from None
    if not isinstance(event, dict):
        raise StreamError("bad stream", f"not a JSON object: {line[:SHOWN_LINE_CHARS]}")
    if "error" in event:
        raise StreamError("stream error", json.dumps(event["error"])[:SHOWN_LINE_CHARS])
    return Chunk(content_of(event), usage_tokens(event))


@dataclass
class StreamTally:
    """One request's stream as it arrives: feed each line with the time it was read
    (seconds from the request's start)."""

    first_token_s: float | None = None
    last_token_s: float | None = None
    gaps_s: list[float] = field(default_factory=list)
    chunks: int = 0
    usage: int | None = None
    done: bool = False

    def feed(self, raw: bytes | str, at_s: float) -> None:
        """One line read at `at_s`; lines after [DONE] are ignored."""
        if self.done:
            return
        parsed = parse_line(raw)
        if parsed == DONE:
            self.done = True
            return
        if not isinstance(parsed, Chunk):
            return
        if parsed.completion_tokens is not None:
            self.usage = parsed.completion_tokens
        if not parsed.content:
            return
        self.chunks += 1
        if self.first_token_s is None:
            self.first_token_s = at_s
        else:
            assert self.last_token_s is not None
            self.gaps_s.append(max(at_s - self.last_token_s, 0.0))
        self.last_token_s = at_s

    @property
    def tokens(self) -> int:
        """Tokens made: the server's `usage` if it sent one, else the content chunks."""
        return self.usage if self.usage is not None else self.chunks

    def check_complete(self) -> None:
        """A stream that ended without [DONE] broke off: raise StreamError."""
        if not self.done:
            got = f"{self.chunks} content chunks" if self.chunks else "no content"
            raise StreamError("stream ended early", f"no [DONE] after {got}")
