"""Write the HTML and Markdown reports of a results document. Each file is written next to its
destination and renamed into place, so a CI step or a browser never reads half a report."""

from __future__ import annotations

from typing import Any

from infratest.results.atomic import write_text_atomically
from infratest.results.html import render_html
from infratest.results.markdown import render_markdown


def write_reports(doc: dict[str, Any], html_path: str | None, markdown_path: str | None) -> None:
    """Render and write the reports that have a path; rendering reads only `doc`."""
    if html_path:
        write_text_atomically(html_path, render_html(doc))
    if markdown_path:
        write_text_atomically(markdown_path, render_markdown(doc))
