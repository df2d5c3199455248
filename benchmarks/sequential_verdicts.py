"""Can a load check be re-decided every second and stopped early without lying? Goals:

1. true p95 exactly at the bound, independent requests, a look every second (100 req/s,
   up to 60 s): false passes (upper bound below the bound at any look) <= 5%;
2. the same with slow requests in bursts (mean runs of 50 requests);
3. true p95 at half the bound (lognormal, sigma 0.5): median samples to pass <= 3x the
   fixed-sample minimum of 59 (177);
4. final p95 and error-rate (tail share over the bound) intervals of 1,600 requests with
   bursts of ~10 and ~50 requests, true tail share 6.5%: each end covers >= 95%.

Beside each figure the naive rule: the fixed-sample `stats.quantile_interval` /
`proportion_interval` (re-checked at every look in 1-2). Bursts come from a two-state
Markov chain (tests/support/bursty_latency.py): 20% of requests are in slow runs that
exceed the bound 20% of the time; part 4 adds a harsher 10%-slow / 40%-exceed variant.

    python benchmarks/sequential_verdicts.py [--runs 2000] [--quick] [--workers 2]

Pure simulation (no I/O, no network); seeded, so figures repeat. Always exits 0.
"""

from __future__ import annotations

import argparse
import math
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # so `tests.support` imports and this checkout is used

from infratest.stats import proportion_interval, quantile_interval  # noqa: E402
from infratest.windows import LatencyWindows, proportion_over_windows  # noqa: E402
from tests.support.bursty_latency import BurstModel, fill  # noqa: E402

RATE = 100  # requests per second = per window
LOOKS = 60
CONFIDENCE = 0.95
BOUND_S = 0.2
FIXED_SAMPLE_MINIMUM = 59
MIN_LOOK = 5  # the monitor never passes before `min_duration` (default 5 s)


@dataclass(frozen=True)
class StopOutcome:
    """Of one run with the true p95 at the bound: did each rule ever pass?"""

    anytime: bool  # the final-figure interval, looked at from the first second
    rule: bool  # what the monitor does: cautious design effect, no pass before MIN_LOOK
    naive: bool


def _stop_run(model: BurstModel, seed: int) -> StopOutcome:
    rng = np.random.default_rng(seed)
    x = model.latencies(rng, LOOKS * RATE)
    store = LatencyWindows()
    anytime = rule = naive = False
    for look in range(1, LOOKS + 1):
        fill(store, look - 1, x[(look - 1) * RATE : look * RATE])
        if not naive:
            naive = quantile_interval(x[: look * RATE], 0.95, CONFIDENCE).high < BOUND_S
        if not anytime:
            anytime = store.quantile(0.95, CONFIDENCE).high < BOUND_S
        if not rule and look >= MIN_LOOK:
            rule = store.quantile(0.95, CONFIDENCE, cautious=True).high < BOUND_S
        if anytime and rule and naive:
            break
    return StopOutcome(anytime, rule, naive)


def _stop_batch(args: tuple[BurstModel, list[int]]) -> list[StopOutcome]:
    model, seeds = args
    return [_stop_run(model, s) for s in seeds]


def _samples_to_pass(rate: int, seed: int, cautious: bool) -> int | None:
    """Samples seen at the first look that passes p95 < bound (true p95 = bound / 2)."""
    rng = np.random.default_rng(seed)
    sigma = 0.5
    mu = math.log(BOUND_S / 2.0) - 1.6448536269514722 * sigma
    store = LatencyWindows()
    for look in range(LOOKS):
        x = np.round(rng.lognormal(mu, sigma, rate), 4)
        fill(store, look, x)
        if store.quantile(0.95, CONFIDENCE, cautious=cautious).high < BOUND_S:
            return store.trials()
    return None


def _samples_batch(args: tuple[int, bool, list[int]]) -> list[int | None]:
    rate, cautious, seeds = args
    return [_samples_to_pass(rate, s, cautious) for s in seeds]


def _coverage_run(model: BurstModel, seed: int) -> tuple[bool, ...]:
    rng = np.random.default_rng(seed)
    x = model.latencies(rng, 16 * RATE)
    store = LatencyWindows()
    for w in range(16):
        fill(store, w, x[w * RATE : (w + 1) * RATE])
    truth, share = model.quantile(0.95), model.tail_share
    p95 = store.quantile(0.95, CONFIDENCE)
    err = proportion_over_windows(*store.exceedances(BOUND_S), CONFIDENCE)
    old = quantile_interval(x, 0.95, CONFIDENCE)
    old_err = proportion_interval(int(np.sum(x >= BOUND_S)), x.size, CONFIDENCE)
    return (
        p95.low <= truth,
        p95.high >= truth,
        err.low <= share,
        err.high >= share,
        old.low <= truth,
        old.high >= truth,
        old_err.low <= share,
        old_err.high >= share,
    )


