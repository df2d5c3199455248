"""The prompts an `llm` workload sends: read from a file (JSONL of `{"messages": [...]}`,
`{"prompt": "..."}` or plain strings; or .txt, one prompt a line), or generated to about a
given number of tokens. Read at validation too, so a bad line is reported with its number."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

CHARS_PER_TOKEN = 4  # the usual rule of thumb for English text and BPE tokenizers
GENERATED_PROMPTS = 64
MAX_PROMPTS = 100_000
_WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "was",
    "for",
    "on",
    "are",
    "with",
    "as",
    "by",
    "at",
    "from",
    "this",
    "that",
    "be",
    "or",
    "an",
    "it",
    "not",
    "which",
    "have",
    "one",
    "had",
    "all",
    "were",
    "when",
    "there",
    "can",
    "more",
    "if",
    "out",
    "so",
    "said",
    "what",
    "up",
    "its",
    "about",
    "into",
    "than",
    "them",
    "time",
    "only",
    "new",
    "some",
    "could",
    "these",
    "two",
    "may",
    "first",
    "then",
    "do",
    "any",
    "like",
    "my",
    "now",
    "over",
    "such",
    "our",
    "man",
    "me",
    "even",
    "most",
    "made",
    "after",
    "also",
    "did",
    "many",
    "before",
    "must",
    "through",
    "back",
    "years",
    "where",
    "much",
    "your",
    "way",
    "well",
    "down",
    "should",
    "because",
    "each",
    "just",
    "those",
    "people",
    "how",
    "too",
    "little",
    "state",
    "good",
    "very",
    "make",
    "world",
    "still",
    "own",
    "see",
    "men",
    "work",
    "long",
    "get",
    "here",
    "between",
    "both",
    "life",
    "being",
    "under",
    "never",
    "day",
    "same",
    "another",
    "know",
]

Prompt = str | list[dict[str, Any]]  # a completion prompt, or chat messages


class PromptsError(ValueError):
    """The prompts cannot be used; the message names the file and line."""


def generated_prompts(tokens: int, count: int = GENERATED_PROMPTS, seed: int = 0) -> list[str]:
    """`count` different prompts of about `tokens` tokens each (CHARS_PER_TOKEN characters a
    token), words drawn with a fixed seed so runs send the same prompts."""
    rng = random.Random(seed)
    chars = tokens * CHARS_PER_TOKEN
    prompts = []
    for _ in range(count):
        words: list[str] = []
        length = 0
        while length < chars:
            word = rng.choice(_WORDS)
            words.append(word)
            length += len(word) + 1
        prompts.append(" ".join(words)[:chars].rstrip())
    return prompts


def _messages(value: Any, where: str) -> list[dict[str, Any]]:
    ok = (
        isinstance(value, list)
        and value
        and all(
            isinstance(m, dict) and isinstance(m.get("role"), str) and "content" in m for m in value
        )
    )
    if not ok:
        raise PromptsError(f"{where}: messages must be a list of {{role, content}} objects")
    return value


def _prompt_of(value: Any, api: str, where: str) -> Prompt:
    """One line's prompt in the form the api takes (a string becomes a user message)."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, dict) and "messages" in value:
        messages = _messages(value["messages"], where)
        if api == "openai-completions":
            raise PromptsError(f"{where}: openai-completions takes a prompt, not messages")
        return messages
    elif isinstance(value, dict) and isinstance(value.get("prompt"), str):
        text = value["prompt"]
    else:
        raise PromptsError(
            f'{where}: expected {{"messages": [...]}}, {{"prompt": "..."}} or a string'
        )
    if not text.strip():
        raise PromptsError(f"{where}: the prompt is empty")
    return [{"role": "user", "content": text}] if api == "openai-chat" else text


def read_prompts(path: Path, api: str) -> list[Prompt]:
    """Every prompt of the file, in order, in the form `api` sends (blank lines skipped)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PromptsError(f"cannot read prompts file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise PromptsError(f"prompts file {path} is not UTF-8 text") from None
    plain = path.suffix.lower() == ".txt"
    prompts: list[Prompt] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path.name}:{number}"
        if plain:
            value: Any = line
        else:
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise PromptsError(f"{where}: not a JSON value: {exc.msg}") from None
        prompts.append(_prompt_of(value, api, where))
        if len(prompts) > MAX_PROMPTS:
            raise PromptsError(f"{path.name}: more than {MAX_PROMPTS} prompts")
    if not prompts:
        raise PromptsError(f"prompts file {path.name} holds no prompt")
    return prompts


def prompts_for(spec: Any, folder: Path | None = None) -> list[Prompt]:
    """An llm section's prompts: its file's (relative to `folder`), or generated."""
    if spec.prompts is None:
        texts = generated_prompts(spec.prompt_tokens)
        return [_prompt_of(t, spec.api, "generated") for t in texts]
    path = Path(spec.prompts)
    if folder is not None and not path.is_absolute():
        path = folder / path
    return read_prompts(path, spec.api)
