"""One launched instance of a managed target: its own process group, output captured to a temp
file, polled until ready, and always reaped (also via the safety net in `signals`)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

from infratest.hosts import free_port, host_of
from infratest.processes import (
    POLL_INTERVAL_S,
    describe_exit,
    group_members,
    read_tail_bytes,
    redact,
    secret_values,
    signal_group,
    wait_gone,
)
from infratest.targets.readiness import (
    PROBE_TIMEOUT_S,
    ReadyTimes,
    ready_check_failure,
    tcp_open,
)
from infratest.targets.signals import forget_live, live_processes, register_live
from infratest.targets.spec import TargetError, TargetSpec

KILL_WAIT_S = 5.0


class ManagedProcess:
    """One launched instance: own process group, output captured to a temp file, always reaped."""

    def __init__(self, spec: TargetSpec, port: int | None = None) -> None:
        if spec.launch is None:
            raise ValueError(f"target {spec.name!r} has no launch command; it is remote")
        self.spec = spec
        self.port = port if port is not None else _port_from_url(spec.url)
        self.url = spec.url
        self.pid = 0
        self.launched_at = 0.0
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: Path | None = None
        self._tail_cache = b""
        self._secrets: tuple[str, ...] = ()
        self._stopped = False

    # -- start ----------------------------------------------------------------------------------

    def start(self) -> None:
        """Launch the command in a new session so the whole group can be signalled later."""
        if self._proc is not None:
            raise RuntimeError(f"target {self.spec.name!r} already started")
        host = host_of(self.spec.url)
        if self.port is None:
            self.port = free_port(host)
        args = [self._format(arg) for arg in self.spec.launch or ()]
        env = {**os.environ, **{k: self._format(v) for k, v in self.spec.env.items()}}
        self.url = self._format(self.spec.url)
        self._secrets = secret_values(env)
        self._log = self._new_log_file()
        self._popen(args, env)

    def _format(self, text: str) -> str:
        # str.replace, not str.format: launch args often hold code with literal braces.
        return text.replace("{port}", str(self.port)).replace("{python}", sys.executable)

    def _new_log_file(self) -> Path:
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", self.spec.name)
        fd, name = tempfile.mkstemp(prefix=f"infratest-{safe}-", suffix=".log")
        os.close(fd)
        return Path(name)

    def _popen(self, args: list[str], env: dict[str, str]) -> None:
        assert self._log is not None
        command = args[0] if args else "<empty>"
        try:
            with self._log.open("wb") as out:
                self.launched_at = time.monotonic()
                self._proc = subprocess.Popen(
                    args,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=env,
                    cwd=self.spec.cwd,
                    start_new_session=True,
                )
        except (OSError, ValueError, IndexError) as exc:
            self._stopped = True
            self._discard_log()
            raise TargetError(_launch_reason(command, exc), target=self.spec.name) from None
        register_live(self)
        self.pid = self._proc.pid

    # -- readiness ------------------------------------------------------------------------------

    def wait_ready(self) -> ReadyTimes:
        """Poll until the port is open and (for a path) GET returns 200, within ready_timeout."""
        proc = self._require_started()
        deadline = self.launched_at + self.spec.ready_timeout_s
        port_open_s: float | None = None
        last = "no attempt yet"
        while True:
            self._raise_if_exited(proc)
            timeout = max(0.05, min(PROBE_TIMEOUT_S, deadline - time.monotonic()))
            if port_open_s is None:
                failure = self._probe_tcp(timeout)
                if failure is None:
                    port_open_s = time.monotonic() - self.launched_at
                last = failure or last
            if port_open_s is not None:
                failure = self._probe_ready(timeout)
                if failure is None:
                    return ReadyTimes(port_open_s, time.monotonic() - self.launched_at)
                last = failure
            self._raise_if_late(deadline, last)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=POLL_INTERVAL_S)  # the pause doubles as exit detection

    def _probe_tcp(self, timeout: float) -> str | None:
        assert self.port is not None
        return tcp_open(host_of(self.url), self.port, timeout)

    def _probe_ready(self, timeout: float) -> str | None:
        assert self.port is not None
        return ready_check_failure(self.spec.ready_check, self.url, self.port, timeout)

    def _raise_if_exited(self, proc: subprocess.Popen[bytes]) -> None:
        code = proc.poll()
        if code is not None:
            reason = f"exited with {describe_exit(code)} before becoming ready"
            raise TargetError(reason, self.output_tail(), target=self.spec.name)

    def _raise_if_late(self, deadline: float, last: str) -> None:
        if time.monotonic() >= deadline:
            reason = f"not ready within {self.spec.ready_timeout_s:g} s (last: {last})"
            raise TargetError(reason, self.output_tail(), target=self.spec.name)

    def _require_started(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            raise RuntimeError(f"target {self.spec.name!r} was not started")
        return self._proc

    # -- state ----------------------------------------------------------------------------------

    def alive(self) -> bool:
        """True while the launched process has not exited."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self._proc is None else self._proc.poll()

    def output_tail(self, lines: int = 30) -> str:
        """Last lines of stdout+stderr with credential values replaced by ***; works after stop."""
        data = self._tail_cache if self._log is None else read_tail_bytes(self._log)
        text = redact(data.decode("utf-8", errors="replace"), self._secrets)
        return "\n".join(text.splitlines()[-lines:]) if lines > 0 else ""

    def output_lines_mentioning(self, ids: set[str]) -> dict[str, list[str]]:
        """Per id, the first output lines that mention it (credentials redacted); the output
        is only kept while the process runs."""
        from infratest.trace_evidence import lines_mentioning

        return lines_mentioning(self._log, ids, self._secrets)

    # -- stop -----------------------------------------------------------------------------------

    def stop(self) -> int | None:
        """SIGTERM the group, SIGKILL it after stop_timeout_s, reap; safe to call repeatedly."""
        proc = self._proc
        if proc is None or self._stopped:
            return self.returncode
        if proc.poll() is not None and self._pid_recycled():
            self._finish()  # never signal a group that now belongs to another target
            return proc.returncode
        deadline = time.monotonic() + self.spec.stop_timeout_s
        members = group_members(proc.pid)
        signal_group(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        wait_gone(members, deadline)
        signal_group(proc.pid, signal.SIGKILL)  # stragglers: ignored SIGTERM or forked late
        try:
            code = proc.wait(timeout=KILL_WAIT_S)
        except subprocess.TimeoutExpired:
            return None  # stuck in the kernel; stays registered so atexit tries again
        self._finish()
        return code

    def _pid_recycled(self) -> bool:
        return any(other is not self and other.pid == self.pid for other in live_processes())

    def _finish(self) -> None:
        self._stopped = True
        forget_live(self)
        if self._log is not None:
            self._tail_cache = read_tail_bytes(self._log)
            self._discard_log()

    def _discard_log(self) -> None:
        if self._log is not None:
            with contextlib.suppress(OSError):
                self._log.unlink()
            self._log = None

    # -- context manager ------------------------------------------------------------------------

    def __enter__(self) -> ManagedProcess:
        try:
            self.start()
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "alive" if self.alive() else f"code={self.returncode}"
        return f"ManagedProcess({self.spec.name!r}, pid={self.pid}, url={self.url!r}, {state})"


def _port_from_url(url: str) -> int | None:
    """An explicit port in the URL pins the port; "{port}" (or none) means pick a free one."""
    if "{port}" in url:
        return None
    try:
        return urlsplit(url if "://" in url else "//" + url).port
    except ValueError:
        return None


def _launch_reason(command: str, exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError):
        missing = exc.filename if exc.filename else command
        return f"cannot launch: command or directory not found: {missing}"
    if isinstance(exc, PermissionError):
        return f"cannot launch: permission denied: {command}"
    if isinstance(exc, IndexError):
        return "cannot launch: empty launch command"
    return f"cannot launch {command}: {type(exc).__name__}: {exc}"
