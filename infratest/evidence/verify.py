"""`infratest verify DIR`: recompute every digest of a bundle and name each file that is
missing, changed, or not in the manifest."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from infratest.evidence.manifest import MANIFEST, ManifestError, bundle_files, file_sha256, parse


@dataclass
class Verification:
    """What differs between the bundle and its manifest; `problem` is a fatal reading error."""

    checked: int = 0
    missing: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None and not (self.missing or self.changed or self.extra)

    def lines(self) -> list[str]:
        """One line per finding, for people and CI logs."""
        if self.problem is not None:
            return [self.problem]
        found = [f"changed: {name}" for name in self.changed]
        found += [f"missing: {name}" for name in self.missing]
        found += [f"extra (not in {MANIFEST}): {name}" for name in self.extra]
        return found


def verify(folder: Path) -> Verification:
    """Check every manifest entry against the file's bytes, and look for unlisted files."""
    manifest = folder / MANIFEST
    try:
        text = manifest.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Verification(problem=f"{folder} is not an evidence bundle: no {MANIFEST}")
    except (OSError, UnicodeDecodeError) as exc:
        return Verification(problem=f"cannot read {manifest}: {exc}")
    try:
        entries = parse(text, str(manifest))
    except ManifestError as exc:
        return Verification(problem=str(exc))
    result = Verification()
    for entry in entries:
        path = folder / entry.name
        if not path.is_file():
            result.missing.append(entry.name)
        elif file_sha256(path) != entry.sha256:
            result.changed.append(entry.name)
        result.checked += 1
    listed = {entry.name for entry in entries}
    result.extra = [name for name in bundle_files(folder) if name not in listed]
    return result
