"""What a warm load generator saves between consecutive load runs.

    python benchmarks/warm_generator.py [--runs 6] [--duration 2]

A sweep step, a capacity step or the next load assumption each start a load run. A fresh
Locust child pays Python's start and Locust's import before its first request; a warm one
(the session's `GeneratorPool`) has paid it once. This script runs the same short plan
`--runs` times against one loopback behaviour server, alternating fresh and warm children
(the first warm run, which starts the pool's child, is reported apart), and prints the wall
time per run beyond the plan's duration for each, and their ratio.

It is a measurement, not a test: it exits 0 whatever it finds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))  # so `tests.support` imports when run as a script

from infratest.workloads.load_plan import LoadPlan, RequestSpec  # noqa: E402
from infratest.workloads.load_runner import run_load  # noqa: E402
from infratest.workloads.warm_generator import GeneratorPool  # noqa: E402
from tests.support.servers import start_server  # noqa: E402


def _overhead(plan: LoadPlan, pool: GeneratorPool | None) -> float:
    """Wall seconds of one run beyond its planned duration."""
    began = time.monotonic()
    run_load(plan, generators=pool)
    return time.monotonic() - began - plan.duration_s


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=6, help="runs of each kind")
    parser.add_argument("--duration", type=float, default=2.0, help="seconds per run")
    args = parser.parse_args()
    server = start_server(["--delay", "0.005"])
    pool = GeneratorPool()
    try:
        plan = LoadPlan(host=server.url, requests=(RequestSpec(),), users=4,
                        duration_s=args.duration)  # fmt: skip
        first_warm = _overhead(plan, pool)
        fresh, warm = [], []
        for _ in range(args.runs):
            fresh.append(_overhead(plan, None))
            warm.append(_overhead(plan, pool))
    finally:
        pool.close()
        server.stop()
    f, w = statistics.median(fresh), statistics.median(warm)
    print(f"{args.runs} runs of {args.duration:g} s each kind, 4 users, one loopback server")
    print(f"fresh child:  {f:.2f} s beyond the duration per run (median)")
    print(f"warm child:   {w:.2f} s beyond the duration per run (median); "
          f"its first run, which starts the child, {first_warm:.2f} s")  # fmt: skip
    print(f"saved per run: {f - w:.2f} s; warm/fresh overhead ratio {w / f:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
