"""How well does one generator process keep an open-model (arrival-rate) schedule, and what
does the open model show that the closed model hides?

    python benchmarks/open_loop.py [--duration 6] [--max-rate 8000]

1. Asked vs achieved rate at 100/s and 1000/s against a fast loopback target (uniform
   arrivals), with the scheduler's lag p99 and the generator's CPU.
2. The highest rate one generator sustains: the rate doubles (then bisects) until the run
   offers under 99% of its schedule or its lag p99 exceeds the default `max_lag`.
3. A server stalling 1 s every 5 s: p95/p99 at 50/s in rate mode vs 2 closed-model users.

It is a measurement, not a test: it exits 0 whatever it finds.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))  # so `tests.support` imports when run as a script

from infratest.workloads.load_plan import LoadPlan, RequestSpec  # noqa: E402
from infratest.workloads.load_runner import LoadRun, run_load  # noqa: E402
from infratest.workloads.saturation import DEFAULT_MAX_LAG_S, MIN_OFFERED  # noqa: E402
from tests.support.servers import start_server  # noqa: E402

STALL_FLAGS = ["--delay", "0.005", "--pause-every", "5", "--pause-for", "1"]
BISECT_STEPS = 3


@dataclass(frozen=True)
class RateFigures:
    """One open-model run, summarised."""

    asked: float
    achieved: float
    offered: float
    lag_p99_s: float
    cpu_peak: float

    @property
    def kept(self) -> bool:
        """Whether the generator kept its schedule (the run could pass)."""
        return self.offered >= MIN_OFFERED and self.lag_p99_s <= DEFAULT_MAX_LAG_S

    def line(self) -> str:
        return (
            f"asked {self.asked:7.0f}/s  achieved {self.achieved:8.1f}/s  "
            f"ratio {self.achieved / self.asked:.3f}  offered {self.offered:.3f}  "
            f"lag p99 {self.lag_p99_s * 1000:6.2f} ms  cpu {self.cpu_peak:.2f}  "
            f"{'kept' if self.kept else 'NOT kept'}"
        )


def _plan(url: str, duration: float, **kw: object) -> LoadPlan:
    return LoadPlan(host=url, requests=(RequestSpec(),), duration_s=duration, warmup_s=1.0, **kw)  # type: ignore[arg-type]


def rate_run(url: str, rate: float, duration: float) -> RateFigures:
    run = run_load(_plan(url, duration, users=1, rate_per_s=rate, arrivals="uniform"))
    arrivals = run.record.arrival_summary()
    assert arrivals is not None
    lag = arrivals.lag_p99_s if arrivals.lag_p99_s is not None else float("nan")
    achieved = arrivals.sent / max(run.measured_seconds, 1e-9)
    return RateFigures(rate, achieved, arrivals.offered_share, lag, run.generator_cpu_peak)


def highest_sustained(url: str, duration: float, start: float, limit: float) -> RateFigures:
    """Double the rate until the schedule is not kept, then bisect between the last two."""
    good: RateFigures | None = None
    rate = start
    while rate <= limit:
        figures = rate_run(url, rate, duration)
        print("  " + figures.line(), flush=True)
        if not figures.kept:
            break
        good, rate = figures, rate * 2
    if good is None or rate > limit:
        return good or figures
    low, high = good.asked, rate
    for _ in range(BISECT_STEPS):
        middle = (low + high) / 2
        figures = rate_run(url, middle, duration)
        print("  " + figures.line(), flush=True)
        if figures.kept:
            good, low = figures, middle
        else:
            high = middle
    return good


def _percentiles(run: LoadRun) -> tuple[float, float]:
    values, counts = run.record.everything.pooled()
    latencies = np.repeat(values, counts)
    p95, p99 = np.quantile(latencies, [0.95, 0.99])
    return float(p95), float(p99)


def stall_contrast(duration: float) -> None:
    server = start_server(STALL_FLAGS)
    try:
        opened = run_load(_plan(server.url, duration, users=1, rate_per_s=50.0))
        closed = run_load(_plan(server.url, duration, users=2))
    finally:
        server.stop()
    (o95, o99), (c95, c99) = _percentiles(opened), _percentiles(closed)
    print(f"  rate 50/s : p95 {o95 * 1000:7.1f} ms  p99 {o99 * 1000:7.1f} ms")
    print(f"  2 users   : p95 {c95 * 1000:7.1f} ms  p99 {c99 * 1000:7.1f} ms")
    print(f"  open/closed p99 ratio {o99 / max(c99, 1e-9):.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=6.0, help="seconds per run")
    parser.add_argument("--max-rate", type=float, default=8000.0, help="search ceiling, 1/s")
    args = parser.parse_args()
    server = start_server(["--delay", "0"])
    try:
        print("asked vs achieved (uniform arrivals, fast loopback target):")
        for rate in (100.0, 1000.0):
            print("  " + rate_run(server.url, rate, args.duration).line(), flush=True)
        print("highest rate one generator keeps (doubling, then bisecting):")
        best = highest_sustained(server.url, args.duration, 1000.0, args.max_rate)
        print(f"  => {best.line()}")
    finally:
        server.stop()
    print("a server stalling 1 s every 5 s, 20 s each:")
    stall_contrast(20.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
