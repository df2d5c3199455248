"""Probes against real processes: the behaviour server's flags are the ground truth."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest

from infratest.measurements import MeasurementError
from infratest.probes import ProbeSampler, ProbeSeries, probe_measurements, resolve_process
from infratest.spec.resource_sections import ProbeSpec
from infratest.stats import exact
from tests.support.servers import (
    RunningServer,
    free_port,
    launch,
)

MIB = 1 << 20
C = 0.95


pytestmark = pytest.mark.usefixtures("no_leftover_processes")


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `condition` with a deadline."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)  # poll interval


def sample(pid: int, ticks: int, interval: float = 0.05) -> ProbeSeries:
    """Sample a process tree until `ticks` rows are in."""
    with ProbeSampler(psutil.Process(pid), interval) as sampler:
        wait_until(lambda: sampler.samples >= ticks, 10 * ticks * interval + 5, "samples")
    return sampler.stop()


def peak(series: ProbeSeries, metric: str) -> float:
    return probe_measurements(series, C).values[metric].value


# --------------------------------------------------------------------------- metrics


def test_ballast_shows_in_rss_peak(run: list[RunningServer]) -> None:
    plain = launch(run)
    heavy = launch(run, "--ballast-mib", "200")
    baseline = peak(sample(plain.pid, 6), "process.rss.peak")
    measured = peak(sample(heavy.pid, 6), "process.rss.peak")
    expected = baseline + 200 * MIB
    assert abs(measured - expected) <= 0.05 * expected, (baseline, measured)


def paced_requests(server: RunningServer, count: int, duration: float) -> int:
    """Send `count` GETs evenly over `duration` on one keep-alive connection; answers 200."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    start, ok = time.monotonic(), 0
    try:
        for i in range(count):
            if time.monotonic() > start + duration + 5:
                break  # hard bound if the server is slower than the pace
            if (delay := start + i * duration / count - time.monotonic()) > 0:
                time.sleep(delay)  # pacing the load, not waiting for readiness
            conn.request("GET", "/work")
            response = conn.getresponse()
            response.read()
            ok += response.status == 200
    finally:
        conn.close()
    return ok


def test_leak_grows_and_plain_server_does_not(run: list[RunningServer]) -> None:
    leaky = launch(run, "--leak-kib-per-request", "64")
    plain = launch(run)
    samplers = [ProbeSampler(psutil.Process(s.pid)) for s in (leaky, plain)]
    for sampler in samplers:
        sampler.start()
    started = time.monotonic()
    with ThreadPoolExecutor(2) as pool:
        answered = list(pool.map(lambda s: paced_requests(s, 400, 4.0), (leaky, plain)))
    elapsed = time.monotonic() - started
    series = [sampler.stop() for sampler in samplers]
    assert answered == [400, 400]
    throughput = exact(400 / elapsed, C)
    leak_m, plain_m = (probe_measurements(s, C, throughput=throughput) for s in series)
    leak, flat = leak_m.values["process.rss.growth"], plain_m.values["process.rss.growth"]
    assert leak.low > 0, leak_m.notes
    assert flat.low <= 0.05 * leak.value or flat.high < leak.low, (flat, leak)
    per_request = leak_m.values["process.rss.per_request"].value
    assert 48 * 1024 < per_request < 96 * 1024, per_request
    assert series[0].sampler_cpu / series[0].t[-1] < 0.05  # the probe's own cost stays small


def test_extra_fds_and_threads_show_in_peaks(run: list[RunningServer]) -> None:
    plain = launch(run)
    busy = launch(run, "--open-fds", "50", "--threads-extra", "8")
    base_m = probe_measurements(sample(plain.pid, 4), C).values
    busy_m = probe_measurements(sample(busy.pid, 4), C).values
    assert busy_m["process.fds.peak"].value >= base_m["process.fds.peak"].value + 50
    assert busy_m["process.threads.peak"].value >= base_m["process.threads.peak"].value + 8


# --------------------------------------------------------------------------- resolution


def test_resolve_by_pid_target_port_and_cmdline(run: list[RunningServer]) -> None:
    server = launch(run)
    assert resolve_process(ProbeSpec(pid=server.pid), None).pid == server.pid
    assert resolve_process(ProbeSpec(target=True), server.pid).pid == server.pid
    assert resolve_process(ProbeSpec(port=server.port), None).pid == server.pid
    pattern = rf"behaviour_server\.py --port {server.port}\b"
    assert resolve_process(ProbeSpec(cmdline=pattern), None).pid == server.pid


def test_host_only_and_disabled_select_no_process() -> None:
    assert resolve_process(ProbeSpec(), None) is None
    assert resolve_process(ProbeSpec(enabled=False, pid=1), None) is None
    with pytest.raises(MeasurementError, match="target"):
        resolve_process(ProbeSpec(target=True), None)


def test_name_shared_by_two_servers_is_ambiguous(run: list[RunningServer]) -> None:
    first, second = launch(run), launch(run)
    name = psutil.Process(first.pid).name()
    assert psutil.Process(second.pid).name() == name
    with pytest.raises(MeasurementError, match=f'are named "{name}".*select one by'):
        resolve_process(ProbeSpec(name=name), None)


