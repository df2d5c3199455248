"""The kinds of failure the failure table lists, worded once for the terminal, the Markdown
summary and the HTML report: a load's failed requests by kind (`series.load.error_kinds`) or
a fuzz run's server errors (`series.fuzz.error_kinds`), each with its count and examples — for
fuzz the smallest body that reproduced it, then the first failing bodies. Read defensively from
the document (a report may be rendered from an older or partial file) and cut to a cell's width;
each renderer escapes for its own markup."""

from __future__ import annotations

from typing import Any, NamedTuple

from infratest.results.plots import series

Entry = dict[str, Any]
EXAMPLE_CHARS = 160
MAX_KINDS = 8
SOURCES = ("load", "fuzz")


def cut(text: Any) -> str:
    """One line of at most EXAMPLE_CHARS characters."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= EXAMPLE_CHARS else flat[: EXAMPLE_CHARS - 1] + "…"


class FailureKind(NamedTuple):
    """One row of the failure table's kinds."""

    key: str
    count: str
    smallest: str | None  # fuzz: the smallest body that reproduced it
    examples: tuple[str, ...]  # load: messages; fuzz: the first failing bodies
    fuzz: bool

    def examples_text(self) -> str:
        """'smallest body: {...}; first failing bodies: a | b' (fuzz) or 'a; b' (load)."""
        parts = [f"smallest body: {self.smallest}"] if self.smallest else []
        if self.examples and self.fuzz:
            parts.append("first failing bodies: " + " | ".join(self.examples))
        elif self.examples:
            parts.append("; ".join(self.examples))
        return "; ".join(parts)

    def line(self) -> str:
        """'HTTP 500 ×3: smallest body: {...}; ...' for a text table."""
        shown = self.examples_text()
        return f"{self.key} ×{self.count}" + (f": {shown}" if shown else "")


def _kind(found: dict[str, Any], fuzz: bool) -> FailureKind:
    examples = found.get("examples")
    texts = tuple(cut(x) for x in examples) if isinstance(examples, list) else ()
    smallest = found.get("smallest")
    return FailureKind(
        key=str(found.get("key", "?")),
        count=str(found.get("count", "?")),
        smallest=cut(smallest) if smallest is not None else None,
        examples=texts,
        fuzz=fuzz,
    )


def failure_kinds(entry: Entry) -> list[FailureKind]:
    """The entry's kinds of failure, most frequent first, at most MAX_KINDS."""
    found: list[FailureKind] = []
    for source in SOURCES:
        kinds = series(entry, source).get("error_kinds")
        rows = [k for k in kinds if isinstance(k, dict)] if isinstance(kinds, list) else []
        found += [_kind(k, source == "fuzz") for k in rows]
    return found[:MAX_KINDS]
