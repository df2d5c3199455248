"""The run history database: one SQLite file, its schema version and migrations.

Why these choices:
- The schema version lives in ``PRAGMA user_version`` (in the file header, so it is set in the
  same transaction as the tables it describes). Migrations are an ordered list; a file at
  version k gets migrations k+1.. applied, each in its own transaction. A file written by a
  newer infratest is refused, never altered: an older release cannot know what it would break.
- The rollback journal, not WAL: the history is one self-contained file that a CI job can
  cache or archive by copying it (WAL keeps committed rows in a side file until a checkpoint),
  and it works on network file systems. A run killed mid-write leaves a hot journal, which the
  next connection rolls back, so earlier runs are never lost or half-written.
- ``busy_timeout``: two sessions finishing together wait for each other instead of failing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DEFAULT_PATH = Path(".infratest") / "history.sqlite"
BUSY_TIMEOUT_MS = 10_000

_V1 = (
    """CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        complete INTEGER NOT NULL,
        interrupted INTEGER NOT NULL,
        git_commit TEXT,
        host TEXT,
        config TEXT,
        command TEXT,
        infratest_version TEXT
    )""",
    """CREATE TABLE results (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        file TEXT NOT NULL,
        assumption TEXT NOT NULL,
        scenario TEXT,
        target TEXT,
        workload TEXT,
        verdict TEXT NOT NULL,
        reason TEXT,
        started_at TEXT,
        duration_s REAL
    )""",
    "CREATE INDEX results_by_assumption ON results (file, assumption, run_id)",
    """CREATE TABLE checks (
        id INTEGER PRIMARY KEY,
        result_id INTEGER NOT NULL REFERENCES results(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        metric TEXT NOT NULL,
        op TEXT NOT NULL,
        bound REAL,
        change TEXT,
        unit TEXT,
        value REAL,
        low REAL,
        high REAL,
        confidence REAL,
        verdict TEXT NOT NULL
    )""",
    "CREATE INDEX checks_by_result ON checks (result_id)",
)

# MIGRATIONS[k] takes a file from version k to k + 1; never edit one that was released.
MIGRATIONS: tuple[tuple[str, ...], ...] = (_V1,)
SCHEMA_VERSION = len(MIGRATIONS)


class HistoryError(Exception):
    """The history file cannot be used; the message names the file and what to do."""


def open_history(path: str | Path, *, create: bool) -> sqlite3.Connection:
    """A connection to an up-to-date history file. ``create=False`` (reading) refuses a
    missing file instead of leaving an empty one behind."""
    path = Path(path)
    if not create and not path.is_file():
        raise HistoryError(f"no run history at {path} (runs are recorded there by `infratest run`)")
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    except sqlite3.Error as exc:
        raise HistoryError(f"cannot open the run history {path}: {exc}") from None
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = FULL")
        migrate(conn, path)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise HistoryError(f"{path} is not a usable run history: {exc}") from None
    except HistoryError:
        conn.close()
        raise
    conn.row_factory = sqlite3.Row
    return conn


def schema_version(conn: sqlite3.Connection) -> int:
    """The version recorded in the file header (0 for a new, empty file)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Bring the file to SCHEMA_VERSION; refuse one from a newer infratest untouched."""
    found = schema_version(conn)
    if found > SCHEMA_VERSION:
        raise HistoryError(
            f"{path} has run history schema version {found}, newer than this infratest knows "
            f"({SCHEMA_VERSION}); upgrade infratest, or record to another file with "
            "--infratest-history PATH"
        )
    while found < SCHEMA_VERSION:
        with transaction(conn):
            found = schema_version(conn)  # another process may have migrated meanwhile
            if found >= SCHEMA_VERSION:
                break
            for statement in MIGRATIONS[found]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {found + 1}")
        found = schema_version(conn)


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction, taken up front (IMMEDIATE) so it never fails half-way on a lock;
    committed only when the block ends normally."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
