"""Distributed load runs: a Locust master with local and remote workers, all real processes
on loopback. Each run is short; what is asserted is known in advance (a fixed service time,
how many workers there are, which one was killed or refused)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from infratest.execution import AssumptionResult
from infratest.hosts import free_port
from infratest.spec.config import Config
from infratest.verdict import Verdict
from infratest.workloads.fleet import FleetSettings
from infratest.workloads.fleet_runner import run_fleet
from infratest.workloads.load_plan import LoadPlan, RequestSpec
from infratest.workloads.load_record import LoadRecord
from infratest.workloads.load_runner import StopRequest
from infratest.workloads.worker_policy import WorkerPolicy
from tests.support.assumptions import behaviour_config, run_assumption
from tests.support.servers import RunningServer, start_server

pytestmark = [pytest.mark.load, pytest.mark.usefixtures("no_leftover_processes")]

ROOT = Path(__file__).resolve().parents[2]
LOAD = "users: 8, duration: 3s, fail_fast: false"
FOUND_WORKER_S = 30.0  # bound on waiting for a worker process to start sending


def _run(tmp_path: Path, config: Config, load: str, expect: str) -> AssumptionResult:
    assumption = f"load: {{{load}, requests: [GET /work]}}\nexpect: {{{expect}}}\n"
    return run_assumption(tmp_path, config, assumption)


def _workers(result: AssumptionResult) -> dict[str, int]:
    rows = result.measurements.series["load"]["workers"]
    return {row["worker"]: row["requests"] for row in rows}


@pytest.fixture
def server() -> Iterator[RunningServer]:
    """A target with a fixed 50 ms service time, shared by the runs of one test."""
    with start_server(["--delay", "0.05"]) as running:
        yield running


def _fleet_config(tmp_path: Path, url: str, port: int, wait: str = "20s") -> Config:
    master = {"bind": f"127.0.0.1:{port}", "expect_remote": 1, "wait": wait}
    return behaviour_config(tmp_path, url=url, extra={"generators": {"master": master}})


@pytest.fixture
def remote_worker(tmp_path: Path) -> Iterator[callable]:
    """Start `infratest worker --master ...` processes (one run each); all reaped after."""
    started: list[subprocess.Popen[bytes]] = []

    def start(port: int, hosts: list[str]) -> subprocess.Popen[bytes]:
        config = tmp_path / f"worker-{len(started)}.yaml"
        config.write_text(f'{{"allow": {{"hosts": {hosts!r}}}}}'.replace("'", '"'))
        code = "import sys; from infratest.cli import main; sys.exit(main())"
        args = ["worker", "--master", f"127.0.0.1:{port}", "--config", str(config), "--runs", "1"]
        proc = subprocess.Popen(
            [sys.executable, "-c", code, *args],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdin=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        if proc.stderr is not None:
            proc.stderr.close()


def test_two_workers_measure_what_one_process_does(tmp_path: Path, server: RunningServer) -> None:
    config = behaviour_config(tmp_path, url=server.url)
    expect = "latency.p50: < 1s"
    single = _run(tmp_path, config, LOAD, expect)
    split = _run(tmp_path, config, LOAD + ", workers: 2", expect)
    p50_single = single.measurements.values["latency.p50"].value
    p50_split = split.measurements.values["latency.p50"].value
    assert abs(p50_split - p50_single) <= 0.002, (p50_single, p50_split)
    per_worker = _workers(split)
    assert sorted(per_worker) == ["local-1", "local-2"]
    assert all(n > 0 for n in per_worker.values())
    requests = split.measurements.series["load"]["requests"]
    assert sum(per_worker.values()) == requests["ok"] + requests["failed"]
    assert split.outcome.verdict == Verdict.PASS, split.outcome.reason


def test_a_rate_is_split_over_two_workers(tmp_path: Path, server: RunningServer) -> None:
    # 100/s evenly spaced over 3 s, half from each worker (one scheduler user each, its
    # own share of the schedule): together they send what one generator would.
    config = behaviour_config(tmp_path, url=server.url)
    load = "rate: 100/s, arrivals: uniform, duration: 3s, fail_fast: false, workers: 2"
    result = _run(tmp_path, config, load, "latency.p50: < 1s")
    per_worker = _workers(result)
    assert sorted(per_worker) == ["local-1", "local-2"]
    assert all(120 <= n <= 180 for n in per_worker.values()), per_worker
    arrivals = result.measurements.series["load"]["arrivals"]
    assert arrivals["offered"] >= 0.99, arrivals
    rate = result.measurements.values["requests.rate"].value
    assert 98 <= rate <= 102, rate
    assert result.outcome.verdict == Verdict.PASS, result.outcome.reason


def _fleet_children() -> list[psutil.Process]:
    """This test's Locust master and worker processes (children of this process now)."""
    found = []
    for proc in psutil.Process().children(recursive=True):
        try:
            command = " ".join(proc.cmdline())
        except psutil.Error:
            continue
        if "locust_master" in command or "locust_worker" in command:
            found.append(proc)
    return found