def _coverage_batch(args: tuple[BurstModel, list[int]]) -> list[tuple[bool, ...]]:
    model, seeds = args
    return [_coverage_run(model, s) for s in seeds]


def _chunks(seeds: range, parts: int) -> list[list[int]]:
    return [list(seeds[i::parts]) for i in range(parts)]


def _stopping_rows(pool: ProcessPoolExecutor, runs: int, parts: int) -> None:
    print(f"\n1-2. true p95 = bound, look every 1 s, {RATE} req/s, up to {LOOKS} s, {runs} runs")
    print(f"{'requests':<22}{'every look':>11}{'the rule':>14}{'naive':>9}  goal")
    models = {
        "independent": (BurstModel.independent(0.05), "<= 5%"),
        "bursts of ~50": (BurstModel.bursty(0.05, 50.0), "<= 5% (the rule)"),
    }
    for i, (name, (model, goal)) in enumerate(models.items()):
        seeds = range(10_000 * (i + 1), 10_000 * (i + 1) + runs)
        out = [
            o for b in pool.map(_stop_batch, [(model, c) for c in _chunks(seeds, parts)]) for o in b
        ]
        rate = [np.mean([getattr(o, f) for o in out]) for f in ("anytime", "rule", "naive")]
        print(f"{name:<22}{rate[0]:>11.1%}{rate[1]:>14.1%}{rate[2]:>9.1%}  {goal}")


def _samples_rows(pool: ProcessPoolExecutor, runs: int, parts: int) -> None:
    print(f"\n3. true p95 = bound / 2 (lognormal sigma 0.5), samples to pass, {runs} runs")
    print(f"{'looks':<30}{'median':>11}{'x 59':>14}{'never':>9}  goal")
    for rate, cautious in ((RATE, False), (10, False), (RATE, True), (10, True)):
        seeds = range(50_000, 50_000 + runs)
        jobs = [(rate, cautious, c) for c in _chunks(seeds, parts)]
        got = [n for b in pool.map(_samples_batch, jobs) for n in b]
        passed = [n for n in got if n is not None]
        median = float(np.median(passed)) if passed else math.inf
        never = 1.0 - len(passed) / len(got)
        label = f"every {rate} requests" + (", cautious" if cautious else "")
        ratio = median / FIXED_SAMPLE_MINIMUM
        print(f"{label:<30}{median:>11.0f}{ratio:>13.1f}x{never:>9.1%}  <= 177 (3x)")


def _coverage_rows(pool: ProcessPoolExecutor, runs: int, parts: int) -> None:
    print(f"\n4. coverage at 1,600 requests, true tail share 6.5%, {runs} runs (low / high end)")
    print(f"{'requests':<22}{'p95 this':>14}{'p95 old':>14}{'rate this':>14}{'rate old':>14}")
    models = {
        "independent": BurstModel.independent(0.065),
        "bursts of ~10": BurstModel.bursty(0.065, 10.0),
        "bursts of ~50": BurstModel.bursty(0.065, 50.0),
        "~50, 10% slow x 40%": BurstModel.bursty(0.065, 50.0, slow_share=0.1, over_slow=0.4),
    }
    for i, (name, model) in enumerate(models.items()):
        seeds = range(90_000 + 10_000 * i, 90_000 + 10_000 * i + runs)
        hits = [
            h
            for b in pool.map(_coverage_batch, [(model, c) for c in _chunks(seeds, parts)])
            for h in b
        ]
        cov = np.mean(np.array(hits, dtype=float), axis=0)
        cells = [f"{cov[j]:.1%}/{cov[j + 1]:.1%}" for j in (0, 4, 2, 6)]
        print(f"{name:<22}" + "".join(f"{c:>14}" for c in cells))
    print("goal: >= 95% at each end")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000, help="runs per stopping-rule row")
    parser.add_argument("--quick", action="store_true", help="200 runs per stopping-rule row")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    runs = 200 if args.quick else args.runs
    parts = max(1, args.workers) * 4
    with ProcessPoolExecutor(max_workers=max(1, args.workers)) as pool:
        _stopping_rows(pool, runs, parts)
        _samples_rows(pool, max(100, runs // 10), parts)
        _coverage_rows(pool, max(200, runs // 2), parts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
