"""Does `process.rss.growth` tell a leak from garbage-collector churn? Goals: no false FAIL in
20 short runs against a server that churns but does not leak, and a leak of 1 MB per 1k
requests at ~100 req/s (about 6 MB/min) FAILS the growth check in a 30 s run.

Both parts run real Locust load through `infratest.execution.Runner` against the managed
behaviour server (tests/support/behaviour_server.py) on 127.0.0.1, each run with a fresh
server, exactly as a scenario file would:

1. false positives: ``--runs`` runs of ``--duration`` s (4 users, wait 5..15 ms, 2 s warm-up)
   against ``--churn-kib 256`` (objects made and dropped per request, no leak), expecting the
   bundled scenarios' bound ``process.rss.growth < 5MB/min``;
2. detection: one ``--detect-duration`` s run at ~100 req/s (4 users, wait 30..50 ms) per leak
   size, with the same churn, plus a leak-free control. A leak is "detected" when the check
   FAILS (its whole 95% interval above the bound) for a bound that the control passes and no
   leak-free run fails; each interval is decided against 5 MB/min and the tighter 1 MB/min.

    python benchmarks/leak_detection.py [--runs 20] [--duration 10] [--detect-duration 30]

Every server is stopped when its run ends (also on Ctrl-C or SIGTERM). Always exits 0.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # so `tests.support` imports and this checkout is used

from infratest.stats import Interval  # noqa: E402
from infratest.targets.signals import install_signal_handlers  # noqa: E402
from infratest.verdict import Verdict, decide  # noqa: E402
from tests.support.assumptions import behaviour_config, run_assumption  # noqa: E402

MB_PER_MIN = 1e6 / 60.0  # bytes/s
BOUNDS_MB_MIN = (5.0, 1.0)  # the bundled scenarios' bound, and a tighter one
CHURN_KIB = 256
FP_LOAD = "users: 4, wait: [5ms, 15ms], warmup: 2s"
DETECT_LOAD = "users: 4, wait: [30ms, 50ms], warmup: 2s"
LEAKS_KIB = (0.0, 0.25, 0.5, 1.024, 2.0, 4.0)  # 0 is the leak-free control
GOAL_LEAK_KIB = 1.024  # 1 MB per 1k requests


@dataclass(frozen=True)
class RunFigures:
    """What one run measured: its verdict against its own expect, and the raw intervals."""

    verdict: Verdict
    growth: Interval | None
    throughput: Interval | None
    reason: str

    def against(self, bound_mb_min: float) -> Verdict:
        """The growth check's verdict against another bound, from the same interval."""
        if self.verdict == Verdict.ERROR or self.growth is None:
            return Verdict.ERROR if self.verdict == Verdict.ERROR else Verdict.INCONCLUSIVE
        return decide(self.growth, "<", bound_mb_min * MB_PER_MIN)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="false-positive runs")
    parser.add_argument("--duration", type=float, default=10.0, help="s per false-positive run")
    parser.add_argument("--detect-duration", type=float, default=30.0, help="s per leak run")
    return parser.parse_args()


def run_once(server_flags: list[str], load: str, bound_mb_min: float) -> RunFigures:
    """One run with a fresh server, which is stopped before this returns (or raises)."""
    with tempfile.TemporaryDirectory(prefix="leak-bench-") as tmp:
        where = Path(tmp)
        config = behaviour_config(where, *server_flags)
        assumption = (
            f"load: {{{load}, requests: [GET /x]}}\n"
            f"expect: {{process.rss.growth: < {bound_mb_min:g}MB/min}}"
        )
        result = run_assumption(where, config, assumption)
    values = result.measurements.values
    return RunFigures(
        result.outcome.verdict,
        values.get("process.rss.growth"),
        values.get("throughput"),
        result.outcome.reason,
    )


def mb_min(value: float) -> str:
    return f"{value / MB_PER_MIN:+7.2f}" if math.isfinite(value) else "    n/a"


def growth_text(growth: Interval | None) -> str:
    """'+0.12 [-0.80 .. +1.04]' in MB/min, the 95% interval in brackets."""
    if growth is None:
        return f"{'not measured':>31}"
    return f"{mb_min(growth.value)} [{mb_min(growth.low)} .. {mb_min(growth.high)}]"


def rate_text(throughput: Interval | None) -> str:
    return f"{throughput.value:7.1f}" if throughput is not None else "    n/a"


def false_positive_part(runs: int, duration: float) -> list[RunFigures]:
    """Part 1: the leak-free, churning server against the bundled 5 MB/min bound."""
    print(f"\n== 1. false positives: {runs} runs of {duration:g} s, --churn-kib {CHURN_KIB},")
    print(f"      no leak, {FP_LOAD}, expect process.rss.growth < 5MB/min")
    print(f"{'run':>4} {'req/s':>7}  {'growth MB/min [95% CI]':>31}  {'< 5MB/min':>12}  < 1MB/min")
    load = f"{FP_LOAD}, duration: {duration:g}s"
    figures = []
    for i in range(1, runs + 1):
        fig = run_once(["--churn-kib", str(CHURN_KIB)], load, BOUNDS_MB_MIN[0])
        figures.append(fig)
        line = f"{i:>4} {rate_text(fig.throughput)}  {growth_text(fig.growth)}"
        print(f"{line}  {fig.verdict.value:>12}  {fig.against(BOUNDS_MB_MIN[1]).value}")
        if fig.verdict == Verdict.ERROR:
            print(f"     error: {fig.reason}")
    return figures


