"""Targets: the systems a scenario talks to, either remote URLs or processes infratest manages.

A managed target is launched in its own process group with its output in a temp file, polled
until ready, and always stopped again (pool close, atexit, SIGTERM handler), so a test run never
leaves servers behind. Remote targets are never started; they only pass the host allow-list.
"""

from __future__ import annotations

import atexit
import contextlib
import http.client
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any
from urllib.parse import urlsplit

from infratest.hosts import HostNotAllowed, check_allowed, free_port, host_of
from infratest.processes import (
    POLL_INTERVAL_S,
    TAIL_BYTES,
    describe_exit,
    group_members,
    read_tail_bytes,
    redact,
    secret_values,
    signal_group,
    wait_gone,
)

PROBE_TIMEOUT_S = 1.0
KILL_WAIT_S = 5.0


class TargetError(Exception):
    """A managed target could not start, did not become ready, or died; carries its output."""

    def __init__(self, reason: str, output_tail: str = "", target: str | None = None) -> None:
        super().__init__(reason, output_tail, target)
        self.reason = reason
        self.output_tail = output_tail
        self.target = target

    def __str__(self) -> str:
        head = f"target {self.target!r}: {self.reason}" if self.target else self.reason
        if not self.output_tail.strip():
            return head
        return f"{head}\n--- output tail ---\n{self.output_tail}"


# --- spec --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetSpec:
    """Plain values for one target, as the config states them (placeholders unformatted)."""

    name: str
    url: str
    launch: tuple[str, ...] | None = None
    ready: str | None = None  # None -> "tcp" for managed targets
    ready_timeout_s: float = 60.0
    stop_timeout_s: float = 5.0
    env: Mapping[str, str] = field(default_factory=dict, hash=False)
    cwd: str | None = None

    def __post_init__(self) -> None:
        if self.launch is not None and not isinstance(self.launch, tuple):
            object.__setattr__(self, "launch", tuple(self.launch))

    @property
    def managed(self) -> bool:
        """Managed targets are started by infratest; remote ones only get traffic."""
        return self.launch is not None

    @property
    def ready_check(self) -> str:
        """The check to poll: an HTTP path, or "tcp" (the default for managed targets)."""
        return self.ready or "tcp"


@dataclass(frozen=True)
class ReadyTimes:
    """Seconds from launch until the port accepted connections and until ready."""

    port_open_s: float
    ready_s: float


# --- safety net --------------------------------------------------------------------------------

# Plain dict, no lock: stop_all() runs from signal handlers, where a held lock would deadlock.
_LIVE: dict[int, ManagedProcess] = {}


def stop_all() -> None:
    """Stop every live managed process; used by atexit and the SIGTERM handler."""
    for proc in list(_LIVE.values()):
        with contextlib.suppress(Exception):
            proc.stop()


atexit.register(stop_all)


def install_signal_handlers(signals: Sequence[int] = (signal.SIGTERM,)) -> None:
    """On SIGTERM stop all managed processes first, then behave as before (default: die)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in signals:
        previous = signal.getsignal(signum)
        if previous == signal.SIG_IGN or getattr(previous, "_infratest", False):
            continue
        signal.signal(signum, _make_handler(previous))


def _make_handler(previous: Any) -> Any:
    def handler(signum: int, frame: FrameType | None) -> None:
        stop_all()
        if callable(previous):
            previous(signum, frame)
            return
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    handler._infratest = True  # type: ignore[attr-defined]
    return handler


# --- readiness ---------------------------------------------------------------------------------


def _tcp_open(host: str, port: int, timeout: float) -> str | None:
    """None when the port accepts a connection, else a short description of why not."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except ConnectionRefusedError:
        return "connection refused"
    except TimeoutError:
        return "connect timed out"
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"


