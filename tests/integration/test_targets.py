"""Managed targets against real subprocesses and real loopback sockets.

Every child program below arms `signal.alarm` so that it dies on its own even if infratest
failed to stop it; the autouse fixture then fails the test that leaked it.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

import infratest
from infratest.hosts import HostNotAllowed
from infratest.targets import TargetError, TargetPool, TargetSpec
from infratest.targets.managed import ManagedProcess

REPO_ROOT = Path(infratest.__file__).resolve().parents[1]
LOOPBACK = ["127.0.0.1", "localhost", "::1"]
HTTP_SERVER = ("{python}", "-m", "http.server", "{port}", "--bind", "127.0.0.1")

# Answers every GET with the status in argv[2]; listens on argv[1].
STATUS_SERVER = """
import http.server, signal, sys
signal.alarm(60)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(int(sys.argv[2])); self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""

# Accepts TCP connections on argv[1]; with argv[2] == "ignore-term" it ignores SIGTERM.
TCP_SERVER = """
import signal, socket, sys, time
signal.alarm(60)
if sys.argv[2:] == ["ignore-term"]:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
server = socket.create_server(("127.0.0.1", int(sys.argv[1])))
print("listening", flush=True)
end = time.monotonic() + 60
while time.monotonic() < end:
    time.sleep(0.05)
"""

# Starts a SIGTERM-ignoring grandchild, prints its pid, then listens (and dies on SIGTERM).
PARENT_OF_GRANDCHILD = """
import signal, socket, subprocess, sys, time
signal.alarm(60)
code = ("import signal, time; signal.alarm(60); signal.signal(signal.SIGTERM, signal.SIG_IGN);"
        "print('grandchild up', flush=True); time.sleep(60)")
child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
child.stdout.readline()
print("grandchild", child.pid, flush=True)
server = socket.create_server(("127.0.0.1", int(sys.argv[1])))
end = time.monotonic() + 60
while time.monotonic() < end:
    time.sleep(0.05)
"""


def py(code: str, *args: str) -> tuple[str, ...]:
    return ("{python}", "-c", textwrap.dedent(code), *args)


def spec(launch: tuple[str, ...], **kw: object) -> TargetSpec:
    kw.setdefault("url", "http://127.0.0.1:{port}")
    kw.setdefault("ready_timeout_s", 10.0)
    kw.setdefault("stop_timeout_s", 2.0)
    return TargetSpec(name=str(kw.pop("name", "t")), launch=launch, **kw)  # type: ignore[arg-type]


