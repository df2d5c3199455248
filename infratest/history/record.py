"""A results document becomes rows of the history: one run, its results, their checks.

The rows come from the same document that is written as JSON, so the history never says
anything the results file does not. The whole run is written in one transaction: a process
killed during the write leaves the history as it was before the run."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path
from typing import Any

from infratest.history.store import HistoryError, open_history, transaction

RUN_COLUMNS = (
    "started_at",
    "finished_at",
    "complete",
    "interrupted",
    "git_commit",
    "host",
    "config",
    "command",
    "infratest_version",
)
RESULT_COLUMNS = (
    "file",
    "assumption",
    "scenario",
    "target",
    "workload",
    "verdict",
    "reason",
    "started_at",
    "duration_s",
)
CHECK_COLUMNS = (
    "position",
    "metric",
    "op",
    "bound",
    "change",
    "unit",
    "value",
    "low",
    "high",
    "confidence",
    "verdict",
)


def _number(value: Any) -> float | None:
    """A finite float or None: JSON's null, and inf/nan a document may still hold."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def run_row(doc: dict[str, Any]) -> tuple[Any, ...]:
    """The run's facts: times, whether it was interrupted, and where it came from."""
    provenance = doc.get("provenance") if isinstance(doc.get("provenance"), dict) else {}
    return (
        str(doc.get("started_at") or ""),
        _text(doc.get("finished_at")),
        int(bool(doc.get("complete"))),
        int(bool(doc.get("interrupted"))),
        _text(provenance.get("git_commit")),
        _text(doc.get("host") or provenance.get("host")),
        _text(doc.get("config")),
        _text(provenance.get("command")),
        _text(doc.get("infratest_version")),
    )


def result_row(entry: dict[str, Any]) -> tuple[Any, ...]:
    """One assumption's verdict, keyed by its file and name."""
    return (
        str(entry.get("file") or "?"),
        str(entry.get("name") or "?"),
        _text(entry.get("scenario")),
        _text(entry.get("target")),
        _text(entry.get("workload")),
        str(entry.get("verdict") or "error"),
        _text(entry.get("reason")),
        _text(entry.get("started_at")),
        _number(entry.get("duration_s")),
    )


def check_rows(entry: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Each check's value and interval (SI units, or the change for a compare)."""
    found = entry.get("checks")
    rows = []
    for position, check in enumerate(found if isinstance(found, list) else []):
        if not isinstance(check, dict) or not check.get("metric"):
            continue
        rows.append(
            (
                position,
                str(check["metric"]),
                str(check.get("op") or "?"),
                _number(check.get("bound")),
                _text(check.get("change")),
                _text(check.get("unit")),
                _number(check.get("value")),
                _number(check.get("ci_low")),
                _number(check.get("ci_high")),
                _number(check.get("confidence")),
                str(check.get("verdict") or "error"),
            )
        )
    return rows


def _insert(conn: sqlite3.Connection, table: str, columns: tuple[str, ...], row: tuple) -> int:
    marks = ", ".join("?" * len(columns))
    cursor = conn.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", row)
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def insert_run(conn: sqlite3.Connection, doc: dict[str, Any]) -> int:
    """Insert the run and everything in it (inside the caller's transaction); its id."""
    run_id = _insert(conn, "runs", RUN_COLUMNS, run_row(doc))
    for entry in doc.get("assumptions") or []:
        if not isinstance(entry, dict):
            continue
        result_id = _insert(
            conn, "results", ("run_id", *RESULT_COLUMNS), (run_id, *result_row(entry))
        )
        for check in check_rows(entry):
            _insert(conn, "checks", ("result_id", *CHECK_COLUMNS), (result_id, *check))
    return run_id


def record_run(path: str | Path, doc: dict[str, Any]) -> int:
    """Add one run to the history at `path` (created with its folder); the run's id."""
    conn = open_history(path, create=True)
    try:
        with transaction(conn):
            return insert_run(conn, doc)
    except sqlite3.Error as exc:  # locked past the busy timeout, disk full, read-only file
        raise HistoryError(f"cannot record the run in {path}: {exc}") from None
    finally:
        conn.close()