def _http_status(scheme: str, host: str, port: int, path: str, timeout: float) -> str | None:
    """None on HTTP 200, else "HTTP 503" or the connection error."""
    if scheme == "https":
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # loopback process we launched ourselves
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            host, port, timeout=timeout, context=ctx
        )
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read(TAIL_BYTES)
        return None if response.status == 200 else f"HTTP {response.status}"
    except ConnectionRefusedError:
        return "connection refused"
    except TimeoutError:
        return "HTTP timed out"
    except (OSError, http.client.HTTPException) as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        conn.close()


# --- managed process ---------------------------------------------------------------------------


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
        _LIVE[id(self)] = self
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
        return _tcp_open(host_of(self.url), self.port, timeout)

    def _probe_ready(self, timeout: float) -> str | None:
        check = self.spec.ready_check
        if check.lower() == "tcp":
            return None
        assert self.port is not None
        path = check if check.startswith("/") else "/" + check
        scheme = urlsplit(self.url).scheme or "http"
        return _http_status(scheme, host_of(self.url), self.port, path, timeout)

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
        return any(other is not self and other.pid == self.pid for other in list(_LIVE.values()))

    def _finish(self) -> None:
        self._stopped = True
        _LIVE.pop(id(self), None)
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


# --- targets and pool --------------------------------------------------------------------------


@dataclass
class Target:
    """What workloads talk to: a resolved URL, and for managed targets the running process."""

    name: str
    url: str
    spec: TargetSpec
    process: ManagedProcess | None = None

    def check_alive(self) -> None:
        """Raise TargetError when a managed target has died since it became ready."""
        if self.process is None or self.process.alive():
            return
        reason = f"died ({describe_exit(self.process.returncode)})"
        raise TargetError(reason, self.process.output_tail(), target=self.name)


class TargetPool:
    """Starts each managed target once per session, shares it, and stops them all at the end."""

    def __init__(self, specs: Mapping[str, TargetSpec], allow_hosts: Sequence[str]) -> None:
        self.specs = dict(specs)
        self.allow_hosts = tuple(allow_hosts)
        self._targets: dict[str, Target] = {}
        self._errors: dict[str, Exception] = {}
        self._processes: list[ManagedProcess] = []
        self._lock = threading.Lock()
        self._closed = False

    def get(self, name: str) -> Target:
        """The shared target; a failed start is remembered and re-raised, never retried."""
        with self._lock:
            if self._closed:
                raise RuntimeError("target pool is closed")
            if name in self._targets:
                return self._targets[name]
            if name in self._errors:
                raise self._errors[name].with_traceback(None)
            try:
                target = self._resolve(name)
            except (TargetError, HostNotAllowed) as exc:
                self._errors[name] = exc
                raise
            self._targets[name] = target
            return target

    def _resolve(self, name: str) -> Target:
        spec = self._spec(name)
        check_allowed(spec.url, self.allow_hosts)
        if not spec.managed:
            return Target(name, spec.url, spec)
        proc = self._register(ManagedProcess(spec))
        try:
            proc.start()
            proc.wait_ready()
        except TargetError:
            proc.stop()
            raise
        return Target(name, proc.url, spec, proc)

    def launch_fresh(self, name: str) -> ManagedProcess:
        """A new, separate, started (not yet ready) instance; call wait_ready() to time it."""
        with self._lock:
            spec = self._spec(name)
            if not spec.managed:
                raise TargetError("remote target cannot be launched", target=name)
            check_allowed(spec.url, self.allow_hosts)
            proc = self._register(ManagedProcess(spec))
        proc.start()
        return proc

    def _spec(self, name: str) -> TargetSpec:
        if self._closed:
            raise RuntimeError("target pool is closed")
        if name not in self.specs:
            known = ", ".join(sorted(self.specs)) or "(none)"
            raise KeyError(f"unknown target {name!r}; known targets: {known}")
        return self.specs[name]

    def _register(self, proc: ManagedProcess) -> ManagedProcess:
        self._processes.append(proc)
        return proc

    def close(self) -> None:
        """Stop every process this pool launched; idempotent and lock-free (runs in finally)."""
        self._closed = True
        for proc in reversed(list(self._processes)):
            with contextlib.suppress(Exception):
                proc.stop()

    def __enter__(self) -> TargetPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
