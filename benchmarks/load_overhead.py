"""How much throughput does infratest's load runner cost compared with plain Locust?

    python benchmarks/load_overhead.py [--users 10] [--duration 10] [--target demo|trivial]

infratest records every request (a `request` listener in the Locust child putting it into a
per-second HdrHistogram, streamed to the parent once a second), which costs CPU in the
generator; on a small machine that could cap the load it can offer.
This script measures that cost: it starts ONE loopback target, then alternates plain
`locust --headless` and `run_load(...)` with the same users, duration, FastHttpUser and
zero wait (alternating, so drift on a noisy machine hits both alike), and prints
`ratio = infratest_rps / locust_rps` against the goal ratio >= 0.9.

It is a measurement, not a test: it exits 0 whether or not the goal is met.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import signal
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))  # so `tests.support` imports when run as a script


from infratest.workloads.load_plan import LoadPlan, RequestSpec  # noqa: E402
from infratest.workloads.load_runner import LoadRunError, run_load  # noqa: E402
from tests.support.servers import RunningServer, start_server  # noqa: E402

GOAL_RATIO = 0.9
TIMEOUT_S = 10.0  # per-request timeout, the same on both sides
LOCUST_GRACE_S = 60.0  # past duration + this, the plain Locust run is killed
TERM_GRACE_S = 5.0
STDERR_TAIL_CHARS = 3000

# The plain user sends the same request bytes as infratest's, its W3C trace headers included
# (a fresh id per request), so the ratio is the runner's cost, not the target's cost of
# parsing two more headers (on the demo's Python server that alone is about a fifth).
LOCUSTFILE = """\
import os

from locust import FastHttpUser, constant, task

KWARGS = {kwargs!r}
HEADERS = KWARGS.pop("headers", {{}})


class PlainUser(FastHttpUser):
    wait_time = constant(0)
    network_timeout = {timeout!r}
    connection_timeout = {timeout!r}

    @task
    def send(self):
        ids = os.urandom(24).hex()
        trace = {{"traceparent": f"00-{{ids[:32]}}-{{ids[32:]}}-01", "x-request-id": ids[:32]}}
        self.client.request({method!r}, {path!r}, headers={{**HEADERS, **trace}}, **KWARGS)
"""


@dataclass(frozen=True)
class Target:
    """A server to start and the one request both generators send to it."""

    server_args: tuple[str, ...]
    module: str | None
    request: RequestSpec


TARGETS = {
    "demo": Target(
        ("--load-delay", "0"),
        "infratest.demo",
        RequestSpec("POST", "/predict", json={"features": [0.1, 0.2, 0.3, 0.4]}),
    ),
    "trivial": Target((), None, RequestSpec("GET", "/healthz")),
}


@dataclass(frozen=True)
class Measurement:
    """One run of one generator: what it achieved and how fast the median request was."""

    tool: str
    requests: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float


def write_locustfile(path: Path, spec: RequestSpec) -> None:
    """A one-task FastHttpUser locustfile equivalent to infratest's generated user."""
    text = LOCUSTFILE.format(
        kwargs=spec.client_kwargs(), timeout=TIMEOUT_S, method=spec.method, path=spec.path
    )
    path.write_text(text)


def locust_command(work: Path, url: str, users: int, duration: int) -> list[str]:
    """Plain headless Locust, all users at once, CSV stats into `work`."""
    return [
        *(sys.executable, "-m", "locust", "-f", str(work / "locustfile.py")),
        *("--headless", "-u", str(users), "-r", str(users), "-t", f"{duration}s"),
        *("-H", url, "--csv", str(work / "plain"), "--only-summary"),
    ]


def wait_or_kill(proc: subprocess.Popen[bytes], limit_s: float) -> int:
    """Wait for the child; past `limit_s` or on Ctrl-C, end its whole group and reap it."""
    try:
        return proc.wait(limit_s)
    except BaseException:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(TERM_GRACE_S)
                break
        raise


def read_locust_csv(path: Path) -> Measurement:
    """Locust's own aggregated figures: its req/s and its (rounded) median."""
    with path.open(newline="") as fh:
        row = next(r for r in csv.DictReader(fh) if r["Name"] == "Aggregated")
    requests, rps = int(row["Request Count"]), float(row["Requests/s"])
    seconds = requests / rps if rps > 0 else 0.0
    p50 = float(row["50%"]) if row["50%"] not in ("", "N/A") else float("nan")
    return Measurement("locust", requests, int(row["Failure Count"]), seconds, rps, p50)


