"""How long does drawing a pool of request bodies from a JSON Schema take, and does sending
drawn bodies slow the generator? Part 1: the draw time for a pool (default 10,000 bodies) of
two realistic predict schemas. The pool is drawn before a load starts, so this is start-up
time, never a cap on the request rate. Part 2: req/s of the same load on the demo target
with a fixed body and with bodies from a drawn pool (alternating rounds; goal >= 0.9x).

    python -m benchmarks.payload_generation [--count 10000] [--seed 0] [--rounds 2]

(run from the repository root, so this checkout's infratest is the one imported).

Measured (2 shared cores, schemathesis 4.32.5, hypothesis 6.155.2): features[4] 15.7 s,
string + nested object 22.1 s for 10,000 bodies (~1.5-2.5 ms a body). An open object (no
`additionalProperties: false`) is slower, ~56 s for 10,000, since arbitrary extra members
are drawn too; a pool of 1,000 (a few seconds) is a sensible default. Part 2, demo target,
10 users, 8 s runs, 3 alternating rounds: 5,989 req/s fixed vs 6,295 drawn (median), 1.05.
"""

from __future__ import annotations

import argparse
import statistics
import time

from infratest.bodies import draw_bodies
from infratest.workloads.load_plan import LoadPlan, RequestSpec
from infratest.workloads.load_runner import run_load
from tests.support.predict_schemas import FEATURES, features_schema
from tests.support.servers import start_server

USERS, SECONDS = 10, 8.0

WITH_TEXT_AND_NESTED = {
    "type": "object",
    "required": ["model", "inputs"],
    "properties": {
        "model": {"type": "string", "maxLength": 32},
        "inputs": {
            "type": "object",
            "required": ["features"],
            "properties": {
                "features": {
                    "type": "array",
                    "items": {"type": "number", "minimum": -10, "maximum": 10},
                    "minItems": 4,
                    "maxItems": 4,
                },
                "request_id": {"type": "integer", "minimum": 0},
            },
            "additionalProperties": False,
        },
    },
    "additionalProperties": False,
}
DEMO_VALID = features_schema(minimum=-10, maximum=10)  # bodies the demo answers 200 to
SCHEMAS = {"features[4]": FEATURES, "string + nested object": WITH_TEXT_AND_NESTED}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=2, help="part 2: alternating rounds")
    return parser.parse_args()


def _rate(url: str, request: RequestSpec) -> tuple[float, int]:
    """Requests per second one load reached on `url`, and how many failed."""
    run = run_load(LoadPlan(host=url, requests=(request,), users=USERS, duration_s=SECONDS))
    outcomes = run.record.outcomes
    sent = outcomes.total_ok + outcomes.total_failed
    return sent / max(run.measured_seconds, 1e-9), outcomes.total_failed


def sending_rate(rounds: int, seed: int) -> None:
    """Part 2: the demo's req/s with one fixed body, then with a drawn pool, alternating."""
    pool = tuple(draw_bodies(DEMO_VALID, 1000, seed=seed))  # 200s: failures cost more to record
    fixed = RequestSpec("POST", "/predict", json={"features": [0.1, 0.2, 0.3, 0.4]})
    drawn = RequestSpec("POST", "/predict", bodies=pool, body_seed=seed)
    rates: dict[str, list[float]] = {"fixed body": [], "drawn pool": []}
    with start_server(["--load-delay", "0"], module="infratest.demo") as server:
        for round_no in range(1, rounds + 1):
            for name, request in (("fixed body", fixed), ("drawn pool", drawn)):
                rate, failed = _rate(server.url, request)
                rates[name].append(rate)
                print(f"round {round_no} {name}: {rate:.0f} req/s, {failed} failed", flush=True)
    ratio = statistics.median(rates["drawn pool"]) / statistics.median(rates["fixed body"])
    print(f"drawn pool / fixed body, median req/s: {ratio:.2f} (goal >= 0.9)")


def main() -> None:
    args = parse_args()
    for name, schema in SCHEMAS.items():
        started = time.perf_counter()
        bodies = draw_bodies(schema, args.count, seed=args.seed)
        elapsed = time.perf_counter() - started
        print(
            f"{name}: {len(bodies)} bodies in {elapsed:.1f} s "
            f"({elapsed / max(len(bodies), 1) * 1e3:.2f} ms a body)"
        )
    sending_rate(args.rounds, args.seed)


if __name__ == "__main__":
    main()
