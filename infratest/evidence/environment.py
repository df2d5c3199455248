"""`environment.json`: the software and machine that produced a bundle. Never environment
variables: they are where credentials live."""

from __future__ import annotations

import platform
import socket
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from infratest import __version__
from infratest.results.provenance import command_line, git_commit

DEPENDENCIES = (
    "pytest",
    "locust",
    "requests",
    "psutil",
    "boto3",
    "pyyaml",
    "pydantic",
    "numpy",
    "scipy",
    "statsmodels",
    "hdrhistogram",
    "matplotlib",
    "moto",
    "schemathesis",
    "hypothesis",
    "jsonschema",
)


def dependency_versions(names: tuple[str, ...] = DEPENDENCIES) -> dict[str, str | None]:
    """Installed version of each distribution; None when it is not installed."""
    found: dict[str, str | None] = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def environment(root: Path) -> dict[str, Any]:
    """Versions, machine, git state of `root` and the command line of this run."""
    commit = git_commit(root)
    return {
        "infratest_version": __version__,
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "python_executable": sys.executable,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "host": socket.gethostname(),
        "git_commit": commit.removesuffix("-dirty") if commit else None,
        "git_dirty": commit.endswith("-dirty") if commit else None,
        "command": command_line(),
        "dependencies": dependency_versions(),
    }
