"""``${NAME}`` and ``${NAME:-default}`` in scenario and config files, read from the environment.

``$${`` writes a literal ``${``. Start-time placeholders such as ``{port}`` are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_REFERENCE = re.compile(r"\$\$\{|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")
_BROKEN = re.compile(r"\$\{(?![A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\})")


class InterpolationError(ValueError):
    """A reference to an unset variable without a default, or a malformed reference."""


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """Replace every environment reference in `text`."""
    if "$" not in text:
        return text
    stripped = text.replace("$${", "")
    if _BROKEN.search(stripped):
        raise InterpolationError(
            f'malformed reference in "{text}": write ${{NAME}} or ${{NAME:-default}}'
        )

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        name, default = match["name"], match["default"]
        if name in env:
            return env[name]
        if default is not None:
            return default
        raise InterpolationError(
            f"environment variable {name} is not set (write ${{{name}:-default}} to give a default)"
        )

    return _REFERENCE.sub(replace, text)
