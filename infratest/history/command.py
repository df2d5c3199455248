"""`infratest history`: the recorded runs of each assumption, or the regressions since each
check last passed. With ``--regressions`` the exit status is 1 when there are any, so a CI
step can gate on it."""

from __future__ import annotations

import argparse

from infratest.history.query import histories, regressions, select
from infratest.history.show import history_text, regression_text
from infratest.history.store import DEFAULT_PATH, HistoryError, open_history
from infratest.spec.discovery import UsageError

DEFAULT_LAST = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The sub-command's options."""
    parser.add_argument(
        "assumption",
        nargs="?",
        metavar="ASSUMPTION",
        help="an assumption's name or FILE::NAME (wildcards allowed; default: all)",
    )
    parser.add_argument(
        "--last",
        type=_positive,
        default=DEFAULT_LAST,
        metavar="N",
        help=f"show the last N runs of each assumption (default: {DEFAULT_LAST})",
    )
    parser.add_argument(
        "--db",
        default=str(DEFAULT_PATH),
        metavar="PATH",
        help=f"the history file (default: {DEFAULT_PATH})",
    )
    parser.add_argument(
        "--regressions",
        action="store_true",
        help="list checks now clearly worse than when they last passed; exit 1 if any",
    )


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of runs >= 1, got {text!r}")
    return value


def run(args: argparse.Namespace) -> int:
    """Print the history or the regressions; the exit status."""
    try:
        conn = open_history(args.db, create=False)
    except HistoryError as exc:  # exit 2, never 0: a gate must not pass on a missing history
        raise UsageError(str(exc)) from None
    try:
        found = histories(conn, last=None if args.regressions else args.last)
    finally:
        conn.close()
    picked = select(found, args.assumption)
    if not found:
        print(f"no runs recorded in {args.db} yet")
        return 0
    if not picked:
        known = ", ".join(h.id for h in found[:5]) + (", ..." if len(found) > 5 else "")
        raise UsageError(f"no recorded assumption matches {args.assumption!r}; known: {known}")
    if args.regressions:
        report = regressions(picked)
        print(regression_text(report), end="")
        return 1 if report.regressions else 0
    print(history_text(picked), end="")
    return 0
