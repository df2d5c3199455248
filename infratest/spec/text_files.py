"""Reading a file a scenario names (bodies, inputs, recorded traffic) as UTF-8 text, with an
error a person can act on: which file, and why it could not be read."""

from __future__ import annotations

from pathlib import Path


def read_utf8(path: Path, what: str, error: type[ValueError]) -> str:
    """The file's text; `error` naming the `what` file and the reason otherwise."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise error(f"{what} {path} is not UTF-8 text") from None
