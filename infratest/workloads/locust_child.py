"""Run one load plan with Locust, in a child process, and write the raw results.

Importing Locust monkey-patches sockets, ssl and threads (gevent) for the whole
process, which breaks or hangs a normal process such as pytest. So Locust is only
ever imported here, as the first thing, in a process of its own:

    python -m infratest.workloads.locust_child PLAN.json OUT_DIR

Locust's own statistics round response times, so every request is recorded raw
from the `request` event. Outputs (written atomically): `samples.npz`,
`summary.json`; one JSON progress line per second on stdout.
"""

import locust  # noqa: I001  (must run first: it monkey-patches this process)

import contextlib
import json
import logging
import os
import random
import signal
import sys
import time
from pathlib import Path
from typing import Any

import gevent
import gevent.event
import numpy as np
from gevent import monkey
from locust import FastHttpUser, HttpUser, User, between, constant
from locust.env import Environment

from infratest.workloads.load_plan import LoadPlan, RequestSpec

EXAMPLES_PER_KIND = 3
EXAMPLE_CHARS = 200
DRAIN_CAP_S = 3.0  # longest wait for in-flight requests once the run is over
WATCHDOG_MARGIN_S = 5.0
EXIT_WATCHDOG = 3

_real_sleep = monkey.get_original("time", "sleep")
_real_start_thread = monkey.get_original("_thread", "start_new_thread")
_real_lock = monkey.get_original("_thread", "allocate_lock")


def error_key(status: int, exc: BaseException) -> str:
    """Group failures by what a person would act on: the HTTP status, timeout, or error type."""
    if status >= 400:
        return f"HTTP {status}"
    text = str(exc).lower()
    if isinstance(exc, TimeoutError) or "timeout" in type(exc).__name__.lower():
        return "timeout"
    if "timed out" in text:
        return "timeout"
    return type(exc).__name__


