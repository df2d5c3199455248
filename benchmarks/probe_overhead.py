"""How much CPU does the probe sampler cost? Goal: under 1% of one core at the default interval.

Samples this very process (optionally with idle children, to include tree walking) for a
while, and reports two figures: the sampler thread's own CPU time (``time.thread_time``
inside the thread) and the whole process's CPU over the run, which also counts the main
thread (idle here, blocked on an Event) and is therefore an upper bound.

    python -m benchmarks.probe_overhead [--seconds 10] [--interval 0.25] [--children 0]

(run from the repository root, so this checkout's infratest is the one imported).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time

import psutil

from infratest.probes import DEFAULT_INTERVAL_S, ProbeSampler

IDLE_CHILD = "import sys; sys.stdin.read()"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--interval", type=float, default=DEFAULT_INTERVAL_S)
    parser.add_argument("--children", type=int, default=0, help="idle child processes")
    return parser.parse_args()


def spawn_children(count: int) -> list[subprocess.Popen]:
    """Idle children that exit when their stdin closes."""
    return [
        subprocess.Popen([sys.executable, "-c", IDLE_CHILD], stdin=subprocess.PIPE)
        for _ in range(count)
    ]


def reap(children: list[subprocess.Popen]) -> None:
    for child in children:
        if child.stdin is not None:
            child.stdin.close()
    for child in children:
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(timeout=5)


def measure(seconds: float, interval: float) -> tuple[float, float, int, float]:
    """(sampler thread CPU s, process CPU s, samples, wall s) for one sampling run."""
    me = psutil.Process()
    before = sum(me.cpu_times()[:2])
    started = time.monotonic()
    with ProbeSampler(me, interval) as sampler:
        threading.Event().wait(seconds)  # the run itself: the main thread stays idle
    wall = time.monotonic() - started
    series = sampler.stop()
    process_cpu = sum(me.cpu_times()[:2]) - before
    return series.sampler_cpu, process_cpu, int(series.t.size), wall


def main() -> int:
    args = parse_args()
    children = spawn_children(args.children)
    try:
        thread_cpu, process_cpu, samples, wall = measure(args.seconds, args.interval)
    finally:
        reap(children)
    print(f"interval {args.interval:g} s, {samples} samples in {wall:.2f} s")
    print(f"tree: this process + {args.children} children; host has {len(psutil.pids())} pids")
    print(f"per sample: {thread_cpu / max(samples, 1) * 1e3:.3f} ms of CPU")
    for label, cpu in (("sampler thread", thread_cpu), ("whole process", process_cpu)):
        cores = cpu / wall
        print(f"{label:>15}: {cores:.5f} cores = {cores * 100:.3f}% of one core")
    verdict = "OK" if thread_cpu / wall < 0.01 else "OVER BUDGET"
    print(f"goal < 1% of one core (sampler thread): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
