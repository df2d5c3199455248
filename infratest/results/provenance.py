"""Provenance for audits: which files, config, code and machine produced a results document."""

from __future__ import annotations

import hashlib
import platform
import shlex
import socket
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from infratest import __version__

GIT_TIMEOUT_S = 5.0


def sha256_of(path: Path) -> str | None:
    """Hex digest of a file, or None when it cannot be read."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def git_commit(folder: Path) -> str | None:
    """The commit checked out in `folder` (with '-dirty' for local changes), when git knows."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
        )
        if head.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def provenance(scenario_files: Iterable[str], config: str, root: Path) -> dict[str, Any]:
    """Everything an auditor needs to tell which inputs and code produced the results."""
    return {
        "scenario_files": {name: sha256_of(root / name) for name in sorted(set(scenario_files))},
        "config": config,
        "config_sha256": sha256_of(root / config) if config else None,
        "git_commit": git_commit(root),
        "host": socket.gethostname(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "infratest_version": __version__,
        "command": command_line(),
    }


def command_line() -> str:
    """The command that started this run, as a shell would read it."""
    if "pytest" in sys.argv[0]:
        return shlex.join(["pytest", *sys.argv[1:]])
    return shlex.join(sys.argv)