def _example(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text[:EXAMPLE_CHARS]


class Recorder:
    """Keeps every request's exact start and latency; Locust's stats round to 10 ms."""

    def __init__(self, plan: LoadPlan) -> None:
        self.warmup_s = plan.warmup_s
        self.t0 = time.time()
        self.names: list[str] = [str(r.name) for r in plan.requests]
        self.kinds: list[dict[str, Any]] = []
        self.kind_ids: dict[str, int] = {}
        self.rows: list[tuple[float, float, bool, int, int, int]] = []
        self.warmup_requests = 0
        self.started = 0  # requests begun by the task; `finished` lags when some are in flight
        self.finished = 0
        self.errors = 0
        self.first_error = ""
        self.tick_latencies: list[float] = []

    def on_request(self, response_time: float, name: str, response: Any = None, **kw: Any) -> None:
        """`request` event listener (called for every finished request, failed or not)."""
        latency = float(response_time) / 1000.0
        start_abs = kw.get("start_time") or (time.time() - latency)
        start = start_abs - self.t0
        exc = kw.get("exception")
        status = int(getattr(response, "status_code", 0) or 0)
        self.finished += 1
        self.tick_latencies.append(latency)
        if exc is not None:
            self.errors += 1
            self.first_error = self.first_error or _example(exc)
        if start < self.warmup_s:
            self.warmup_requests += 1
            return
        kind = -1 if exc is None else self._kind_index(error_key(status, exc), exc)
        self.rows.append((start, latency, exc is None, status, kind, self._name_index(name)))

    def _name_index(self, name: str) -> int:
        if name not in self.names:
            self.names.append(name)
        return self.names.index(name)

    def _kind_index(self, key: str, exc: BaseException) -> int:
        i = self.kind_ids.get(key)
        if i is None:
            i = self.kind_ids[key] = len(self.kinds)
            self.kinds.append({"key": key, "count": 0, "examples": []})
        kind = self.kinds[i]
        kind["count"] += 1
        example = _example(exc)
        if len(kind["examples"]) < EXAMPLES_PER_KIND and example not in kind["examples"]:
            kind["examples"].append(example)
        return i


def measured_arrays(rows: list[tuple], measure_end: float) -> dict[str, np.ndarray]:
    """Column arrays of the samples that started inside the measured window."""
    kept = [r for r in rows if r[0] < measure_end]
    cols = list(zip(*kept, strict=True)) if kept else [()] * 6
    dtypes = [np.float64, np.float64, np.bool_, np.int32, np.int32, np.int32]
    keys = ["start", "latency", "ok", "status", "kind", "name"]
    return {k: np.asarray(c, dtype=d) for k, c, d in zip(keys, cols, dtypes, strict=True)}


def measured_kinds(arrays: dict[str, np.ndarray], kinds: list[dict]) -> list[dict]:
    """Error kinds counted over the measured samples only; re-index `arrays["kind"]` to match."""
    codes = arrays["kind"]
    counts = np.bincount(codes[codes >= 0], minlength=len(kinds))
    kept = [i for i in range(len(kinds)) if counts[i] > 0]
    new_index = np.full(max(len(kinds), 1), -1, dtype=np.int32)
    new_index[kept] = np.arange(len(kept), dtype=np.int32)
    arrays["kind"] = np.where(codes >= 0, new_index[np.maximum(codes, 0)], -1).astype(np.int32)
    return [
        {**kinds[i], "count": int(counts[i]), "examples": list(kinds[i]["examples"])} for i in kept
    ]


def per_second_series(arrays: dict[str, np.ndarray], users_at: dict[int, int]) -> list[dict]:
    """One row per whole second of the measured window: users, requests, errors, percentiles."""
    if arrays["start"].size == 0:
        return []
    second = np.floor(arrays["start"]).astype(np.int64)
    series = []
    for t in np.unique(second):
        mask = second == t
        lat = arrays["latency"][mask]
        p50, p95, p99 = (float(v) for v in np.percentile(lat, [50, 95, 99]))
        series.append(
            {
                "t": int(t),
                "users": users_at.get(int(t), 0),
                "requests": int(mask.sum()),
                "errors": int((~arrays["ok"][mask]).sum()),
                "p50": p50,
                "p95": p95,
                "p99": p99,
            }
        )
    return series


def _atomic_write(path: Path, write: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        write(fh)
    os.replace(tmp, path)


def _send(client: Any, spec: RequestSpec, timeout_s: float, fast: bool) -> None:
    """Issue one request; failures are reported through Locust's `request` event."""
    kwargs = spec.client_kwargs()
    if not fast:
        kwargs["timeout"] = timeout_s
    client.request(spec.method, spec.path, **kwargs)


def build_user_class(plan: LoadPlan, recorder: Recorder) -> type[User]:
    """A Locust user class whose single task picks a request from the plan by weight."""
    fast = plan.user_class == "fast"
    specs = list(plan.requests)
    weights = [r.weight for r in specs]

    def send(user: Any) -> None:
        spec = specs[0] if len(specs) == 1 else random.choices(specs, weights)[0]
        recorder.started += 1
        _send(user.client, spec, plan.timeout_s, fast)

    attrs: dict[str, Any] = {"host": plan.host, "tasks": [send], "abstract": False}
    if plan.wait_max_s > 0:
        attrs["wait_time"] = between(plan.wait_min_s, plan.wait_max_s)
    else:
        attrs["wait_time"] = constant(0)
    if fast:
        attrs["network_timeout"] = plan.timeout_s
        attrs["connection_timeout"] = plan.timeout_s
    return type("PlanUser", (FastHttpUser if fast else HttpUser,), attrs)


class ChildRun:
    """One run: start users, stop at the deadline or on a signal, write what was measured."""

    def __init__(self, plan: LoadPlan, out_dir: Path) -> None:
        self.plan = plan
        self.out_dir = out_dir
        self.recorder = Recorder(plan)
        self.drain_s = min(plan.timeout_s, DRAIN_CAP_S)
        self.env = Environment(
            user_classes=[build_user_class(plan, self.recorder)],
            events=locust.events,
            host=plan.host,
            stop_timeout=self.drain_s,
        )
        self.env.events.request.add_listener(self.recorder.on_request)
        self.runner = self.env.create_local_runner()
        self.stop_event = gevent.event.Event()
        self.hurry = gevent.event.Event()
        self.signal_watchers: list[Any] = []
        self.reason = "duration reached"
        self.stopped_early = False
        self.users_at: dict[int, int] = {}
        self.started_at = 0.0
        self.measure_end = 0.0
        self.write_lock = _real_lock()
        self.written = False

    def execute(self) -> int:
        """Run the plan to the end (or to a signal) and write the results."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            self.signal_watchers.append(gevent.signal_handler(sig, self._on_signal, sig))
        self.started_at = time.time()
        self.recorder.t0 = self.started_at
        _real_start_thread(self._watchdog, ())
        _print_line({"event": "start", "t": 0.0})
        self.runner.start(self.plan.users, spawn_rate=self.plan.spawn_rate)
        ticker = gevent.spawn(self._tick_loop)
        self.stop_event.wait(timeout=self.plan.duration_s)
        self.measure_end = min(time.time() - self.started_at, float(self.plan.duration_s))
        self.users_at.setdefault(int(self.measure_end), self.runner.user_count)
        self.stop_event.set()
        self._stop_runner()
        ticker.kill(block=False)
        _print_line({"event": "end", "t": round(time.time() - self.started_at, 3)})
        self.write()
        return 0

    def _on_signal(self, sig: signal.Signals) -> None:
        """Asked to stop: end now, skip waiting for in-flight requests, keep what was measured."""
        self.env.stop_timeout = None
        self.hurry.set()
        if not self.stop_event.is_set():
            self.stopped_early = True
            self.reason = f"{signal.Signals(sig).name} received"
            self.stop_event.set()

    def _stop_runner(self) -> None:
        """Let in-flight requests finish for at most `drain_s` (none once signalled)."""
        quitter = gevent.spawn(self.runner.quit)
        gevent.wait([quitter, self.hurry], timeout=self.drain_s + 3.0, count=1)
        if not quitter.ready():
            self.runner.user_greenlets.kill(block=False)  # results are written; exit follows

    def _tick_loop(self) -> None:
        """Once a second: note the user count and print a progress line for the parent."""
        last = int(self.plan.duration_s) + 1
        for second in range(1, last + 1):
            delay = self.started_at + second - time.time()
            if self.stop_event.wait(timeout=max(delay, 0.0)):
                return
            self._emit_progress(second)

    def _emit_progress(self, second: int) -> None:
        rec = self.recorder
        window, rec.tick_latencies = rec.tick_latencies, []
        users = self.runner.user_count
        self.users_at[second - 1] = users
        p95 = float(np.percentile(window, 95)) if window else None
        line = {"t": round(time.time() - self.started_at, 3), "users": users, "rps": len(window)}
        _print_line({**line, "p95": p95, "errors": rec.errors})

    def _watchdog(self) -> None:
        """Real OS thread: if the run is still alive long past its end, flush and exit hard."""
        _real_sleep(self.plan.duration_s + self.plan.timeout_s + WATCHDOG_MARGIN_S)
        if not self.written:
            self.stopped_early = True
            self.reason = "watchdog: the run did not end in time; " + self.reason
            self.measure_end = self.measure_end or self.plan.duration_s
            self.write()
        _flush_and_exit(EXIT_WATCHDOG)

    def write(self) -> None:
        """Write samples then summary (the summary's presence marks a complete result)."""
        if not self.write_lock.acquire(timeout=10.0):
            return
        try:
            if self.written:
                return
            arrays = measured_arrays(list(self.recorder.rows), self.measure_end)
            kinds = measured_kinds(arrays, list(self.recorder.kinds))
            summary = json.dumps(self.summary(arrays, kinds), indent=2).encode()
            _atomic_write(self.out_dir / "samples.npz", lambda fh: np.savez(fh, **arrays))
            _atomic_write(self.out_dir / "summary.json", lambda fh: fh.write(summary))
            self.written = True
        finally:
            self.write_lock.release()

    def summary(self, arrays: dict[str, np.ndarray], kinds: list[dict]) -> dict[str, Any]:
        """Everything about the run except the per-request samples."""
        rec = self.recorder
        reason = self.reason
        if arrays["start"].size == 0:
            reason += "; no request completed in the measured window"
            reason += f" (first error: {rec.first_error})" if rec.first_error else ""
        return {
            "started_at": self.started_at,
            "ended_at": time.time(),
            "measure_start": self.plan.warmup_s,
            "measure_end": self.measure_end,
            "request_names": list(rec.names),
            "error_kinds": kinds,
            "series": per_second_series(arrays, self.users_at),
            "warmup_requests": rec.warmup_requests,
            "unfinished_requests": max(rec.started - rec.finished, 0),
            "stopped_early": self.stopped_early,
            "reason": reason,
        }


def _print_line(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


def _flush_and_exit(code: int) -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def main(argv: list[str]) -> int:
    """Entry point: `locust_child PLAN.json OUT_DIR`."""
    if len(argv) != 3:
        sys.stderr.write("usage: python -m infratest.workloads.locust_child PLAN.json OUT_DIR\n")
        return 2
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    plan = LoadPlan.from_json(Path(argv[1]).read_text())
    out_dir = Path(argv[2])
    out_dir.mkdir(parents=True, exist_ok=True)
    return ChildRun(plan, out_dir).execute()


if __name__ == "__main__":
    # Exit hard: gevent greenlets of a killed runner must not keep the interpreter alive.
    _flush_and_exit(main(sys.argv))
