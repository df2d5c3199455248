"""Real Locust (in its child process) against real target subprocesses on loopback.

Each run is short (2-3 s, few users). The figures asserted are those the target's
command line makes known in advance: service time, error ratio, death, hang.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator

import numpy as np
import psutil
import pytest

from infratest.workloads.load_plan import LoadPlan, RequestSpec
from infratest.workloads.load_runner import LoadRun, LoadRunError, run_load
from tests.support.servers import RunningServer, free_port, start_server

pytestmark = pytest.mark.load

STARTUP_ALLOWANCE_S = 4.0  # child interpreter + Locust import + writing results, on a slow box


def _descendants() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


@pytest.fixture(autouse=True)
def no_process_left_behind() -> Iterator[None]:
    """Every test must reap what it started: load children and target servers alike."""
    before = _descendants()
    yield
    left = _descendants() - before
    assert not left, f"processes left behind: {left}"


@pytest.fixture
def target() -> Iterator[Callable[..., RunningServer]]:
    """Start behaviour servers with the given flags; all are stopped after the test."""
    started: list[RunningServer] = []

    def start(*flags: str) -> RunningServer:
        server = start_server(list(flags))
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def _plan(url: str, **kw: object) -> LoadPlan:
    defaults: dict[str, object] = {"requests": (RequestSpec(),), "users": 4, "duration_s": 3.0}
    return LoadPlan(host=url, **{**defaults, **kw})  # type: ignore[arg-type]


def _kinds(run: LoadRun) -> dict[str, dict]:
    return {k["key"]: k for k in run.summary["error_kinds"]}


def test_fixed_service_time_is_measured_exactly(target) -> None:
    server = target("--delay", "0.02")
    progress: list[dict] = []
    run = run_load(_plan(server.url), on_progress=progress.append)
    lat = run.samples["latency"]
    throughput = lat.size / run.measured_seconds
    assert lat.size > 0 and lat.min() >= 0.02
    assert 0.02 <= float(np.median(lat)) <= 0.2
    assert 20 < throughput <= 4 / 0.02 * 1.1
    assert run.samples["ok"].all() and (run.samples["status"] == 200).all()
    assert 3 <= len(run.summary["series"]) <= 4
    assert run.summary["series"][0]["users"] == 4
    assert len(progress) >= 1 and {"t", "users", "rps", "p95", "errors"} <= progress[0].keys()
    assert run.exit_code == 0 and not run.summary["stopped_early"]


def test_http_500_every_fifth_request(target) -> None:
    server = target("--error-every", "5", "--delay", "0.005")
    run = run_load(_plan(server.url, duration_s=2.0))
    failed = ~run.samples["ok"]
    assert 0.15 <= failed.mean() <= 0.25
    kind = _kinds(run)["HTTP 500"]
    assert kind["count"] == failed.sum() and kind["examples"]
    assert (run.samples["status"][failed] == 500).all()


def test_connection_refused_is_recorded_not_hung() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    began = time.monotonic()
    run = run_load(_plan(url, duration_s=2.0, timeout_s=1.0))
    assert time.monotonic() - began < 2.0 + 1.0 + STARTUP_ALLOWANCE_S
    if run.samples["ok"].size == 0:
        assert "no request completed" in run.summary["reason"]
    else:
        assert not run.samples["ok"].any()
        assert any("ConnectionRefused" in key for key in _kinds(run))


def test_target_dying_mid_run_shows_as_errors_after_death(target) -> None:
    server = target("--die-after-requests", "100", "--delay", "0.005")
    run = run_load(_plan(server.url, duration_s=2.0, timeout_s=1.0))
    ok, start = run.samples["ok"], run.samples["start"]
    assert ok.sum() >= 90 and (~ok).sum() > 0
    assert start[~ok].max() > start[ok].max()  # failures continue after the last success
    assert run.exit_code == 0


def test_hung_target_times_out_within_bounds(target) -> None:
    server = target("--hang-after-requests", "20", "--delay", "0.005")
    began = time.monotonic()
    run = run_load(_plan(server.url, duration_s=3.0, timeout_s=1.0))
    assert time.monotonic() - began < 3.0 + 1.0 + STARTUP_ALLOWANCE_S
    kind = _kinds(run)["timeout"]
    assert kind["count"] >= 4 and kind["examples"]
    timed_out = run.samples["latency"][~run.samples["ok"]]
    assert ((timed_out > 0.9) & (timed_out < 1.5)).all()


def test_warmup_is_excluded_but_counted(target) -> None:
    server = target("--delay", "0.01")
    run = run_load(_plan(server.url, warmup_s=1.0))
    assert run.samples["start"].size > 0 and run.samples["start"].min() >= 1.0
    assert run.summary["warmup_requests"] > 0
    assert run.measured_seconds == pytest.approx(2.0, abs=0.1)
    assert min(row["t"] for row in run.summary["series"]) >= 1


def test_weighted_mix_with_json_bodies_on_http_user(target) -> None:
    server = target("--delay", "0.002")
    mix = (
        RequestSpec("POST", "/predict", json={"x": [1, 2]}, weight=3, name="predict"),
        RequestSpec("GET", "/info", weight=1),
    )
    run = run_load(_plan(server.url, requests=mix, user_class="http", duration_s=2.0))
    names = run.summary["request_names"]
    share = np.mean(run.samples["name"] == names.index("predict"))
    assert run.samples["ok"].all() and 0.6 <= share <= 0.9


def test_generator_cpu_is_sampled_and_busy(target) -> None:
    server = target()
    run = run_load(_plan(server.url, users=8, duration_s=2.0))
    assert run.generator_cpu.ndim == 2 and run.generator_cpu.shape[0] >= 5
    assert np.all(np.diff(run.generator_cpu[:, 0]) > 0)
    assert run.generator_cpu_peak > 0.3


def test_hard_timeout_ends_and_reaps_the_child(target) -> None:
    server = target("--delay", "0.01")
    began = time.monotonic()
    try:
        run = run_load(_plan(server.url, duration_s=20.0), hard_timeout_s=2.5)
    except LoadRunError:
        pass  # killed before it could write: also acceptable, as long as it was reaped
    else:
        assert run.summary["stopped_early"] and "hard timeout" in run.summary["reason"]
        assert run.measured_seconds < 3.0
    assert time.monotonic() - began < 2.5 + 3.0 + 2.0


def test_keyboard_interrupt_reaps_the_child(target) -> None:
    server = target("--delay", "0.01")
    interrupt = threading.Timer(1.5, os.kill, (os.getpid(), signal.SIGINT))
    began = time.monotonic()
    interrupt.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            run_load(_plan(server.url, duration_s=20.0))
    finally:
        interrupt.cancel()
    assert time.monotonic() - began < 1.5 + 3.0 + 2.0


def test_child_killed_before_writing_raises_with_reason() -> None:
    plan = _plan(f"http://127.0.0.1:{free_port()}", duration_s=2.0)
    with pytest.raises(LoadRunError, match="wrote no results"):
        run_load(plan, hard_timeout_s=0.05)
