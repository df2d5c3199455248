"""Write a recorded-traffic file for the demo: what a `replay` sends, one request a line.

The shape of a real morning in miniature: a steady rate, a burst at three times the rate, and
back, with health checks among the predictions (whose bodies are drawn like the demo's
training data). Reproducible: ``python -m infratest.demo.traffic --out
scenarios/data/traffic.jsonl`` rewrites the committed file byte for byte.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from infratest.demo.inputs import draw_features

BASE_RATE = 20.0  # requests per second outside the burst
BURST = (4.0, 7.0)  # seconds of the recording at three times the rate
HEALTH_SHARE = 0.1


def arrival_times(seconds: float, rng: np.random.Generator) -> list[float]:
    """Poisson arrivals at BASE_RATE, tripled inside BURST."""
    times, t = [], 0.0
    while True:
        rate = BASE_RATE * (3.0 if BURST[0] <= t < BURST[1] else 1.0)
        t += rng.exponential(1.0 / rate)
        if t >= seconds:
            return times
        times.append(round(t, 3))


def traffic_lines(seconds: float, seed: int) -> list[str]:
    """The recording: `t`, `method`, `path` and (predictions) `body` per line."""
    rng = np.random.default_rng(seed)
    times = arrival_times(seconds, rng)
    features = draw_features(len(times), seed)
    lines = []
    for t, row, health in zip(times, features, rng.random(len(times)) < HEALTH_SHARE, strict=True):
        if health:
            lines.append(json.dumps({"t": t, "method": "GET", "path": "/healthz"}))
        else:
            body = {"features": [float(v) for v in row]}
            lines.append(json.dumps({"t": t, "method": "POST", "path": "/predict", "body": body}))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infratest.demo.traffic", description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="JSONL file to write")
    parser.add_argument("--seconds", type=float, default=10.0, help="length (default 10)")
    parser.add_argument("--seed", type=int, default=11, help="random seed (default 11)")
    args = parser.parse_args(argv)
    if args.seconds <= 0:
        parser.error("--seconds must be above zero")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    lines = traffic_lines(args.seconds, args.seed)
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {len(lines)} requests to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