@contextlib.contextmanager
def _watched_fleet() -> Iterator[list[psutil.Process]]:
    """Every master and worker process this test starts, seen by polling while it runs, so
    that afterwards each can be checked gone (an orphan is no longer our child, but its
    pid is still known here). Other sessions' Locust processes on the machine are not ours."""
    seen: dict[int, psutil.Process] = {}
    done = threading.Event()

    def poll() -> None:
        while not done.wait(0.1):  # bounded: `done` is set when the block ends
            for proc in _fleet_children():
                seen.setdefault(proc.pid, proc)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    found: list[psutil.Process] = []
    try:
        yield found
    finally:
        done.set()
        watcher.join(5)
        found.extend(seen.values())


def _still_running(procs: list[psutil.Process]) -> list[psutil.Process]:
    alive = []
    for proc in procs:
        try:
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(proc)
        except psutil.Error:
            continue
    return alive


def _kill_worker_when_sending(name: str, server_port: int, killed: list[int]) -> None:
    """SIGKILL the named local worker once it has a connection to the target open."""
    deadline = time.monotonic() + FOUND_WORKER_S
    me = psutil.Process()
    while time.monotonic() < deadline and not killed:
        for proc in me.children(recursive=True):
            try:
                cmdline = proc.cmdline()
                if "locust_worker" not in " ".join(cmdline) or name not in cmdline:
                    continue
                ports = {c.raddr.port for c in proc.net_connections("tcp") if c.raddr}
            except psutil.Error:
                continue
            if server_port in ports:
                proc.send_signal(signal.SIGKILL)
                killed.append(proc.pid)
                return
        threading.Event().wait(0.05)  # polling a condition, bounded by the deadline


def test_a_killed_worker_is_named_and_the_run_still_ends(
    tmp_path: Path, server: RunningServer
) -> None:
    config = behaviour_config(tmp_path, url=server.url)
    killed: list[int] = []
    watching = threading.Thread(
        target=_kill_worker_when_sending, args=("local-2", server.port, killed), daemon=True
    )
    began = time.monotonic()
    watching.start()
    with _watched_fleet() as started:
        result = _run(
            tmp_path,
            config,
            "users: 8, duration: 8s, fail_fast: false, workers: 2",
            "latency.p50: < 1s",
        )
    watching.join(5)
    assert killed, "the worker was never seen sending"
    assert time.monotonic() - began < 40
    assert result.outcome.verdict in (Verdict.INCONCLUSIVE, Verdict.ERROR)
    assert "local-2" in result.outcome.reason and "lost" in result.outcome.reason
    assert _workers(result)["local-1"] > 0
    assert len(started) >= 3 and not _still_running(started)


