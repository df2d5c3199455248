"""How small a p95 regression can a `compare:` detect? Goals, for 30 s of load at 100 req/s
laid out in R=4 ABBA rounds (15 one-second windows a side), at 95% confidence:

1. identical targets: false regressions (relative p95 delta `low` > 0) <= 5%;
2. the smallest candidate slow-down (all latencies x (1 + r), r on a 1%..40% grid) whose
   relative p95 delta has `low` > 0 in >= 80% of runs (80% power), for independent
   requests and for slow requests in bursts (10% of requests in runs of ~10 taking 3x);
3. the same false-regression rate under a drift both targets share (x2 from halfway on),
   interleaved and in a sequential A-then-B layout (which reads the drift as a regression).

Latencies are lognormal (median 50 ms, sigma 0.5) as tests/support/abba.py simulates them;
`simulate` takes any source of (baseline, candidate) pairs, so a real-server pair can be
measured with the same rule.

    python benchmarks/compare_power.py [--runs 200] [--quick] [--workers 2]

4. the same rule on real loopback servers through infratest's own runner (`--real-runs`):
   identical 50 ms servers, and candidates 10% and 20% slower.

The simulation is seeded, so its figures repeat; the real pairs are measured. Always exits 0.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # so `tests.support` imports and this checkout is used

from infratest.deltas import SideSample, delta_intervals  # noqa: E402
from tests.support.abba import Layout, Scenario, alternating, sequential, simulate_pair  # noqa: E402

CONFIDENCE = 0.95
SECONDS = 30
ROUNDS = 4
GRID = (0.01, 0.02, 0.03, 0.05, 0.07, 0.10, 0.12, 0.15, 0.20, 0.25, 0.30, 0.40)
POWER_GOAL = 0.8
BURST_RUN = 10.0

PairSource = Callable[[int], tuple[SideSample, SideSample]]


@dataclass(frozen=True)
class Outcome:
    """Of one comparison: the relative p95 delta and whether it reads as a regression."""

    value: float
    low: float
    high: float

    @property
    def regression(self) -> bool:
        return self.low > 0.0


def simulated_pair(layout: Layout, scenario: Scenario, seed: int) -> tuple[SideSample, SideSample]:
    """One simulated comparison; a PairSource once layout and scenario are bound."""
    return simulate_pair(np.random.default_rng(seed), layout, scenario)


def _one(source: PairSource, seed: int) -> Outcome:
    a, b = source(seed)
    rel = delta_intervals(a, b, CONFIDENCE, ("latency.p95",), seed=seed)["latency.p95"].relative
    return Outcome(rel.value, rel.low, rel.high)


def _batch(args: tuple[PairSource, list[int]]) -> list[Outcome]:
    source, seeds = args
    return [_one(source, s) for s in seeds]


def simulate(
    source: PairSource, runs: int, pool: ProcessPoolExecutor, first_seed: int = 0, parts: int = 8
) -> list[Outcome]:
    """`runs` comparisons from `source` (seeded first_seed, first_seed + 1, ...) in `pool`."""
    seeds = list(range(first_seed, first_seed + runs))
    chunks = [(source, seeds[i::parts]) for i in range(parts) if seeds[i::parts]]
    return [o for batch in pool.map(_batch, chunks) for o in batch]


def regression_share(outcomes: Sequence[Outcome]) -> float:
    return float(np.mean([o.regression for o in outcomes]))


def power_curve(
    run: float, runs: int, pool: ProcessPoolExecutor, grid: Sequence[float] = GRID
) -> dict[float, float]:
    """Share of runs flagged a regression, per slow-down r of the candidate."""
    layout = alternating(SECONDS, ROUNDS)
    out: dict[float, float] = {}
    for i, r in enumerate(grid):
        source = partial(simulated_pair, layout, Scenario(candidate_factor=1.0 + r, run=run))
        out[r] = regression_share(simulate(source, runs, pool, first_seed=10_000 * (i + 1)))
    return out


def smallest_detected(curve: dict[float, float], goal: float = POWER_GOAL) -> float | None:
    """Smallest r on the grid detected with power >= goal (and every larger r too)."""
    ok = [r for r in sorted(curve) if all(curve[s] >= goal for s in curve if s >= r)]
    return ok[0] if ok else None


def _false_rows(pool: ProcessPoolExecutor, runs: int) -> None:
    print(f"\n1, 3. identical targets, {runs} runs: share with relative p95 low > 0 (goal <= 5%)")
    rows = {
        "independent, R=4": (alternating(SECONDS, ROUNDS), Scenario()),
        "bursts of ~10, R=4": (alternating(SECONDS, ROUNDS), Scenario(run=BURST_RUN)),
        "independent, R=1": (alternating(SECONDS, 1), Scenario()),
        "drift x2 at half, R=4": (alternating(SECONDS, ROUNDS), Scenario(drift_factor=2.0)),
        "drift x2, sequential": (sequential(SECONDS), Scenario(drift_factor=2.0)),
        "closed loop, ramp x3, R=4": (
            alternating(SECONDS, ROUNDS),
            Scenario(ramp_factor=3.0, closed_loop=True),
        ),
    }
    print(f"{'targets':<26}{'false regr.':>12}{'low<0<high':>12}{'median width':>14}")
    for i, (name, (layout, scenario)) in enumerate(rows.items()):
        got = simulate(partial(simulated_pair, layout, scenario), runs, pool, 500_000 + i * runs)
        covered = np.mean([o.low <= 0.0 <= o.high for o in got])
        width = np.median([o.high - o.low for o in got])
        print(f"{name:<26}{regression_share(got):>12.1%}{covered:>12.1%}{width:>13.1%}")


def _power_rows(pool: ProcessPoolExecutor, runs: int) -> None:
    print(f"\n2. share of {runs} runs flagged a regression (relative p95 low > 0), per slow-down")
    curves = {
        "independent": power_curve(1.0, runs, pool),
        "bursts of ~10": power_curve(10.0, runs, pool),
    }
    print(f"{'slow-down':<12}" + "".join(f"{name:>16}" for name in curves))
    for r in GRID:
        print(f"{r:<12.0%}" + "".join(f"{c[r]:>16.1%}" for c in curves.values()))
    for name, curve in curves.items():
        found = smallest_detected(curve)
        shown = f"{found:.0%}" if found is not None else f"> {GRID[-1]:.0%}"
        print(f"smallest p95 regression detected with {POWER_GOAL:.0%} power, {name}: {shown}")


REAL_PAIRS = {  # name: (baseline flags, candidate flags) of tests/support/behaviour_server.py
    "identical, 50 ms": (("--delay", "0.05"), ("--delay", "0.05")),
    "+10%, 50 vs 55 ms": (("--delay", "0.05"), ("--delay", "0.055")),
    "+20%, 50 vs 60 ms": (("--delay", "0.05"), ("--delay", "0.06")),
}


def _real_rows(runs: int) -> None:
    """The same rule on real servers: `compare` through infratest's runner, 30 s at 100/s."""
    import tempfile

    from infratest.execution import Runner
    from tests.support.assumptions import pair_config, run_assumption

    print(f"\n4. real loopback servers, {runs} runs each: rate 100/s for {SECONDS} s, R={ROUNDS}")
    print(f"{'pair':<22}{'flagged':>9}  relative p95 change per run (95% one-sided bounds)")
    assumption = (
        f"load: {{rate: 100/s, duration: {SECONDS}s, requests: [GET /work]}}\n"
        f"compare: {{candidate: cand, rounds: {ROUNDS}}}\nexpect: {{latency.p95: <= +0%}}\n"
    )
    for name, (base, cand) in REAL_PAIRS.items():
        with tempfile.TemporaryDirectory() as folder:
            config = pair_config(Path(folder), base, cand)
            runner = Runner(config)
            try:
                deltas = [
                    run_assumption(Path(folder), config, assumption, runner=runner)
                    .measurements.changes["latency.p95"]
                    .relative
                    for _ in range(runs)
                ]
            finally:
                runner.close()
        flagged = sum(d.low > 0 for d in deltas)
        shown = ", ".join(f"{d.value:+.1%} [{d.low:+.1%}, {d.high:+.1%}]" for d in deltas)
        print(f"{name:<22}{flagged:>5}/{runs:<3}  {shown}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="runs per grid point")
    parser.add_argument("--quick", action="store_true", help="50 runs per grid point")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--real-runs", type=int, default=3, help="runs per real pair (0: none)")
    args = parser.parse_args()
    runs = 50 if args.quick else args.runs
    print(f"{SECONDS} s at 100 req/s, {CONFIDENCE:.0%} one-sided bounds, 2000 resamples")
    with ProcessPoolExecutor(max_workers=max(1, args.workers)) as pool:
        _false_rows(pool, 2 * runs)
        _power_rows(pool, runs)
    if args.real_runs > 0:
        _real_rows(args.real_runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
