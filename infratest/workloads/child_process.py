"""A load generator process seen from the parent: the environment it starts with, and its
process group signalled, supervised against a hard time limit and always reaped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO

from infratest.processes import signal_group

TERM_GRACE_S = 3.0
REAP_TIMEOUT_S = 10.0
STDERR_TAIL_LINES = 40


def child_env() -> dict[str, str]:
    """Environment for the child: make this very `infratest` importable there too."""
    env = dict(os.environ)
    root = Path(__file__).resolve().parents[2]
    if "site-packages" not in root.parts:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    return env


def signal_child_group(proc: subprocess.Popen[str], sig: signal.Signals) -> None:
    """Signal the child's whole session group (it leads it: pgid == pid)."""
    signal_group(proc.pid, sig)


def terminate(proc: subprocess.Popen[str]) -> None:
    """SIGTERM the group (the child then writes what it measured), SIGKILL after a grace."""
    signal_child_group(proc, signal.SIGTERM)
    try:
        proc.wait(TERM_GRACE_S)
    except subprocess.TimeoutExpired:
        signal_child_group(proc, signal.SIGKILL)
        proc.wait(REAP_TIMEOUT_S)


def supervise(proc: subprocess.Popen[str], limit_s: float) -> bool:
    """Wait for the child, ending it past `limit_s`; True when the hard timeout hit."""
    try:
        proc.wait(limit_s)
        return False
    except subprocess.TimeoutExpired:
        terminate(proc)
        return True
    except BaseException:  # KeyboardInterrupt included: never leave the child behind
        terminate(proc)
        raise
    finally:
        # Stray descendants would keep stdout open; the group id is not reused while they live.
        signal_child_group(proc, signal.SIGKILL)


def spawn_module(
    module: str, args: list[str], cwd: Path, stderr: IO[bytes], stdin: int = subprocess.DEVNULL
) -> subprocess.Popen[str]:
    """`python -m module args` in `cwd`, leading a session of its own (so its whole group
    can be signalled and reaped), lines on a text stdout pipe, stderr to a file."""
    return subprocess.Popen(
        [sys.executable, "-m", module, *args],
        cwd=cwd,
        env=child_env(),
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        bufsize=1,
        start_new_session=True,
    )


def stderr_tail(stderr: IO[bytes], since: int = 0) -> str:
    """The last lines written to `stderr` at or after byte `since` (a warm child's file
    holds every run's)."""
    stderr.seek(0, os.SEEK_END)
    size = stderr.tell()
    stderr.seek(max(size - 65536, since, 0))
    lines = stderr.read().decode("utf-8", "replace").splitlines()
    return "\n".join(lines[-STDERR_TAIL_LINES:])
