"""Keep interpolated values out of the generated files of a bundle.

Scenario and config files are copied byte for byte, so they hold ``${API_TOKEN}``, never the
token. Anything infratest writes itself (results, reports, JUnit, lineage) could still carry
a value it read from the environment — in an error message, a target's output, a URL — so every
value a copied file references is replaced by its reference before it is written.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping

_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")
MIN_SECRET_CHARS = 4  # shorter values ("1", "on") are not secrets and would mangle numbers


def referenced_names(texts: Iterable[str]) -> set[str]:
    """Names of the environment variables the texts reference (``$${`` is a literal)."""
    names: set[str] = set()
    for text in texts:
        names.update(_REFERENCE.findall(text.replace("$${", "")))
    return names


def secret_values(texts: Iterable[str], env: Mapping[str, str]) -> dict[str, str]:
    """{value: its reference} for every referenced variable that is set and not tiny."""
    found = {}
    for name in sorted(referenced_names(texts)):
        value = env.get(name, "")
        if len(value) >= MIN_SECRET_CHARS:
            found[value] = f"${{{name}}}"
    return found


def _forms(value: str) -> set[str]:
    """The value as written raw, inside a JSON string, and as HTML or XML text."""
    return {value, json.dumps(value, ensure_ascii=False)[1:-1], html.escape(value)}


def redact(text: str, secrets: Mapping[str, str]) -> str:
    """`text` with every form of every secret value replaced by its reference; longer values
    first, so a value containing another is replaced whole."""
    for value in sorted(secrets, key=len, reverse=True):
        for form in sorted(_forms(value), key=len, reverse=True):
            text = text.replace(form, secrets[value])
    return text
