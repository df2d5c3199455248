"""Write the HTML and Markdown reports of a results document. Each file is written next to its
destination and renamed into place, so a CI step or a browser never reads half a report."""

from __future__ import annotations

from typing import Any

from infratest.results.atomic import write_text_atomically
from infratest.results.html import render_html
from infratest.results.markdown import render_markdown


def write_reports(
    doc: dict[str, Any],
    html_path: str | None,
    markdown_path: str | None,
    history: str | None = None,
) -> None:
    """Render and write the reports that have a path; rendering reads only `doc`, and the
    HTML report's trends read the `history` file when one is given."""
    if html_path:
        trends = None
        if history:
            from infratest.results.trend_plots import trend_sections

            trends = trend_sections(doc, history)
        write_text_atomically(html_path, render_html(doc, trends))
    if markdown_path:
        write_text_atomically(markdown_path, render_markdown(doc))
