"""Start a target server as a real subprocess on a free loopback port, and always reap it.

Tests use it for ``tests/support/behaviour_server.py`` (``script=``) and for the demo
(``module="infratest.demo"``). The child runs in its own session so ``stop()`` can signal
the whole process group, and its stderr goes to a temp file shown when startup fails.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO

import psutil

from infratest.hosts import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
BEHAVIOUR_SCRIPT = Path(__file__).with_name("behaviour_server.py")
HOST = "127.0.0.1"
STOP_GRACE_S = 3.0


class ServerStartError(RuntimeError):
    """The server exited or never became ready; the message carries its stderr."""


def http_status(url: str, path: str, timeout: float = 1.0) -> int | None:
    """Status of one GET, or None when nothing answers (refused, reset, timed out)."""
    host_port = url.removeprefix("http://")
    conn = http.client.HTTPConnection(host_port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def tcp_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class RunningServer:
    """A launched server; ``stop()`` (or leaving the ``with`` block) always reaps it."""

    def __init__(self, proc: subprocess.Popen, host: str, port: int, stderr: IO[bytes]) -> None:
        self.proc, self.host, self.port, self._stderr = proc, host, port, stderr
        self._stderr_final: str | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stderr_text(self) -> str:
        """Everything the server wrote to stderr so far (all of it, once stopped)."""
        if self._stderr_final is not None:
            return self._stderr_final
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def wait_ready(self, ready_path: str | None, timeout: float) -> None:
        """Poll until ready_path answers 200 (or the port accepts, if None), with a deadline."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerStartError(self._describe(f"exited with {self.proc.returncode}"))
            if ready_path is None and tcp_open(self.host, self.port):
                return
            if ready_path is not None and http_status(self.url, ready_path, 0.5) == 200:
                return
            time.sleep(0.02)  # poll interval between readiness probes, not a readiness guess
        raise ServerStartError(self._describe(f"not ready within {timeout:.1f} s"))

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Signal the process group, SIGKILL it after a grace period, reap; the exit code."""
        if self.proc.poll() is None:
            self._signal_group(sig)
            try:
                self.proc.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.proc.wait(timeout=STOP_GRACE_S)
        if self._stderr_final is None:
            self._stderr_final = self.stderr_text()
            self._stderr.close()
        return self.proc.returncode

    def _signal_group(self, sig: int) -> None:
        # Only called before the leader is reaped, so its pid (= the pgid) cannot be reused.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)

    def _describe(self, what: str) -> str:
        return f"server {self.proc.args!r} {what}; stderr:\n{self.stderr_text()}"

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_server(
    args: list[str],
    *,
    script: str | Path = BEHAVIOUR_SCRIPT,
    module: str | None = None,
    ready_path: str | None = "/healthz",
    timeout: float = 15.0,
    host: str = HOST,
) -> RunningServer:
    """Launch ``python script|-m module --port N --host H *args`` and wait until it is ready."""
    port = free_port(host)
    target = ["-m", module] if module else [str(script)]
    command = [sys.executable, *target, "--port", str(port), "--host", host, *args]
    env = {**os.environ, "PYTHONPATH": _pythonpath()}
    stderr = tempfile.TemporaryFile()  # noqa: SIM115 - RunningServer.stop() closes it
    proc = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        start_new_session=True,
    )
    server = RunningServer(proc, host, port, stderr)
    try:
        server.wait_ready(ready_path, timeout)
    except BaseException:
        server.stop()
        raise
    return server


def _pythonpath() -> str:
    """The repo first, so ``-m infratest.demo`` works without installing the package."""
    existing = os.environ.get("PYTHONPATH")
    return os.pathsep.join([str(REPO_ROOT), existing] if existing else [str(REPO_ROOT)])


def child_pids() -> set[int]:
    """Pids of every live or unreaped descendant of the test process."""
    return {child.pid for child in psutil.Process().children(recursive=True)}


def leftover_children(before: set[int], timeout: float = 2.0) -> set[int]:
    """Descendants not in ``before`` that are still there after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while (left := child_pids() - before) and time.monotonic() < deadline:
        time.sleep(0.02)
    return left


def launch(started: list[RunningServer], *args: str) -> RunningServer:
    """Start a behaviour server and register it with the `run` fixture's list."""
    server = start_server(list(args))
    started.append(server)
    return server
