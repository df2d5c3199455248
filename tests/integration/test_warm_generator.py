"""A warm Locust child runs plan after plan: real Locust, real loopback servers.

What must hold: one process serves consecutive runs, each run counts exactly the requests
it sent (the server's own log agrees, nothing of one run reaches the next), early stops
and hard limits act on the run they were meant for, and the child is reaped when the pool
closes, when a run hangs past its limit, on Ctrl-C, and when its parent's end of stdin
closes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from infratest.workloads.load_plan import LoadPlan, RequestSpec
from infratest.workloads.load_record import LoadRecord
from infratest.workloads.load_runner import StopRequest, run_load
from infratest.workloads.warm_generator import GeneratorPool, WarmGenerator
from infratest.workloads.wire import StopCommand

pytestmark = [pytest.mark.load, pytest.mark.usefixtures("no_leftover_processes")]

EXIT_WAIT_S = 10.0
CORES = psutil.cpu_count() or 1


def _plan(url: str, **kw: object) -> LoadPlan:
    defaults: dict[str, object] = {"requests": (RequestSpec(),), "users": 3, "duration_s": 2.0}
    return LoadPlan(host=url, **{**defaults, **kw})  # type: ignore[arg-type]


@pytest.fixture
def pool() -> Iterator[GeneratorPool]:
    generators = GeneratorPool()
    yield generators
    generators.close()


def _logged(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_consecutive_runs_share_one_child_and_count_only_their_own_requests(
    target, pool, tmp_path
) -> None:
    log = tmp_path / "requests.jsonl"
    server = target("--delay", "0.005", "--record-requests", str(log))
    pids, sent = [], []
    for _ in range(3):
        run = run_load(_plan(server.url), generators=pool)
        pids.append(pool.pids)
        counts = run.record.counts()
        sent.append(counts.sent)
        assert counts.failed == 0 and counts.unanswered == 0
        assert run.exit_code == 0 and run.hard_timeout_s is None
        assert run.record.final is not None and run.record.final.reason == "duration reached"
        assert 1.9 <= run.measured_seconds <= 2.1
        # CPU is counted from this run's start only (it read the child's whole life as
        # the first reading's: 5 to 12 "cores" on a 2-core machine)
        assert 0 < run.generator_cpu_peak <= CORES
        # every request the server logged so far was counted by exactly one run
        assert _logged(log) == sum(sent)
    assert len(pids[0]) == 1 and pids[0] == pids[1] == pids[2]
    assert min(sent) > 50  # three users at ~5 ms each: each run sent hundreds


def test_an_early_stop_ends_its_run_and_the_child_serves_the_next(target, pool) -> None:
    server = target("--delay", "0.005")

    def decide_at_one_second(record: LoadRecord, cpu_peak: float) -> StopRequest | None:
        return StopRequest("decided", record.last_t, "test") if record.last_t >= 1.0 else None

    stopped = run_load(
        _plan(server.url, duration_s=8.0), generators=pool, watcher=decide_at_one_second
    )
    assert stopped.stop is not None and stopped.measured_seconds < 3.0
    assert stopped.record.final is not None and "decided" in stopped.record.final.reason
    first = pool.pids
    full = run_load(_plan(server.url), generators=pool)
    assert pool.pids == first and full.stop is None
    assert 1.9 <= full.measured_seconds <= 2.1  # the first run's stop did not reach this one


def test_a_stop_for_an_earlier_run_and_a_stray_signal_between_runs_are_ignored(
    target, pool
) -> None:
    server = target("--delay", "0.005")
    run_load(_plan(server.url, duration_s=1.0), generators=pool)
    (pid,) = pool.pids
    generator = pool._idle[0]
    generator._send(StopCommand(1, hurry=True))  # run 1 is over
    os.kill(pid, signal.SIGUSR1)  # what a late one-shot stop would be: no run to stop
    run = run_load(_plan(server.url), generators=pool)
    assert pool.pids == [pid] and run.stop is None
    assert 1.9 <= run.measured_seconds <= 2.1


def test_a_run_past_its_hard_limit_ends_the_child_and_keeps_what_it_streamed(target, pool) -> None:
    server = target("--delay", "0.005")
    run_load(_plan(server.url, duration_s=1.0), generators=pool)
    (first,) = pool.pids
    child = psutil.Process(first)
    run = run_load(_plan(server.url, duration_s=20.0), generators=pool, hard_timeout_s=2.5)
    assert run.hard_timeout_s == 2.5 and run.record.ticks
    assert run.record.counts().ok > 0
    child.wait(EXIT_WAIT_S)  # reaped by the pool, never reused
    assert pool.pids == []
    again = run_load(_plan(server.url, duration_s=1.0), generators=pool)
    assert again.exit_code == 0 and pool.pids not in ([], [first])


def test_keyboard_interrupt_during_a_warm_run_reaps_the_child(target, pool) -> None:
    server = target("--delay", "0.005")
    run_load(_plan(server.url, duration_s=1.0), generators=pool)
    (pid,) = pool.pids
    interrupt = threading.Timer(1.5, os.kill, (os.getpid(), signal.SIGINT))
    interrupt.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            run_load(_plan(server.url, duration_s=20.0), generators=pool)
    finally:
        interrupt.cancel()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert pool.pids == []


def test_closing_the_pool_reaps_an_idle_child(target) -> None:
    server = target("--delay", "0.005")
    generators = GeneratorPool()
    run_load(_plan(server.url, duration_s=1.0), generators=generators)
    (pid,) = generators.pids
    generators.close()
    assert not psutil.pid_exists(pid)
    with pytest.raises(RuntimeError, match="closed"):
        run_load(_plan(server.url, duration_s=1.0), generators=generators)


def test_a_child_whose_stdin_closes_exits_by_itself() -> None:
    """What happens when the parent dies: its end of the pipe closes, the child ends."""
    generator = WarmGenerator.start()
    try:
        assert generator.proc.stdin is not None
        generator.proc.stdin.close()
        assert generator.proc.wait(EXIT_WAIT_S + 5.0) == 0
    except subprocess.TimeoutExpired:
        pytest.fail("the warm child outlived its stdin")
    finally:
        generator.close()
