"""Write an evidence bundle: everything goes into a hidden sibling folder, `SHA256SUMS` last,
and the folder is renamed into place, so a partly written bundle never exists under its name.

Layout: results.json, report.html, summary.md, junit.xml, environment.json, lineage.json,
inputs.json (where each copied file came from), files/ (byte copies of the scenario files,
the config and the data files they reference), SHA256SUMS.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infratest.evidence.manifest import MANIFEST, digests_of, file_sha256, render
from infratest.evidence.redact import redact
from infratest.results.contract import json_text as _json


class BundleError(Exception):
    """The bundle cannot be written where it was asked for."""


@dataclass(frozen=True)
class Input:
    """A file copied into files/: what it is to the run, and where it was read from."""

    source: Path
    role: str  # scenario, config or data


@dataclass(frozen=True)
class BundleParts:
    """Everything a bundle holds, gathered by the session that ran."""

    document: dict[str, Any]
    junit: Path | None
    inputs: Sequence[Input]
    environment: dict[str, Any]
    lineage: dict[str, Any]
    secrets: Mapping[str, str] = field(default_factory=dict)


def check_destination(dest: Path) -> None:
    """Refuse to replace anything but an earlier bundle (a folder with a manifest)."""
    if not dest.exists():
        return
    if not dest.is_dir():
        raise BundleError(f"{dest} exists and is not a folder")
    if any(dest.iterdir()) and not (dest / MANIFEST).is_file():
        raise BundleError(f"{dest} is a folder that is not an evidence bundle; refusing to replace")


class Staging:
    """The hidden sibling folder a bundle is written in before it is renamed into place."""

    def __init__(self, dest: Path) -> None:
        self.dest = dest.resolve()
        check_destination(self.dest)
        self.dest.parent.mkdir(parents=True, exist_ok=True)
        prefix = f".{self.dest.name}.partial-"
        self.path = Path(tempfile.mkdtemp(prefix=prefix, dir=self.dest.parent))
        os.chmod(self.path, 0o755)  # mkdtemp makes 0700; a bundle is meant to be handed on

    @property
    def junit(self) -> Path:
        return self.path / "junit.xml"

    def commit(self) -> None:
        """Rename into place; an earlier bundle there is moved aside first, then removed."""
        check_destination(self.dest)
        aside = None
        if self.dest.exists():
            aside = Path(tempfile.mkdtemp(prefix=f".{self.dest.name}.old-", dir=self.dest.parent))
            os.replace(self.dest, aside / "bundle")
        os.replace(self.path, self.dest)
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)

    def discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def bundle_name(source: Path, root: Path, taken: set[str]) -> str:
    """files/<path relative to root>, or files/external/<name> (numbered when taken)."""
    try:
        name = f"files/{source.resolve().relative_to(root.resolve()).as_posix()}"
    except ValueError:
        name = f"files/external/{source.name}"
    stem, number = name, 2
    while name in taken:
        name, number = f"{stem}.{number}", number + 1
    return name


def _copy_inputs(folder: Path, inputs: Sequence[Input], root: Path) -> list[dict[str, Any]]:
    """Byte copies of the inputs; each listed with its source, role and digest."""
    listed: list[dict[str, Any]] = []
    seen: set[Path] = set()
    for item in inputs:
        source = item.source.resolve()
        if source in seen or not source.is_file():
            continue
        seen.add(source)
        name = bundle_name(source, root, {entry["bundle_path"] for entry in listed})
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, folder / name)
        listed.append(
            {
                "bundle_path": name,
                "source": str(item.source),
                "role": item.role,
                "sha256": file_sha256(folder / name),
                "size": source.stat().st_size,
            }
        )
    return listed


def _reports(folder: Path, parts: BundleParts) -> None:
    from infratest.results.html import render_html
    from infratest.results.markdown import render_markdown

    secrets = parts.secrets
    _write(folder / "results.json", redact(_json(parts.document), secrets))
    _write(folder / "report.html", redact(render_html(parts.document), secrets))
    _write(folder / "summary.md", redact(render_markdown(parts.document), secrets))
    if parts.junit is not None and parts.junit.is_file():
        junit = parts.junit.read_text(encoding="utf-8", errors="replace")
        _write(folder / "junit.xml", redact(junit, secrets))


def write_bundle(staging: Staging, parts: BundleParts, root: Path) -> Path:
    """Fill the staging folder, write the manifest last, and rename it into place."""
    folder = staging.path
    _reports(folder, parts)
    inputs = _copy_inputs(folder, parts.inputs, root)
    _write(folder / "inputs.json", redact(_json(inputs), parts.secrets))
    _write(folder / "environment.json", redact(_json(parts.environment), parts.secrets))
    _write(folder / "lineage.json", redact(_json(parts.lineage), parts.secrets))
    manifest = folder / f".{MANIFEST}.tmp"
    manifest.write_text(render(digests_of(folder)), encoding="utf-8")
    os.replace(manifest, folder / MANIFEST)
    staging.commit()
    return staging.dest
