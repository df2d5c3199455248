"""Reading the history back: each assumption's results over runs, and regressions.

Runs are ordered by their id (the order they were recorded), not by clock: clocks of CI
machines disagree, the order of recording does not. An assumption is identified by its file
and name; a check by its metric, operator and change (a `<` check and a `>` check of the same
metric, or a change from a baseline and the metric itself, are different series)."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

CheckKey = tuple[str, str, str | None]  # metric, op, change


@dataclass(frozen=True)
class Run:
    """When and from which commit a recorded run came."""

    id: int
    started_at: str
    git_commit: str | None
    interrupted: bool


@dataclass(frozen=True)
class CheckPoint:
    """One check of one result: value and interval in SI units (None: not measured)."""

    metric: str
    op: str
    bound: float | None
    change: str | None
    value: float | None
    low: float | None
    high: float | None
    confidence: float | None
    verdict: str

    @property
    def key(self) -> CheckKey:
        return (self.metric, self.op, self.change)

    def interval(self) -> tuple[float, float] | None:
        """The interval, a missing side unbounded (the results file writes ±inf as null)."""
        if self.value is None:
            return None
        low = -math.inf if self.low is None else self.low
        high = math.inf if self.high is None else self.high
        return (low, high)


@dataclass(frozen=True)
class ResultPoint:
    """An assumption's verdict in one run."""

    run: Run
    verdict: str
    reason: str | None
    checks: tuple[CheckPoint, ...]


@dataclass(frozen=True)
class AssumptionHistory:
    """One assumption's results, oldest run first."""

    file: str
    assumption: str
    points: tuple[ResultPoint, ...]

    @property
    def id(self) -> str:
        return f"{self.file}::{self.assumption}"

    def matches(self, pattern: str) -> bool:
        """By name or `file::name`, with shell wildcards."""
        return fnmatchcase(self.assumption, pattern) or fnmatchcase(self.id, pattern)


_PICKED = """
WITH picked AS (
    SELECT r.id, r.file, r.assumption, r.verdict, r.reason, r.run_id,
           ROW_NUMBER() OVER (
               PARTITION BY r.file, r.assumption ORDER BY r.run_id DESC, r.id DESC
           ) AS age
    FROM results r JOIN runs ON runs.id = r.run_id
    WHERE :until IS NULL OR runs.started_at <= :until
)
"""
_RESULTS = (
    _PICKED
    + """SELECT picked.*, runs.started_at, runs.git_commit, runs.interrupted
FROM picked JOIN runs ON runs.id = picked.run_id
WHERE :last IS NULL OR picked.age <= :last
ORDER BY picked.file, picked.assumption, picked.run_id, picked.id"""
)
_CHECKS = (
    _PICKED
    + """SELECT c.* FROM checks c JOIN picked ON picked.id = c.result_id
WHERE :last IS NULL OR picked.age <= :last
ORDER BY c.result_id, c.position"""
)


def _check(row: sqlite3.Row) -> CheckPoint:
    return CheckPoint(
        metric=row["metric"],
        op=row["op"],
        bound=row["bound"],
        change=row["change"],
        value=row["value"],
        low=row["low"],
        high=row["high"],
        confidence=row["confidence"],
        verdict=row["verdict"],
    )


def histories(
    conn: sqlite3.Connection, last: int | None = None, until: str | None = None
) -> list[AssumptionHistory]:
    """Every assumption's last `last` results (all when None), from runs started no later
    than `until` (an ISO timestamp as the results file writes them), sorted by id."""
    params = {"last": last, "until": until}
    checks: dict[int, list[CheckPoint]] = {}
    for row in conn.execute(_CHECKS, params):
        checks.setdefault(row["result_id"], []).append(_check(row))
    grouped: dict[tuple[str, str], list[ResultPoint]] = {}
    for row in conn.execute(_RESULTS, params):
        run = Run(row["run_id"], row["started_at"], row["git_commit"], bool(row["interrupted"]))
        point = ResultPoint(run, row["verdict"], row["reason"], tuple(checks.get(row["id"], ())))
        grouped.setdefault((row["file"], row["assumption"]), []).append(point)
    return [AssumptionHistory(f, a, tuple(points)) for (f, a), points in grouped.items()]


def select(found: Iterable[AssumptionHistory], pattern: str | None) -> list[AssumptionHistory]:
    """The histories matching an ASSUMPTION argument (all for None)."""
    return [h for h in found if pattern is None or h.matches(pattern)]


def series(history: AssumptionHistory) -> dict[CheckKey, list[tuple[Run, CheckPoint]]]:
    """Each check's values over runs, oldest first, in the order the checks first appear."""
    found: dict[CheckKey, list[tuple[Run, CheckPoint]]] = {}
    for point in history.points:
        for check in point.checks:
            found.setdefault(check.key, []).append((point.run, check))
    return found


@dataclass(frozen=True)
class Regression:
    """A check whose latest interval lies wholly on the worse side of its last passing one."""

    assumption: str  # file::name
    then: tuple[Run, CheckPoint]
    now: tuple[Run, CheckPoint]


def is_worse(then: CheckPoint, now: CheckPoint) -> bool:
    """True when the intervals do not overlap and `now` is on the side the condition calls
    worse: higher for `<`/`<=` bounds, lower for `>`/`>=`."""
    before, after = then.interval(), now.interval()
    if before is None or after is None:
        return False
    if now.op in ("<", "<="):
        return after[0] > before[1]
    if now.op in (">", ">="):
        return after[1] < before[0]
    return False


@dataclass(frozen=True)
class RegressionReport:
    """The regressions found, and how many checks had a passing run to compare with."""

    regressions: list[Regression]
    compared: int
    never_passed: int


def regressions(found: Sequence[AssumptionHistory]) -> RegressionReport:
    """Compare each check's latest result with the last earlier run in which it passed —
    also when the latest still passes: a check that got clearly worse while staying inside
    its bound is the early warning a history is for. Only the checks of each assumption's
    latest result count: a check taken out of a scenario stops being compared."""
    listed: list[Regression] = []
    compared = never_passed = 0
    for history in found:
        current = {check.key for check in history.points[-1].checks}
        for key, points in series(history).items():
            if key not in current:
                continue
            latest = points[-1]
            passed = [p for p in points[:-1] if p[1].verdict == "pass"]
            if not passed:
                never_passed += 1
                continue
            compared += 1
            if is_worse(passed[-1][1], latest[1]):
                listed.append(Regression(history.id, passed[-1], latest))
    return RegressionReport(listed, compared, never_passed)
