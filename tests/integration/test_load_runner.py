"""Real Locust (in its child process) against real target subprocesses on loopback.

Each run is short (2-3 s, few users). The figures asserted are those the target's
command line makes known in advance: service time, error ratio, death, hang. The child
streams per-second windows, so every figure here is read from the record's windows.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import psutil
import pytest

from infratest.workloads.load_plan import LoadPlan, RequestSpec
from infratest.workloads.load_record import LoadRecord
from infratest.workloads.load_runner import LoadRunError, StopRequest, run_load
from infratest.workloads.load_series import load_series
from infratest.workloads.warm_generator import GeneratorPool
from tests.support.servers import free_port

pytestmark = [pytest.mark.load, pytest.mark.usefixtures("no_leftover_processes")]

STARTUP_ALLOWANCE_S = 4.0  # child interpreter + Locust import + the last tick, on a slow box
DRAIN_CAP_S = 3.0  # the child waits at most this long for requests in flight at the end


def _plan(url: str, **kw: object) -> LoadPlan:
    defaults: dict[str, object] = {"requests": (RequestSpec(),), "users": 4, "duration_s": 3.0}
    return LoadPlan(host=url, **{**defaults, **kw})  # type: ignore[arg-type]


def _latencies(record: LoadRecord) -> np.ndarray:
    """Every successful latency, one per request (from the histograms, within 0.1%)."""
    values, counts = record.successful.pooled()
    return np.repeat(values, counts)


def _failure_latencies(record: LoadRecord) -> np.ndarray:
    """Failed requests' time to fail: all finished requests minus the successful ones."""
    values, counts = record.everything.pooled()
    ok_values, ok_counts = record.successful.pooled()
    remaining = dict(zip(values.tolist(), counts.tolist(), strict=True))
    for value, count in zip(ok_values.tolist(), ok_counts.tolist(), strict=True):
        remaining[value] -= count
    kept = [(v, n) for v, n in sorted(remaining.items()) if n > 0]
    return np.repeat([v for v, _ in kept], [n for _, n in kept])


def test_fixed_service_time_is_measured_exactly(target) -> None:
    server = target("--delay", "0.02")
    looks: list[tuple[float, float]] = []

    def watcher(record: LoadRecord, cpu_peak: float) -> None:
        looks.append((record.last_t, cpu_peak))

    run = run_load(_plan(server.url), watcher=watcher)
    record = run.record
    lat = _latencies(record)
    throughput = lat.size / run.measured_seconds
    assert lat.size > 0 and lat.min() >= 0.02
    assert 0.02 <= float(np.median(lat)) <= 0.2
    assert 20 < throughput <= 4 / 0.02 * 1.1
    assert record.outcomes.total_failed == 0 and record.outcomes.kinds == {}
    rows = load_series(record)["per_second"]
    assert 3 <= len(rows) <= 4
    assert rows[0]["users"] == 4
    assert len(looks) >= 2 and all(t > 0 and cpu >= 0 for t, cpu in looks)
    assert [t for t, _ in looks] == sorted(t for t, _ in looks)  # one look per tick, in order
    assert run.exit_code == 0 and run.stop is None and run.hard_timeout_s is None
    assert record.final is not None and record.final.signalled is None


def test_http_500_every_fifth_request(target) -> None:
    server = target("--error-every", "5", "--delay", "0.005")
    run = run_load(_plan(server.url, duration_s=2.0))
    outcomes, final = run.record.outcomes, run.record.final
    share = outcomes.total_failed / (outcomes.total_ok + outcomes.total_failed)
    assert 0.15 <= share <= 0.25
    assert outcomes.kinds == {"HTTP 500": outcomes.total_failed}
    assert final is not None and final.examples["HTTP 500"]
    assert outcomes.total_timeouts == 0