def gone(pid: int) -> bool:
    """Dead: no such pid, or a zombie whose reaping is up to its (non-test) parent."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_until(predicate: object, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return bool(predicate())  # type: ignore[operator]


@pytest.fixture(autouse=True)
def no_leftover_children() -> Iterator[None]:
    """Each test must reap what it started; leftovers are killed and fail the test."""
    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    yield
    leftovers = [p for p in me.children(recursive=True) if p.pid not in before]
    for p in leftovers:
        try:
            p.kill()
            p.wait(timeout=5)
        except psutil.Error:
            pass
    assert not leftovers, f"leftover child processes: {leftovers}"


# --- start and readiness -----------------------------------------------------------------------


def test_ready_by_http_path_substitutes_port_in_url() -> None:
    with ManagedProcess(spec(HTTP_SERVER, ready="/")) as proc:
        assert proc.alive()
        assert proc.url == f"http://127.0.0.1:{proc.port}"
        with socket.create_connection(("127.0.0.1", proc.port), timeout=1):
            pass
    assert not proc.alive()


def test_ready_times_are_measured_from_launch() -> None:
    proc = ManagedProcess(spec(HTTP_SERVER, ready="/"))
    try:
        proc.start()
        times = proc.wait_ready()
    finally:
        proc.stop()
    assert 0 <= times.port_open_s <= times.ready_s < 10
    assert proc.launched_at > 0


def test_ready_by_tcp_is_the_default() -> None:
    with ManagedProcess(spec(py(TCP_SERVER, "{port}"))) as proc:
        assert proc.spec.ready_check == "tcp"
        assert proc.alive()


def test_explicit_port_and_env_placeholders() -> None:
    code = "import os; print('PORT_IS', os.environ['MY_PORT'], flush=True)\n" + TCP_SERVER
    chosen = socket.socket()
    chosen.bind(("127.0.0.1", 0))
    port = chosen.getsockname()[1]
    chosen.close()
    with ManagedProcess(spec(py(code, "{port}"), env={"MY_PORT": "{port}"}), port=port) as proc:
        assert proc.port == port
        assert f"PORT_IS {port}" in proc.output_tail()


def test_exit_before_ready_reports_code_and_output() -> None:
    code = "import sys; print('config file missing: /etc/model.yaml', flush=True); sys.exit(3)"
    proc = ManagedProcess(spec(py(code), ready="/healthz"))
    with pytest.raises(TargetError) as info:
        proc.__enter__()
    assert "exit" in info.value.reason and "3" in info.value.reason
    assert "config file missing" in info.value.output_tail
    assert "config file missing" in proc.output_tail()  # still readable after stop
    assert not proc.alive()


def test_http_503_is_not_ready_within_timeout() -> None:
    started = time.monotonic()
    with (
        pytest.raises(TargetError) as info,
        ManagedProcess(
            spec(py(STATUS_SERVER, "{port}", "503"), ready="/healthz", ready_timeout_s=1.5)
        ),
    ):
        pass
    assert time.monotonic() - started < 3.0
    assert "not ready within 1.5 s" in info.value.reason
    assert "HTTP 503" in info.value.reason


def test_never_listening_is_not_ready_within_timeout() -> None:
    code = "import signal, time; signal.alarm(60); print('warming up', flush=True); time.sleep(60)"
    started = time.monotonic()
    with pytest.raises(TargetError) as info, ManagedProcess(spec(py(code), ready_timeout_s=1.5)):
        pass
    assert time.monotonic() - started < 3.0
    assert "connection refused" in info.value.reason
    assert "warming up" in info.value.output_tail


def test_command_not_found_names_the_command() -> None:
    proc = ManagedProcess(spec(("infratest-no-such-command-xyz", "--port", "{port}")))
    with pytest.raises(TargetError) as info:
        proc.start()
    assert "infratest-no-such-command-xyz" in str(info.value)
    assert "not found" in info.value.reason
    assert proc.stop() is None  # nothing to stop, still safe


def test_permission_denied_names_the_command(tmp_path: Path) -> None:
    script = tmp_path / "server.sh"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(stat.S_IRUSR | stat.S_IWUSR)
    if os.access(script, os.X_OK):  # root may execute anything
        pytest.skip("running with privileges that ignore the exec bit")
    with pytest.raises(TargetError) as info:
        ManagedProcess(spec((str(script),))).start()
    assert "permission denied" in info.value.reason and str(script) in info.value.reason


# --- stop --------------------------------------------------------------------------------------


def test_stop_sigkills_a_process_that_ignores_sigterm() -> None:
    proc = ManagedProcess(spec(py(TCP_SERVER, "{port}", "ignore-term"), stop_timeout_s=0.5))
    with proc:
        started = time.monotonic()
        code = proc.stop()
        took = time.monotonic() - started
    assert code == -signal.SIGKILL
    assert 0.5 <= took < 3.0
    assert proc.stop() == code  # idempotent
    assert not psutil.pid_exists(proc.pid)


def test_stop_kills_the_whole_process_group() -> None:
    proc = ManagedProcess(spec(py(PARENT_OF_GRANDCHILD, "{port}"), stop_timeout_s=0.5))
    with proc:
        line = next(ln for ln in proc.output_tail().splitlines() if ln.startswith("grandchild "))
        grandchild = int(line.split()[1])
        assert not gone(grandchild)
        assert proc.stop() == -signal.SIGTERM  # the leader obeys SIGTERM ...
    assert wait_until(lambda: gone(grandchild), timeout=3)  # ... the orphan got SIGKILL


def test_stop_is_quick_for_a_well_behaved_process() -> None:
    with ManagedProcess(spec(HTTP_SERVER, ready="/", stop_timeout_s=5)) as proc:
        started = time.monotonic()
        proc.stop()
        assert time.monotonic() - started < 1.5


def test_output_tail_redacts_secret_env_values() -> None:
    code = """
    import os
    print("token is", os.environ["HF_TOKEN"], "and key", os.environ["MY_API_KEY"], flush=True)
    print("region is", os.environ["REGION"], flush=True)
    """ + TCP_SERVER.replace("\n", "\n    ")
    env = {"HF_TOKEN": "hf_abcdef123456", "MY_API_KEY": "sk-secret-987", "REGION": "eu-west-1"}
    with ManagedProcess(spec(py(code, "{port}"), env=env)) as proc:
        live_tail = proc.output_tail()
    for tail in (live_tail, proc.output_tail()):
        assert "hf_abcdef123456" not in tail and "sk-secret-987" not in tail
        assert "token is *** and key ***" in tail
        assert "region is eu-west-1" in tail


def test_secrets_are_redacted_from_errors_too() -> None:
    code = "import os, sys; print('password=' + os.environ['DB_PASSWORD'], flush=True); sys.exit(1)"
    secret_env = {"DB_PASSWORD": "hunter2hunter2"}
    with pytest.raises(TargetError) as info, ManagedProcess(spec(py(code), env=secret_env)):
        pass
    assert "hunter2hunter2" not in str(info.value)
    assert "password=***" in str(info.value)


def test_check_alive_reports_a_dead_target() -> None:
    pool = TargetPool({"t": spec(py(TCP_SERVER, "{port}"))}, LOOPBACK)
    with pool:
        target = pool.get("t")
        target.check_alive()
        assert target.process is not None
        os.kill(target.process.pid, signal.SIGKILL)
        assert wait_until(lambda: not target.process.alive())  # type: ignore[union-attr]
        with pytest.raises(TargetError, match=r"died \(exit code -9"):
            target.check_alive()


# --- pool --------------------------------------------------------------------------------------


def counting_server(counter: Path) -> tuple[str, ...]:
    code = f"open({str(counter)!r}, 'a').write('x')\n" + TCP_SERVER
    return py(code, "{port}")


def test_pool_starts_a_target_once_and_shares_it(tmp_path: Path) -> None:
    counter = tmp_path / "launches"
    with TargetPool({"demo": spec(counting_server(counter))}, LOOPBACK) as pool:
        first, second = pool.get("demo"), pool.get("demo")
        assert first is second
        assert first.url.startswith("http://127.0.0.1:") and "{port}" not in first.url
    assert counter.read_text() == "x"
    assert first.process is not None and not first.process.alive()


def test_pool_caches_a_start_failure(tmp_path: Path) -> None:
    counter = tmp_path / "launches"
    code = f"import sys; open({str(counter)!r}, 'a').write('x'); print('boom'); sys.exit(3)"
    with TargetPool({"broken": spec(py(code))}, LOOPBACK) as pool:
        with pytest.raises(TargetError, match="exit"):
            pool.get("broken")
        started = time.monotonic()
        for _ in range(5):
            with pytest.raises(TargetError, match="exit") as info:
                pool.get("broken")
        assert time.monotonic() - started < 0.5
        assert "boom" in info.value.output_tail
    assert counter.read_text() == "x"


def test_pool_close_reaps_shared_and_fresh_instances() -> None:
    pool = TargetPool({"demo": spec(HTTP_SERVER, ready="/")}, LOOPBACK)
    try:
        shared = pool.get("demo").process
        fresh = [pool.launch_fresh("demo") for _ in range(2)]
        times = fresh[0].wait_ready()
        assert times.ready_s >= times.port_open_s >= 0
        assert shared is not None
        assert len({p.pid for p in [shared, *fresh]}) == 3
        assert len({p.port for p in [shared, *fresh]}) == 3
    finally:
        pool.close()
    pool.close()  # idempotent
    for proc in [shared, *fresh]:
        assert not proc.alive() and not psutil.pid_exists(proc.pid)
    with pytest.raises(RuntimeError, match="closed"):
        pool.get("demo")


def test_pool_unknown_target_lists_known_ones() -> None:
    with TargetPool({"demo": spec(HTTP_SERVER)}, LOOPBACK) as pool, pytest.raises(KeyError) as info:
        pool.get("dmeo")
    assert "demo" in str(info.value)


def test_remote_target_is_never_started() -> None:
    remote = TargetSpec("staging-api", "https://api.staging.example.com")
    with TargetPool({"staging-api": remote}, ["api.staging.example.com"]) as pool:
        target = pool.get("staging-api")
    assert target.process is None and target.url == "https://api.staging.example.com"
    target.check_alive()  # nothing to check for a remote target


def test_disallowed_remote_host_is_refused_before_connecting() -> None:
    with socket.create_server(("127.0.0.2", 0)) as listener:
        port = listener.getsockname()[1]
        remote = TargetSpec("other", f"http://127.0.0.2:{port}")
        with TargetPool({"other": remote}, LOOPBACK) as pool:
            with pytest.raises(HostNotAllowed, match=r"127\.0\.0\.2"):
                pool.get("other")
            with pytest.raises(HostNotAllowed):
                pool.get("other")
        readable, _, _ = select.select([listener], [], [], 0.2)
        assert not readable, "a connection reached the disallowed host"


def test_disallowed_managed_target_is_not_launched(tmp_path: Path) -> None:
    counter = tmp_path / "launches"
    managed = spec(counting_server(counter), url="http://10.1.2.3:{port}")
    with TargetPool({"m": managed}, LOOPBACK) as pool, pytest.raises(HostNotAllowed):
        pool.get("m")
    assert not counter.exists()


# --- interrupts --------------------------------------------------------------------------------

INTERRUPTED_SCRIPT = """
import sys, time
from infratest.targets import TargetPool, TargetSpec
from infratest.targets.signals import install_signal_handlers