def test_a_remote_worker_joins_and_its_requests_count(
    tmp_path: Path, server: RunningServer, remote_worker
) -> None:
    port = free_port()
    worker = remote_worker(port, ["127.0.0.1"])
    result = _run(tmp_path, _fleet_config(tmp_path, server.url, port), LOAD, "latency.p50: < 1s")
    per_worker = _workers(result)
    remote = [name for name in per_worker if not name.startswith("local-")]
    assert len(per_worker) == 2 and len(remote) == 1, per_worker
    assert per_worker[remote[0]] > 0 and per_worker["local-1"] > 0
    assert result.outcome.verdict == Verdict.PASS, result.outcome.reason
    assert worker.wait(20) == 0  # --runs 1: it leaves after the run, its child reaped


def test_an_expected_remote_worker_that_never_comes_is_a_clear_error(
    tmp_path: Path, server: RunningServer
) -> None:
    config = _fleet_config(tmp_path, server.url, free_port(), wait="3s")
    began = time.monotonic()
    result = _run(tmp_path, config, LOAD, "latency.p50: < 1s")
    assert time.monotonic() - began < 25
    assert result.outcome.verdict == Verdict.ERROR
    reason = result.outcome.reason
    assert "1 remote" in reason and "within 3 s" in reason and "1 joined (0 remote)" in reason


def test_a_worker_whose_allow_list_excludes_the_target_refuses_it(
    tmp_path: Path, server: RunningServer, remote_worker
) -> None:
    port = free_port()
    worker = remote_worker(port, ["10.1.2.3"])
    result = _run(tmp_path, _fleet_config(tmp_path, server.url, port), LOAD, "latency.p50: < 1s")
    assert result.outcome.verdict == Verdict.ERROR
    reason = result.outcome.reason
    assert "refused the plan" in reason and "not in allow.hosts" in reason and "10.1.2.3" in reason
    assert worker.wait(20) == 0


def test_a_watcher_stop_ends_every_worker_early(server: RunningServer) -> None:
    plan = LoadPlan(server.url, (RequestSpec("GET", "/work"),), users=8, duration_s=30.0)
    fleet = FleetSettings(local_workers=2, bind_host="127.0.0.1", port=free_port())

    def watcher(record: LoadRecord, cpu_peak: float) -> StopRequest | None:
        if record.measured_seconds < 2:
            return None
        return StopRequest("failed", record.measured_seconds, "a check failed")

    began = time.monotonic()
    with _watched_fleet() as started:
        run = run_fleet(plan, fleet, WorkerPolicy(("127.0.0.1",), 8, 30.0), watcher=watcher)
    assert time.monotonic() - began < 20  # far less than the 30 s planned
    assert run.stop is not None and run.record.measured_seconds < 10
    views = run.record.workers.by_name
    assert sorted(views) == ["local-1", "local-2"]
    assert all(
        v.final is not None and "stopped by the parent" in v.final.reason for v in views.values()
    )
    assert len(started) >= 3 and not _still_running(started)


def test_keyboard_interrupt_reaps_master_and_workers(server: RunningServer) -> None:
    plan = LoadPlan(server.url, (RequestSpec("GET", "/work"),), users=8, duration_s=30.0)
    fleet = FleetSettings(local_workers=2, bind_host="127.0.0.1", port=free_port())
    seen: list[psutil.Process] = []

    def interrupt_once_sending(record: LoadRecord, cpu_peak: float) -> StopRequest | None:
        # Ctrl-C arrives while every worker is sending (a watcher runs on each tick)
        if not seen and record.measured_seconds >= 1:
            seen.extend(_fleet_children())
            os.kill(os.getpid(), signal.SIGINT)
        return None

    policy = WorkerPolicy(("127.0.0.1",), 8, 30.0)
    began = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run_fleet(plan, fleet, policy, watcher=interrupt_once_sending)
    assert len(seen) >= 3  # the master and both workers were running
    assert time.monotonic() - began < 20
    assert not _still_running(seen)