@pytest.fixture
def uniquely_named(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """An idle interpreter started through a symlink, so its process name is ours alone."""
    name = f"itp-{os.getpid() % 100000}"
    link = tmp_path / name
    link.symlink_to(os.path.realpath(sys.executable))
    proc = subprocess.Popen(
        [str(link), "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    try:
        yield name, proc
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def test_resolve_by_unique_name(uniquely_named: tuple[str, subprocess.Popen]) -> None:
    name, proc = uniquely_named
    wait_until(lambda: psutil.Process(proc.pid).name() == name, 5, "the exec to finish")
    assert resolve_process(ProbeSpec(name=name), None).pid == proc.pid


def test_missing_pid_and_free_port_name_the_selector() -> None:
    gone = subprocess.Popen([sys.executable, "-c", ""])
    gone.wait(timeout=10)
    if psutil.pid_exists(gone.pid):
        pytest.skip("the pid was reused already")
    with pytest.raises(MeasurementError, match=f"pid {gone.pid} does not exist"):
        resolve_process(ProbeSpec(pid=gone.pid), None)
    port = free_port()
    with pytest.raises(MeasurementError, match=f"no process listens on port {port}"):
        resolve_process(ProbeSpec(port=port), None)
    with pytest.raises(MeasurementError, match="no process command line matches"):
        resolve_process(ProbeSpec(cmdline=r"no-such-command-\d{9}"), None)


# --------------------------------------------------------------------------- processes that change


def send_and_ignore(server: RunningServer) -> None:
    """One request the server dies on: no answer is expected."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    with contextlib.suppress(OSError, http.client.HTTPException):
        conn.request("GET", "/die")
        conn.getresponse().read()
    conn.close()


def test_process_dying_mid_run_keeps_host_sampling(run: list[RunningServer]) -> None:
    server = launch(run, "--die-after-requests", "0")
    with ProbeSampler(psutil.Process(server.pid), 0.05) as sampler:
        wait_until(lambda: sampler.samples >= 3, 5, "first samples")
        send_and_ignore(server)
        server.proc.wait(timeout=5)
        wait_until(lambda: sampler.process_gone_at is not None, 5, "the probe to notice")
        seen = sampler.samples
        wait_until(lambda: sampler.samples >= seen + 3, 5, "samples after the exit")
    series = sampler.stop()
    after = series.t > series.process_gone_at
    assert after.sum() >= 2
    assert all(v != v for v in series.rss[after])  # NaN once gone
    assert (series.host_available[after] > 0).all()
    values = probe_measurements(series, C).values
    assert {"host.cpu.mean", "host.memory.available.min", "process.rss.peak"} <= set(values)


PARENT = """
import subprocess, sys
sys.stdin.readline()
child = subprocess.Popen([sys.executable, "-c", sys.argv[1]])
child.wait()
"""
CHILD = "import sys; held = b'\\x01' * (150 << 20); sys.stdin.read()"


@pytest.fixture
def parent_process() -> Iterator[subprocess.Popen]:
    """A parent that forks a memory-hungry child on its first stdin line; EOF ends both."""
    proc = subprocess.Popen(
        [sys.executable, "-c", PARENT, CHILD], stdin=subprocess.PIPE, start_new_session=True
    )
    try:
        yield proc
    finally:
        assert proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def child_holds_ballast(parent: psutil.Process) -> bool:
    kids = parent.children()
    return bool(kids) and kids[0].memory_info().rss > 150 * MIB


def test_tree_rss_includes_a_child_that_appears_later(parent_process: subprocess.Popen) -> None:
    parent = psutil.Process(parent_process.pid)
    assert parent_process.stdin is not None
    with ProbeSampler(parent, 0.05) as sampler:
        wait_until(lambda: sampler.samples >= 3, 5, "samples of the lone parent")
        parent_process.stdin.write(b"go\n")
        parent_process.stdin.flush()
        wait_until(lambda: child_holds_ballast(parent), 10, "the child's allocation")
        seen = sampler.samples
        wait_until(lambda: sampler.samples >= seen + 3, 5, "samples of the tree")
        own = parent.memory_info().rss
    series = sampler.stop()
    assert series.rss[0] < 100 * MIB
    assert peak(series, "process.rss.peak") >= own + 0.95 * 150 * MIB
    assert not any(t.name == "infratest-probe" for t in threading.enumerate())


def test_sampler_keeps_to_its_cpu_budget_when_asked_to_sample_too_often() -> None:
    with ProbeSampler(psutil.Process(), interval=0.01) as sampler:
        wait_until(lambda: sampler.samples >= 15, 10, "samples")
    series = sampler.stop()
    assert series.sampler_cpu / series.t[-1] < 0.02  # budget 1%, with slack for scheduling
    if series.sampler_cpu / series.t.size > 2 * 0.01 * 0.01:  # readings cost over the budget
        assert any("sampled less often" in note for note in series.notes)
