"""Process groups and their output: signalling and reaping a whole group, and reading the
tail of what it printed with credential values masked."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import psutil

POLL_INTERVAL_S = 0.03
TAIL_BYTES = 64 * 1024
SECRET_NAME_PARTS = ("KEY", "SECRET", "TOKEN", "PASSWORD", "CREDENTIAL")
MIN_SECRET_LEN = 4  # shorter values would redact ordinary digits and words


# --- output ------------------------------------------------------------------------------------


def secret_values(env: Mapping[str, str]) -> tuple[str, ...]:
    """Values to hide from tails: env vars whose names look like credentials."""
    found = {
        value
        for name, value in env.items()
        if any(part in name.upper() for part in SECRET_NAME_PARTS) and len(value) >= MIN_SECRET_LEN
    }
    return tuple(sorted(found, key=len, reverse=True))


def redact(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def read_tail_bytes(path: Path) -> bytes:
    """The last TAIL_BYTES of a file, starting at a line boundary when cut."""
    try:
        with path.open("rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            fh.seek(max(0, size - TAIL_BYTES))
            data = fh.read()
    except OSError:
        return b""
    if size > TAIL_BYTES:
        data = data.partition(b"\n")[2]
    return data


def describe_exit(code: int | None) -> str:
    if code is not None and code < 0:
        with contextlib.suppress(ValueError):
            return f"exit code {code}, {signal.Signals(-code).name}"
    return f"exit code {code}"


# --- process groups ----------------------------------------------------------------------------


def signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def group_members(pgid: int) -> list[int]:
    """Pids in a process group (the leader may already be gone, orphans remain)."""
    members = []
    for pid in psutil.pids():
        with contextlib.suppress(OSError):
            if os.getpgid(pid) == pgid:
                members.append(pid)
    return members


def running(pid: int) -> bool:
    """Alive and not a zombie (zombies are dead; reaping orphans is init's job)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def wait_gone(pids: Sequence[int], deadline: float) -> None:
    remaining = list(pids)
    while remaining and time.monotonic() < deadline:
        remaining = [pid for pid in remaining if running(pid)]
        if remaining:
            time.sleep(POLL_INTERVAL_S)
