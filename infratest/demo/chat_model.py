"""The demo's language model: a character n-gram with back-off, so the chat endpoint streams
real (if simple-minded) text generated one character at a time.

The file is gzipped JSON of next-character counts for every context of 0 to ``order - 1``
characters seen in the training text (see :mod:`infratest.demo.chat_train`). A "token" is
``CHARS_PER_TOKEN`` characters, the usual rule of thumb for English text, so usage counts
and ``max_tokens`` behave like a real model's without a tokenizer.
"""

from __future__ import annotations

import gzip
import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DEFAULT_CHAT_MODEL = Path(__file__).with_name("chat_model.json.gz")
CHARS_PER_TOKEN = 4
END = "\x03"  # end of a paragraph in training; generating it finishes with "stop"


def count_tokens(text: str) -> int:
    """Tokens in a text: one per started group of CHARS_PER_TOKEN characters."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


@dataclass(frozen=True)
class Choices:
    """What may follow one context: the characters, their counts, and the most frequent."""

    chars: tuple[str, ...]
    counts: tuple[int, ...]
    best: str


@dataclass(frozen=True)
class CharModel:
    """Next-character counts per context; longer contexts first, shorter ones as back-off."""

    order: int
    tables: tuple[dict[str, Choices], ...]  # tables[k]: contexts of k characters

    def next_char(self, context: str, temperature: float, rng: random.Random) -> str:
        """One character after ``context``: the most frequent at temperature 0, else drawn
        with counts raised to 1/temperature."""
        choices = self._choices(context)
        if temperature <= 0:
            return choices.best
        weights = [c ** (1.0 / temperature) for c in choices.counts]
        return rng.choices(choices.chars, weights=weights)[0]

    def _choices(self, context: str) -> Choices:
        for k in range(min(self.order - 1, len(context)), -1, -1):
            found = self.tables[k].get(context[len(context) - k :])
            if found is not None:
                return found
        raise ValueError("model has no context-free table")  # _check() prevents this

    def tokens(
        self, prompt: str, max_tokens: int, temperature: float = 0.0, seed: int | None = None
    ) -> Iterator[str]:
        """Up to ``max_tokens`` tokens (at least one) continuing ``prompt``; ends early when
        the model generates the end of a paragraph."""
        rng = random.Random(seed)
        known = (" " if ch.isspace() else ch for ch in prompt)
        # the answer starts a new word: no paragraph ends after a space, so it is never empty
        context = "".join(ch for ch in known if ch in self.tables[1]).rstrip() + " "
        context = context[-(self.order - 1) :]
        for _ in range(max_tokens):
            token = ""
            while len(token) < CHARS_PER_TOKEN:
                ch = self.next_char(context, temperature, rng)
                if ch == END:
                    if token:
                        yield token
                    return
                token += ch
                context = (context + ch)[-(self.order - 1) :]
            yield token


def encode(order: int, counts: list[dict[str, dict[str, int]]]) -> bytes:
    """The model file's bytes: sorted JSON, gzipped with no timestamp, so the same counts
    always give the same file."""
    payload = {"format": "infratest-char-ngram/1", "order": order, "counts": counts}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return gzip.compress(text.encode(), compresslevel=9, mtime=0)


def load_chat_model(path: str | Path = DEFAULT_CHAT_MODEL) -> CharModel:
    """Read a model file written by :func:`encode` (ValueError if it is not one)."""
    try:
        payload = json.loads(gzip.decompress(Path(path).read_bytes()))
    except (gzip.BadGzipFile, EOFError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"not a chat model file: {exc}") from None
    if not isinstance(payload, dict) or payload.get("format") != "infratest-char-ngram/1":
        raise ValueError("not a chat model file (format infratest-char-ngram/1)")
    order, counts = payload["order"], payload["counts"]
    if not isinstance(order, int) or order < 2 or len(counts) != order or not counts[0]:
        raise ValueError(f"chat model: order {order!r} does not fit {len(counts)} tables")
    tables = tuple({ctx: _choices(nexts) for ctx, nexts in table.items()} for table in counts)
    return CharModel(order=order, tables=tables)


def _choices(nexts: dict[str, int]) -> Choices:
    chars = tuple(sorted(nexts))
    counts = tuple(int(nexts[ch]) for ch in chars)
    best = max(chars, key=lambda ch: (nexts[ch], -ord(ch)))  # ties: the smallest character
    return Choices(chars=chars, counts=counts, best=best)