def counts(verdicts: list[Verdict]) -> str:
    return ", ".join(f"{v.value} {verdicts.count(v)}" for v in Verdict if verdicts.count(v))


def detection_part(duration: float) -> dict[float, RunFigures]:
    """Part 2: one run per leak size (0 = control) at ~100 req/s, with the same churn."""
    print(f"\n== 2. detection: one {duration:g} s run per leak size, --churn-kib {CHURN_KIB},")
    print(f"      {DETECT_LOAD} (~100 req/s); expected = leak x measured req/s")
    head = f"{'leak KiB/req':>12} {'req/s':>7} {'expected':>8}  {'growth MB/min [95% CI]':>31}"
    print(f"{head}  {'< 5MB/min':>12}  < 1MB/min")
    load = f"{DETECT_LOAD}, duration: {duration:g}s"
    found: dict[float, RunFigures] = {}
    for leak in LEAKS_KIB:
        flags = ["--churn-kib", str(CHURN_KIB), "--leak-kib-per-request", f"{leak:g}"]
        fig = found[leak] = run_once(flags, load, BOUNDS_MB_MIN[0])
        rate = fig.throughput.value if fig.throughput is not None else math.nan
        expected = mb_min(leak * 1024 * rate)
        line = f"{leak:>12g} {rate_text(fig.throughput)} {expected:>8}  {growth_text(fig.growth)}"
        verdicts = [fig.against(b).value for b in BOUNDS_MB_MIN]
        print(f"{line}  {verdicts[0]:>12}  {verdicts[1]}")
        if fig.verdict == Verdict.ERROR:
            print(f"     error: {fig.reason}")
    return found


def honest_bound(fp: list[RunFigures], found: dict[float, RunFigures]) -> float | None:
    """The tightest bound that the leak-free control of the same duration PASSES and no
    short leak-free run fails: only then does a FAIL at that bound mean a leak."""
    control = found.get(0.0)
    for bound in sorted(BOUNDS_MB_MIN):
        passes = control is not None and control.against(bound) == Verdict.PASS
        if passes and all(f.against(bound) != Verdict.FAIL for f in fp):
            return bound
    return None


def smallest_detected(found: dict[float, RunFigures], bound: float) -> float | None:
    leaks = [k for k, f in sorted(found.items()) if k > 0 and f.against(bound) == Verdict.FAIL]
    return leaks[0] if leaks else None


def summary(fp: list[RunFigures], found: dict[float, RunFigures]) -> None:
    """The goals, and whether each was met."""
    print("\n== summary")
    for bound in BOUNDS_MB_MIN:
        print(f"leak-free runs vs < {bound:g}MB/min: {counts([f.against(bound) for f in fp])}")
    false_fails = sum(f.verdict == Verdict.FAIL for f in fp)
    met = "MET" if false_fails == 0 else "NOT MET"
    print(f"goal 1, no false FAIL at 5MB/min: {false_fails} of {len(fp)} -> {met}")
    bound = honest_bound(fp, found)
    if bound is None:
        print("goal 2: NOT MET, no bound tried is passed by the leak-free runs")
        return
    for b in (x for x in BOUNDS_MB_MIN if x < bound):
        fails = sum(f.against(b) == Verdict.FAIL for f in fp)
        control = found[0.0].against(b).value if 0.0 in found else "not run"
        print(
            f"< {b:g}MB/min is no fair bound: {fails} of {len(fp)} leak-free runs fail it, "
            f"the control gives {control}"
        )
    smallest = smallest_detected(found, bound)
    shown = f"{smallest:g} KiB/request" if smallest is not None else "none of those tried"
    print(f"smallest leak that FAILS < {bound:g}MB/min (no leak-free run fails it): {shown}")
    goal = GOAL_LEAK_KIB in found and found[GOAL_LEAK_KIB].against(bound) == Verdict.FAIL
    met = "MET" if goal else "NOT MET"
    print(f"goal 2, 1 MB per 1k requests FAILS < {bound:g}MB/min: {met}")


def main() -> int:
    args = parse_args()
    install_signal_handlers()  # SIGTERM stops the managed server; Ctrl-C unwinds via finally
    print(__doc__.split("\n\n")[0])
    try:
        fp = false_positive_part(args.runs, args.duration)
        found = detection_part(args.detect_duration)
    except KeyboardInterrupt:
        print("\ninterrupted: every server started has been stopped")
        return 0
    summary(fp, found)
    return 0


if __name__ == "__main__":
    sys.exit(main())