def test_connection_refused_is_recorded_not_hung() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    began = time.monotonic()
    run = run_load(_plan(url, duration_s=2.0, timeout_s=1.0))
    assert time.monotonic() - began < 2.0 + 1.0 + STARTUP_ALLOWANCE_S
    outcomes = run.record.outcomes
    assert outcomes.total_ok == 0 and outcomes.total_failed > 0
    assert any("ConnectionRefused" in kind for kind in outcomes.kinds)
    final = run.record.final
    assert final is not None and "first error" in final.reason


def test_target_dying_mid_run_shows_as_errors_after_death(target) -> None:
    server = target("--die-after-requests", "100", "--delay", "0.01")
    run = run_load(_plan(server.url, duration_s=2.0, timeout_s=1.0))
    outcomes = run.record.outcomes
    assert outcomes.total_ok >= 90 and outcomes.total_failed > 0
    last_ok = max(w for w, n in outcomes.ok.items() if n)
    last_failed = max(w for w, n in outcomes.failed.items() if n)
    assert last_failed > last_ok  # failures go on in seconds after the last success
    assert not any(kind.startswith("HTTP ") for kind in outcomes.kinds)  # no answers, no status
    assert run.exit_code == 0


def test_hung_target_times_out_within_bounds(target) -> None:
    server = target("--hang-after-requests", "20", "--delay", "0.005")
    began = time.monotonic()
    run = run_load(_plan(server.url, duration_s=3.0, timeout_s=1.0))
    assert time.monotonic() - began < 3.0 + 1.0 + STARTUP_ALLOWANCE_S
    record = run.record
    assert record.outcomes.kinds.get("timeout", 0) >= 4
    assert record.outcomes.total_timeouts == record.outcomes.kinds["timeout"]
    assert record.final is not None and record.final.examples["timeout"]
    timed_out = _failure_latencies(record)
    assert timed_out.size == record.outcomes.total_failed
    assert ((timed_out > 0.9) & (timed_out < 1.5)).all()  # a timeout's time to fail: ~ timeout
    censored = record.censored()  # hung at the end: at least their wait, at most the timeout
    assert (censored.elapsed_s >= 0).all() and censored.cap_s == 1.0


def test_warmup_is_excluded_but_counted(target) -> None:
    server = target("--delay", "0.01")
    run = run_load(_plan(server.url, warmup_s=1.0))
    record = run.record
    assert record.outcomes.total_ok > 0
    assert min(record.outcomes.ok) >= 0 and record.successful.windows().min() >= 0
    assert record.warmup_requests > 0
    assert run.measured_seconds == pytest.approx(2.0, abs=0.1)
    assert record.final is not None and record.final.measure_start == 1.0
    assert min(row["t"] for row in load_series(record)["per_second"]) >= 1


def test_weighted_mix_with_json_bodies_on_http_user(target) -> None:
    server = target("--delay", "0.002")
    mix = (
        RequestSpec("POST", "/predict", json={"x": [1, 2]}, weight=3, name="predict"),
        RequestSpec("GET", "/info", weight=1),
    )
    run = run_load(_plan(server.url, requests=mix, user_class="http", duration_s=2.0))
    record = run.record
    names = record.outcomes.names
    assert set(names) == {"predict", "GET /info"}
    assert record.final is not None and record.final.request_names == ["predict", "GET /info"]
    share = names["predict"] / sum(names.values())
    assert record.outcomes.total_failed == 0 and 0.6 <= share <= 0.9


def test_generator_cpu_is_sampled_and_busy(target) -> None:
    server = target()
    run = run_load(_plan(server.url, users=8, duration_s=2.0))
    assert run.generator_cpu.ndim == 2 and run.generator_cpu.shape[0] >= 5
    assert np.all(np.diff(run.generator_cpu[:, 0]) > 0)
    # busy (a saturating closed loop is not idle), and no more than the machine has
    assert 0.1 < run.generator_cpu_peak <= (psutil.cpu_count() or 1) + 0.5


