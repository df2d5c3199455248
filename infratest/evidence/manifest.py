"""`SHA256SUMS`: one `<hex>  <relative path>` line per file, the format `sha256sum -c` reads
(names with a backslash or newline are escaped as GNU coreutils does)."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MANIFEST = "SHA256SUMS"
_LINE = re.compile(r"^(\\?)([0-9a-f]{64}) [ *](.+)$")


class ManifestError(ValueError):
    """A manifest line that is not `<64 hex digits>  <relative path>`."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def bundle_files(folder: Path) -> list[str]:
    """Every file under `folder` but the manifest, as sorted POSIX relative paths."""
    names = (
        Path(root, name).relative_to(folder).as_posix()
        for root, _, files in os.walk(folder)
        for name in files
    )
    return sorted(name for name in names if name != MANIFEST)


def _escaped(name: str) -> tuple[str, str]:
    if "\\" not in name and "\n" not in name:
        return "", name
    return "\\", name.replace("\\", "\\\\").replace("\n", "\\n")


def _unescaped(name: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m[1] == "n" else m[1], name)


def render(digests: dict[str, str]) -> str:
    """The manifest text for {relative path: hex digest}, sorted by path."""
    lines = []
    for name in sorted(digests):
        prefix, written = _escaped(name)
        lines.append(f"{prefix}{digests[name]}  {written}\n")
    return "".join(lines)


def digests_of(folder: Path) -> dict[str, str]:
    """{relative path: SHA-256} of every file in the folder but the manifest."""
    return {name: file_sha256(folder / name) for name in bundle_files(folder)}


@dataclass(frozen=True)
class Entry:
    name: str
    sha256: str
    line: int


def parse(text: str, file: str = MANIFEST) -> list[Entry]:
    """The manifest's entries; a malformed or escaping line raises ManifestError."""
    entries = []
    lines = text.split("\n")  # not splitlines(): a name may hold \r or other breaks
    if lines and lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines, start=1):
        match = _LINE.match(line)
        if not match:
            raise ManifestError(f"{file}:{number}: not '<sha256>  <path>': {line[:80]!r}")
        name = _unescaped(match[3]) if match[1] else match[3]
        pure = PurePosixPath(name)
        if pure.is_absolute() or ".." in pure.parts:
            raise ManifestError(f"{file}:{number}: path leaves the bundle: {name!r}")
        entries.append(Entry(name, match[2], number))
    return entries
