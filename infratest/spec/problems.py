"""Problems found in a user's file, each with the file, line, column and field it is about.

A user's mistake is reported as a :class:`SpecError` holding every problem found, never as a
traceback, so one run of ``infratest validate`` shows all that needs fixing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar

Path = tuple[str | int, ...]


def format_path(path: Path) -> str:
    """('assumptions', 2, 'expect', 'latency.p95') -> 'assumptions[2].expect.latency.p95'."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


@dataclass(frozen=True)
class Problem:
    """One thing wrong in one file."""

    file: str
    line: int
    column: int
    path: Path
    message: str
    kind: ClassVar[str] = ""  # shown after the location: "" for errors

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}:" + (f" {self.kind}:" if self.kind else "")
        field = format_path(self.path)
        return f"{where} {field}: {self.message}" if field else f"{where} {self.message}"


@dataclass(frozen=True)
class SpecWarning(Problem):
    """Something valid that will not do what its writer hopes (a check that can never pass);
    shown by `infratest validate`, never a reason to refuse the file."""

    kind: ClassVar[str] = "warning"


class SpecError(Exception):
    """Every problem found in one or more files; ``str()`` lists them one per line."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(_unique(problems))
        super().__init__("\n".join(str(p) for p in self.problems))


def _unique(problems: Iterable[Problem]) -> Iterable[Problem]:
    """The same mistake reached twice (e.g. a `defaults` value merged into two assumptions)
    is reported once, at its own line."""
    seen: set[tuple[str, int, int, str]] = set()
    for problem in sorted(problems, key=lambda p: (p.file, p.line, p.column)):
        key = (problem.file, problem.line, problem.column, problem.message)
        if key not in seen:
            seen.add(key)
            yield problem