@pytest.mark.parametrize("stopped", ["decided", "failed"])
def test_a_watcher_stop_request_ends_the_run_early(target, stopped: str) -> None:
    server = target("--delay", "0.01")
    wish = StopRequest(stopped, 1.0, "test asked")
    looks_after_stop: list[float] = []

    def watcher(record: LoadRecord, cpu_peak: float) -> StopRequest | None:
        if record.measured_seconds >= 1.0:
            looks_after_stop.append(record.last_t)
            return wish
        return None

    began = time.monotonic()
    run = run_load(_plan(server.url, duration_s=20.0), watcher=watcher)
    elapsed = time.monotonic() - began
    assert elapsed < 1.0 + 1.0 + DRAIN_CAP_S + STARTUP_ALLOWANCE_S  # far from its 20 s
    assert run.stop == wish
    assert len(looks_after_stop) == 1  # asked once, signalled once
    assert run.exit_code == 0 and run.hard_timeout_s is None
    record = run.record
    assert record.final is not None and "stopped by the parent" in record.final.reason
    assert record.final.signalled is None  # the parent's stop is not an interruption
    assert 1.0 <= run.measured_seconds < 4.0
    assert record.outcomes.total_ok > 0


def test_the_record_holds_windows_not_requests(target) -> None:
    """Streaming keeps memory flat: nothing in the parent's record grows per request."""
    server = target()
    run = run_load(_plan(server.url, duration_s=3.0))
    record = run.record
    requests = record.outcomes.total_ok + record.outcomes.total_failed
    windows = len(record.outcomes.ok)
    assert requests > 20 * windows  # many requests per window, so a per-request list shows
    containers = {**vars(record), **{f"outcomes.{k}": v for k, v in vars(record.outcomes).items()}}
    for name, value in containers.items():
        if isinstance(value, list | tuple | dict | set | np.ndarray):
            assert len(value) < requests, f"record.{name} grows with the requests"
    assert set(record.successful.windows().tolist()) == set(record.outcomes.ok)
    assert record.successful.trials() == record.outcomes.total_ok


def test_hard_timeout_ends_and_reaps_the_child(target) -> None:
    server = target("--delay", "0.01")
    began = time.monotonic()
    try:
        run = run_load(_plan(server.url, duration_s=20.0), hard_timeout_s=2.5)
    except LoadRunError as exc:
        assert "hard timeout" in str(exc)  # killed before its first tick: still reaped
    else:
        assert run.hard_timeout_s == 2.5
        assert run.measured_seconds < 3.0
        final = run.record.final
        assert final is None or final.signalled == "SIGTERM"
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


def test_child_killed_before_streaming_raises_with_reason() -> None:
    plan = _plan(f"http://127.0.0.1:{free_port()}", duration_s=2.0)
    with pytest.raises(LoadRunError, match="streamed no results") as caught:
        run_load(plan, hard_timeout_s=0.05)
    message = str(caught.value)
    assert "hard timeout" in message and "exit code" in message


@pytest.mark.parametrize("warm", [False, True], ids=["one-shot", "warm"])
def test_requests_in_flight_at_the_end_are_not_slowed_by_the_stop(target, warm) -> None:
    """Locust's stop walked the whole stack (80-120 ms of CPU here) before reading another
    answer, so every request in flight at the end measured that much slower: the last
    second's slowest ones were the generator's own pause."""
    server = target("--delay", "0.05")
    generators = GeneratorPool() if warm else None
    try:
        plan = _plan(server.url, requests=(RequestSpec(path="/work"),), duration_s=3.0)
        run = run_load(plan, generators=generators)
    finally:
        if generators is not None:
            generators.close()
    slowest = {w: float(v[-1]) for w, v, _ in run.record.successful.per_window()}
    assert sorted(slowest) == [0, 1, 2]
    assert slowest[2] < 0.05 + 0.025, slowest  # was 0.09..0.14 s: a fixed 50 ms service
