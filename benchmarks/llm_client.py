"""What does the llm workload's streaming client cost, and how far off is its TTFT?

    python benchmarks/llm_client.py [--users 16] [--duration 8] [--tokens 64]

1. Overhead: one Locust process streams answers from a loopback OpenAI-compatible server
   that sends every token at once (`--ttft 0 --itl 0`), with `--users` users and no think
   time; it prints answers/s, content chunks/s and the generator's CPU peak. The server is
   plain Python too, so on a small machine the pair share the cores: the generator's CPU says
   which of them was the limit.
2. TTFT bias: the same client against the known-timing server (first token after 200 ms,
   then one every 20 ms), a few users; it prints measured TTFT/ITL p50 minus the server's.

It is a measurement, not a test: it exits 0 whatever it finds.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))  # so `tests.support` imports when run as a script

from infratest.spec.llm_prompts import generated_prompts  # noqa: E402
from infratest.workloads.llm_plan import LlmPlan  # noqa: E402
from infratest.workloads.load_figures import Reading, load_intervals  # noqa: E402
from infratest.workloads.load_plan import LoadPlan, RequestSpec  # noqa: E402
from infratest.workloads.load_runner import LoadRun, run_load  # noqa: E402
from tests.support.servers import start_server  # noqa: E402

SERVER = REPO_ROOT / "tests" / "support" / "streaming_server.py"


def _run(url: str, users: int, duration: float, tokens: int) -> LoadRun:
    llm = LlmPlan(api="openai-chat", prompts=tuple(generated_prompts(32)), max_tokens=tokens)
    plan = LoadPlan(
        host=url,
        requests=(RequestSpec(method="POST", path="/v1/chat/completions", name="chat"),),
        users=users,
        duration_s=duration,
        warmup_s=1.0,
        timeout_s=30.0,
        llm=llm,
    )
    return run_load(plan)


def overhead(users: int, duration: float, tokens: int) -> None:
    with start_server(["--ttft", "0", "--itl", "0", "--tokens", str(tokens)], script=SERVER) as s:
        run = _run(s.url, users, duration, tokens)
    record, seconds = run.record, run.record.measured_seconds
    answers = record.llm.total("llm.answers")
    chunks = record.llm.total("llm.tokens")
    print(
        f"overhead: {users} users, {tokens} tokens an answer, {seconds:.1f} s measured: "
        f"{answers / seconds:,.0f} answers/s, {chunks / seconds:,.0f} chunks/s, "
        f"{record.counts().failed} failed, generator CPU peak {run.generator_cpu_peak:.2f} cores"
    )


def ttft_bias(duration: float) -> None:
    flags = ["--ttft", "0.2", "--itl", "0.02", "--tokens", "16"]
    with start_server(flags, script=SERVER) as s:
        run = _run(s.url, 4, duration, 16)
    figures = load_intervals(run.record, Reading(0.95))
    ttft, itl = figures["llm.ttft.p50"].value, figures["llm.itl.p50"].value
    print(
        f"bias: TTFT p50 {ttft * 1000:.2f} ms (server 200 ms: +{(ttft - 0.2) * 1000:.2f} ms), "
        f"ITL p50 {itl * 1000:.2f} ms (server 20 ms: {(itl - 0.02) * 1000:+.2f} ms), "
        f"p99 TTFT {figures['llm.ttft.p99'].value * 1000:.2f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--tokens", type=int, default=64)
    args = parser.parse_args()
    overhead(args.users, args.duration, args.tokens)
    ttft_bias(args.duration)
    return 0


if __name__ == "__main__":
    sys.exit(main())
