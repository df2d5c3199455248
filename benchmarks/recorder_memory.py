"""Does the load generator's memory stay flat however long a run is?

    python benchmarks/recorder_memory.py [--short 10] [--long 120] [--users 10]

The Locust child keeps per-second HdrHistograms and hands them to the parent once a second,
so its memory should not grow with the number of requests. This script runs maximum-rate
load (no think time) against ONE loopback demo target twice in one invocation — a short run
as the reference, then a long one — sampling the child's resident memory every 0.25 s, and
prints both peaks, the growth, and the growth per request against the goal (under 10 MB;
the recorder this replaced kept every request, about 76 B each).

It is a measurement, not a test: it exits 0 whether or not the goal is met.
"""

from __future__ import annotations

import argparse
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))  # so `tests.support` imports when run as a script

import psutil  # noqa: E402

from infratest.workloads.load_plan import LoadPlan, RequestSpec  # noqa: E402
from infratest.workloads.load_runner import run_load  # noqa: E402
from tests.support.servers import start_server  # noqa: E402

GOAL_GROWTH_BYTES = 10e6
OLD_BYTES_PER_REQUEST = 76
SAMPLE_S = 0.25


@dataclass(frozen=True)
class Peak:
    """One run: how long, how many requests, the child's largest RSS."""

    seconds: float
    requests: int
    peak_rss: int


class ChildMemory(threading.Thread):
    """Largest RSS of this process's Locust child while a run lasts."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0
        self.done = threading.Event()

    def run(self) -> None:
        me = psutil.Process()
        while not self.done.wait(SAMPLE_S):  # bounded: the caller sets done after the run
            for child in me.children(recursive=True):
                try:
                    if "locust_child" in " ".join(child.cmdline()):
                        self.peak = max(self.peak, child.memory_info().rss)
                except psutil.Error:
                    continue


def measure(url: str, seconds: float, users: int) -> Peak:
    plan = LoadPlan(
        host=url, requests=(RequestSpec("GET", "/healthz"),), users=users, duration_s=seconds
    )
    watcher = ChildMemory()
    watcher.start()
    try:
        run = run_load(plan)
    finally:
        watcher.done.set()
        watcher.join(5)
    outcomes = run.record.outcomes
    return Peak(seconds, outcomes.total_ok + outcomes.total_failed, watcher.peak)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", type=float, default=10.0)
    parser.add_argument("--long", type=float, default=120.0)
    parser.add_argument("--users", type=int, default=10)
    args = parser.parse_args()
    server = start_server(["--load-delay", "0"], module="infratest.demo")
    try:
        short = measure(server.url, args.short, args.users)
        long = measure(server.url, args.long, args.users)
    finally:
        server.stop()
    growth = long.peak_rss - short.peak_rss
    extra = max(long.requests - short.requests, 1)
    print(f"{'run':>8} {'requests':>10} {'req/s':>8} {'child peak RSS':>15}")
    for peak in (short, long):
        rate = peak.requests / peak.seconds
        rss = peak.peak_rss / 1e6
        print(f"{peak.seconds:>7.0f}s {peak.requests:>10} {rate:>8.0f} {rss:>12.1f} MB")
    print(
        f"growth: {growth / 1e6:.2f} MB over {extra} more requests = {growth / extra:.2f} B/request"
    )
    verdict = "met" if growth < GOAL_GROWTH_BYTES else "NOT met"
    print(f"goal: growth < {GOAL_GROWTH_BYTES / 1e6:.0f} MB -> {verdict}")
    old = OLD_BYTES_PER_REQUEST * extra
    print(f"the per-request recorder it replaced would have grown about {old / 1e6:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
