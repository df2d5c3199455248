"""Does spreading the load over Locust workers raise the request rate infratest can offer?

    python benchmarks/scale_out.py [--users 16] [--duration 8] [--delay 0.0] [--rounds 2]

One Locust process drives about one core, so a generator-bound run should gain about N x
with N workers on N free cores. This script starts ONE loopback target, then alternates
runs with 1 worker (today's single process), 2 workers and `auto` (one per core) with the
same users, duration and zero think time, and prints req/s, the ratio to one worker against
the goal ratio >= 0.8 x N, and how far the merged p50 is from the single process's.

On a machine whose cores are shared with the target (as here) the target and the workers
compete for the same CPU: the ratio then shows that contention, not the workers' limit.
It is a measurement, not a test: it exits 0 whether or not the goal is met.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))  # so `tests.support` imports when run as a script

from infratest.hosts import free_port  # noqa: E402
from infratest.workloads.fleet import FleetSettings  # noqa: E402
from infratest.workloads.fleet_runner import run_fleet  # noqa: E402
from infratest.workloads.load_plan import LoadPlan, RequestSpec  # noqa: E402
from infratest.workloads.load_runner import LoadRun, run_load  # noqa: E402
from infratest.workloads.worker_policy import WorkerPolicy  # noqa: E402
from tests.support.servers import start_server  # noqa: E402

GOAL_PER_WORKER = 0.8


@dataclass(frozen=True)
class Measurement:
    workers: int
    rps: float
    p50_ms: float
    cpu_peak: float


def _measure(run: LoadRun, workers: int) -> Measurement:
    record = run.record
    values, counts = record.successful.pooled()
    total = int(counts.sum())
    rps = total / run.measured_seconds if run.measured_seconds else 0.0
    half = (counts.cumsum() >= total / 2).argmax() if total else 0
    p50 = float(values[half]) * 1000 if total else float("nan")
    return Measurement(workers, rps, p50, run.generator_cpu_peak)


def run_once(url: str, workers: int, users: int, duration: float) -> Measurement:
    plan = LoadPlan(url, (RequestSpec("GET", "/work"),), users=users, duration_s=duration,
                    warmup_s=1.0, workers=workers)  # fmt: skip
    if workers == 1:
        return _measure(run_load(plan), 1)
    fleet = FleetSettings(local_workers=workers, bind_host="127.0.0.1", port=free_port())
    policy = WorkerPolicy(("127.0.0.1",), users, duration)
    return _measure(run_fleet(plan, fleet, policy), workers)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--delay", type=float, default=0.0, help="target service time (s)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    auto = max(os.cpu_count() or 1, 1)
    levels = sorted({1, 2, auto})
    print(f"cores: {auto} (auto = {auto} workers); users {args.users}, {args.duration:g} s, "
          f"target delay {args.delay * 1000:g} ms, zero think time")  # fmt: skip
    results: dict[int, list[Measurement]] = {n: [] for n in levels}
    with start_server(["--delay", str(args.delay)]) as server:
        for round_no in range(1, args.rounds + 1):
            for n in levels:
                m = run_once(server.url, n, args.users, args.duration)
                results[n].append(m)
                print(f"round {round_no}  workers {n}: {m.rps:8.1f} req/s  p50 {m.p50_ms:7.2f} ms"
                      f"  generator cpu peak {m.cpu_peak:.2f}")  # fmt: skip
    base_rps = statistics.median(m.rps for m in results[1])
    base_p50 = statistics.median(m.p50_ms for m in results[1])
    print("\nworkers   req/s   ratio   goal    p50 diff vs 1 worker")
    for n in levels:
        rps = statistics.median(m.rps for m in results[n])
        p50 = statistics.median(m.p50_ms for m in results[n])
        goal = GOAL_PER_WORKER * n if n > 1 else 1.0
        print(f"{n:7d} {rps:7.1f} {rps / base_rps:7.2f} {goal:6.1f}   {p50 - base_p50:+.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
