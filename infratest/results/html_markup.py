"""The HTML building blocks both report sections use: escaping, verdict badges, tables and
embedded plots. Every cell passes through `e` or is built here, so no text from a results
document reaches the page unescaped."""

from __future__ import annotations

import base64
import html
from typing import Any

from infratest.results.view import VERDICTS

KNOWN = set(VERDICTS)


def e(text: Any) -> str:
    """Escaped text; None is empty."""
    return html.escape("" if text is None else str(text))


def badge(verdict: Any, extra: str = "") -> str:
    """A coloured verdict word; unknown verdicts are grey."""
    word = str(verdict or "error").lower()
    kind = word if word in KNOWN else "other"
    return f'<span class="badge {kind}{extra}">{e(word.upper())}</span>'


def table(head: list[str], rows: list[list[str]]) -> str:
    """A table from already-escaped cells."""
    top = "".join(f"<th>{cell}</th>" for cell in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{top}</tr></thead><tbody>{body}</tbody></table>"


def image(title: str, png: bytes) -> str:
    """A plot as an inline PNG in a figure (the plot carries its own title)."""
    data = base64.b64encode(png).decode("ascii")
    return f'<figure><img src="data:image/png;base64,{data}" alt="{e(title)}"></figure>'


def plots_block(figures: list[tuple[str, bytes]]) -> str:
    """Plots side by side; '' when there are none."""
    shown = "".join(image(title, png) for title, png in figures)
    return f'<div class="plots">{shown}</div>' if shown else ""
