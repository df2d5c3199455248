"""`infratest worker`: lend this machine's CPU to a master elsewhere, run after run.

The Locust worker runs in a child process (Locust monkey-patches whatever imports it, and
this command never does). When a run ends the child exits and a new one reconnects for the
next run, until Ctrl-C; every child is reaped. The child refuses plans that this machine's
config would not allow (its `allow.hosts` and `limits`).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from infratest.spec.config import Config
from infratest.spec.discovery import UsageError
from infratest.workloads.child_process import child_env, signal_child_group, terminate
from infratest.workloads.worker_policy import WorkerPolicy

MASTER_PATTERN = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9_.\-]*):([0-9]{1,5})$")
RETRY_PAUSE_S = 1.0  # after a child that ended in error, before the next one


def master_address(text: str) -> str:
    """A `--master HOST:PORT` value, checked (a usage error otherwise)."""
    found = MASTER_PATTERN.match(text.strip())
    if not found or not 1 <= int(found.group(2)) <= 65535:
        raise UsageError(f"--master must be HOST:PORT such as 10.0.0.5:5557, got {text!r}")
    return text.strip()


def _spawn_worker(work: Path, master: str, name: str) -> subprocess.Popen[str]:
    args = ["-m", "infratest.workloads.locust_worker", "--master", master, "--name", name]
    return subprocess.Popen(
        [sys.executable, *args, "--policy", "policy.json"],
        cwd=work,
        env=child_env(),
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )


def serve(master: str, config: Config, runs: int | None = None) -> int:
    """Join `master`'s runs until interrupted (or for `runs` runs); returns the exit code."""
    name = f"{socket.gethostname()}-{os.getpid()}"
    pause = threading.Event()  # never set: a bounded, interruptible pause between children
    done = 0
    with tempfile.TemporaryDirectory(prefix="infratest-worker-") as tmp:
        work = Path(tmp)
        (work / "policy.json").write_text(WorkerPolicy.from_config(config).to_json())
        print(f"infratest worker {name}: joining {master} (Ctrl-C to stop)", file=sys.stderr)
        while runs is None or done < runs:
            proc = _spawn_worker(work, master, name)
            try:
                code = proc.wait()
            except BaseException:  # Ctrl-C included: never leave the worker behind
                terminate(proc)
                raise
            finally:
                signal_child_group(proc, signal.SIGKILL)
            done += 1
            print(f"infratest worker {name}: run ended (exit code {code})", file=sys.stderr)
            if code != 0:
                pause.wait(RETRY_PAUSE_S)
    return 0