mode = sys.argv[1]
if mode == "handlers":
    install_signal_handlers()
spec = TargetSpec("srv", "http://127.0.0.1:{port}",
                  launch=("{python}", "-m", "http.server", "{port}", "--bind", "127.0.0.1"),
                  ready="/")
pool = TargetPool({"srv": spec}, ["127.0.0.1"])
def idle():
    print(pool.get("srv").process.pid, flush=True)
    end = time.monotonic() + 30
    while time.monotonic() < end:
        time.sleep(0.02)
if mode == "atexit":
    idle()  # no finally: only the atexit safety net stops the target
else:
    try:
        idle()
    finally:
        pool.close()
"""


def run_and_interrupt(mode: str, signum: int) -> tuple[int, int]:
    """Start the script, wait for its target's pid, send signum; return (pid, exit code)."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    script = subprocess.Popen(
        [sys.executable, "-c", INTERRUPTED_SCRIPT, mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    try:
        readable, _, _ = select.select([script.stdout], [], [], 15)
        assert readable, "script did not report its target"
        pid = int(script.stdout.readline())  # type: ignore[union-attr]
        assert psutil.pid_exists(pid)
        script.send_signal(signum)
        return pid, script.wait(timeout=15)
    finally:
        if script.poll() is None:
            script.kill()
            script.wait(timeout=5)
        script.stdout.close()  # type: ignore[union-attr]


@pytest.mark.parametrize("mode", ["finally", "atexit"])
def test_ctrl_c_stops_the_target(mode: str) -> None:
    pid, code = run_and_interrupt(mode, signal.SIGINT)
    assert code != 0
    assert not psutil.pid_exists(pid)


def test_sigterm_stops_the_target_then_terminates() -> None:
    pid, code = run_and_interrupt("handlers", signal.SIGTERM)
    assert code == -signal.SIGTERM  # the default behaviour still happens afterwards
    assert not psutil.pid_exists(pid)
