"""The `cold_start` workload: launch fresh instances of a managed target and time
launch -> port open -> ready -> first successful answer, with RSS at ready."""

from __future__ import annotations

import http.client
import time
from urllib.parse import urlsplit

import numpy as np
import psutil

from infratest.measurements import MeasurementError, Measurements
from infratest.spec.traffic import RequestSpec
from infratest.stats import Interval, exact, mean_interval, quantile_interval
from infratest.targets import TargetError
from infratest.targets.managed import ManagedProcess
from infratest.workloads.context import WorkloadContext
from infratest.workloads.load import plan_request

POLL_S = 0.02
# Below this many launches a distribution-free interval for the median is unbounded at 95%.
DISTRIBUTION_FREE_MIN = 5


def send(url: str, request: RequestSpec | None, timeout: float) -> int | None:
    """One request on a new connection; the HTTP status, or None when nothing answered."""
    parts = urlsplit(url)
    conn_type = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    conn = conn_type(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    planned = plan_request(request or RequestSpec(path="/"), {})
    encoded = planned.client_kwargs()  # the same bytes the load generator would send
    try:
        conn.request(
            planned.method,
            planned.path,
            body=encoded.get("data"),
            headers=encoded.get("headers", {}),
        )
        response = conn.getresponse()
        response.read()
        return response.status
    except OSError:
        return None
    finally:
        conn.close()


def _first_response(proc: ManagedProcess, request: RequestSpec | None, deadline: float) -> float:
    """Seconds from launch to the first 2xx answer to the scenario's first request."""
    last: int | None = None
    while time.monotonic() < deadline:
        if not proc.alive():
            raise TargetError(
                f"exited (code {proc.returncode}) before answering", proc.output_tail()
            )
        last = send(proc.url, request, timeout=max(0.1, min(2.0, deadline - time.monotonic())))
        if last is not None and 200 <= last < 300:
            return time.monotonic() - proc.launched_at
        time.sleep(POLL_S)  # a paced retry of a real request, not a readiness stand-in
    raise TargetError(
        f"no successful answer before the ready timeout (last: HTTP {last})", proc.output_tail()
    )


def _tree_rss(pid: int) -> float:
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
        return float(sum(p.memory_info().rss for p in procs if p.is_running()))
    except psutil.Error:
        return float("nan")


def _launch_once(ctx: WorkloadContext, index: int) -> dict[str, float]:
    spec = ctx.assumption.cold_start
    assert spec is not None and ctx.scenario.target is not None
    request = spec.requests[0] if spec.requests else None
    proc = ctx.targets.launch_fresh(ctx.scenario.target)
    try:
        times = proc.wait_ready()
        rss = _tree_rss(proc.pid)
        deadline = proc.launched_at + proc.spec.ready_timeout_s
        first = _first_response(proc, request, deadline)
    except TargetError as exc:
        raise MeasurementError(f"launch {index + 1} of {spec.repeat} failed: {exc}") from None
    finally:
        proc.stop()
    return {
        "port_open_s": times.port_open_s,
        "ready_s": times.ready_s,
        "first_response_s": first,
        "rss": rss,
    }


def median_interval(values: list[float], confidence: float) -> Interval:
    """The median with a distribution-free interval when there are enough launches; with
    fewer, a t interval (it assumes roughly normal launch times, and says so)."""
    if len(values) >= DISTRIBUTION_FREE_MIN:
        return quantile_interval(values, 0.5, confidence)
    t = mean_interval(values, confidence)
    median = float(np.median(values))
    return Interval(
        median, min(t.low, median), max(t.high, median), confidence, len(values), "t (few launches)"
    )


def run_cold_start_workload(ctx: WorkloadContext) -> Measurements:
    """`repeat` fresh launches, each reaped before the next starts."""
    spec = ctx.assumption.cold_start
    assert spec is not None
    runs = [_launch_once(ctx, i) for i in range(spec.repeat)]
    found = Measurements(series={"cold_start": {"runs": runs}})
    for metric, key in (
        ("cold_start.ready", "ready_s"),
        ("cold_start.first_response", "first_response_s"),
    ):
        found.add(metric, median_interval([r[key] for r in runs], ctx.confidence))
    rss = [r["rss"] for r in runs if np.isfinite(r["rss"])]
    if rss:
        found.add("cold_start.rss", exact(max(rss), ctx.confidence, len(rss)))
    found.notes.append(f"{spec.repeat} launches; medians; cold_start.rss is the largest at ready")
    if spec.repeat < DISTRIBUTION_FREE_MIN:
        found.notes.append(
            f"fewer than {DISTRIBUTION_FREE_MIN} launches: the interval assumes "
            "roughly normal launch times"
        )
    return found