def run_plain_locust(url: str, spec: RequestSpec, users: int, duration: int) -> Measurement:
    """One plain `python -m locust --headless` run in a temp dir that is always removed."""
    with tempfile.TemporaryDirectory(prefix="infratest-bench-") as tmp:
        work = Path(tmp)
        write_locustfile(work / "locustfile.py", spec)
        with open(work / "output.txt", "w+b") as out:
            proc = subprocess.Popen(
                locust_command(work, url, users, duration),
                cwd=work,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            code = wait_or_kill(proc, duration + LOCUST_GRACE_S)
            stats = work / "plain_stats.csv"
            if not stats.exists():
                out.seek(0)
                tail = out.read().decode(errors="replace")[-STDERR_TAIL_CHARS:]
                raise RuntimeError(f"locust exited {code} without stats:\n{tail}")
            return read_locust_csv(stats)


def run_infratest(url: str, spec: RequestSpec, users: int, duration: int) -> Measurement:
    """One `run_load` with the equivalent plan; throughput over the measured window."""
    plan = LoadPlan(
        host=url, requests=(spec,), users=users, duration_s=float(duration), timeout_s=TIMEOUT_S
    )
    run = run_load(plan)
    outcomes = run.record.outcomes
    requests = outcomes.total_ok + outcomes.total_failed
    seconds = run.measured_seconds
    rps = requests / seconds if seconds > 0 else 0.0
    p50 = run.record.everything.quantile(0.5, 0.95).value * 1000.0
    return Measurement("infratest", requests, outcomes.total_failed, seconds, rps, p50)


def print_header() -> None:
    print(f"{'round':<6}{'tool':<11}{'requests':>9}{'errors':>8}{'seconds':>9}", end="")
    print(f"{'req/s':>10}{'p50 ms':>9}")


def print_row(round_no: int, m: Measurement) -> None:
    p50 = f"{m.p50_ms:.0f}" if m.tool == "locust" else f"{m.p50_ms:.2f}"
    print(f"{round_no:<6}{m.tool:<11}{m.requests:>9}{m.errors:>8}{m.seconds:>9.2f}", end="")
    print(f"{m.rps:>10.1f}{p50:>9}", flush=True)


def run_rounds(url: str, args: argparse.Namespace) -> list[Measurement]:
    """Alternate locust and infratest, `rounds` times each, printing every run as it ends."""
    spec = TARGETS[args.target].request
    results: list[Measurement] = []
    print_header()
    for round_no in range(1, args.rounds + 1):
        for runner in (run_plain_locust, run_infratest):
            m = runner(url, spec, args.users, args.duration)
            print_row(round_no, m)
            results.append(m)
    return results


def summarise(results: list[Measurement]) -> None:
    """Medians per tool, the ratio, and a plain statement of whether the goal was met."""
    by_tool = {t: [m for m in results if m.tool == t] for t in ("locust", "infratest")}
    rps = {t: statistics.median(m.rps for m in ms) for t, ms in by_tool.items()}
    p50 = {t: statistics.median(m.p50_ms for m in ms) for t, ms in by_tool.items()}
    print()
    print(f"median locust    : {rps['locust']:8.1f} req/s   p50 {p50['locust']:.0f} ms (rounded)")
    print(f"median infratest : {rps['infratest']:8.1f} req/s   p50 {p50['infratest']:.2f} ms")
    ratio = rps["infratest"] / rps["locust"] if rps["locust"] > 0 else float("nan")
    verdict = "MET" if ratio >= GOAL_RATIO else "NOT MET"
    print(f"ratio = infratest_rps / locust_rps = {ratio:.3f}   goal >= {GOAL_RATIO}: {verdict}")
    if any(m.errors for m in results):
        print("warning: some runs had errors; see the errors column")


def print_intro(args: argparse.Namespace, spec: RequestSpec, url: str) -> None:
    print(f"target {args.target} ({spec.name}) at {url}; {args.users} users, ", end="")
    print(f"{args.duration} s per run, FastHttpUser, zero wait, {args.rounds} rounds", flush=True)


def start_target(name: str) -> RunningServer:
    target = TARGETS[name]
    if target.module is not None:
        return start_server(list(target.server_args), module=target.module)
    return start_server(list(target.server_args))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10, help="concurrent users (default 10)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per run (default 10)")
    parser.add_argument("--target", choices=sorted(TARGETS), default="demo")
    parser.add_argument("--rounds", type=int, default=2, help="runs per tool (default 2)")
    args = parser.parse_args(argv)
    if args.users < 1 or args.duration < 1 or args.rounds < 1:
        parser.error("--users, --duration and --rounds must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Start the target once, measure, always stop it; 0 unless a run broke or Ctrl-C."""
    args = parse_args(argv)
    spec = TARGETS[args.target].request
    try:
        with start_target(args.target) as server:
            print_intro(args, spec, server.url)
            summarise(run_rounds(server.url, args))
    except KeyboardInterrupt:
        print("\ninterrupted; target and load generators stopped", file=sys.stderr)
        return 130
    except (RuntimeError, LoadRunError) as exc:  # ServerStartError is a RuntimeError
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
