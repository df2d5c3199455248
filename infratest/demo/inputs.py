"""Write /predict request bodies drawn like the demo's training data, one JSON a line.

A rollout comparison sends the same bodies to baseline and candidate, so the file must be
reproducible: ``python -m infratest.demo.inputs --out scenarios/data/rollout-inputs.jsonl
--count 400 --seed 7`` rewrites the committed file byte for byte.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from infratest.demo.train import N_INPUTS

DECIMALS = 4  # short lines; the model is scored on the rounded values actually sent


def draw_features(count: int, seed: int) -> np.ndarray:
    """``count`` rows of standard-normal features, as ``train.make_dataset`` draws them."""
    rows = np.random.default_rng(seed).normal(size=(count, N_INPUTS))
    return np.round(rows, DECIMALS)


def request_lines(features: np.ndarray) -> list[str]:
    """One ``{"features": [...]}`` body per row, compact JSON."""
    return [json.dumps({"features": [float(v) for v in row]}) for row in features]


def read_features(path: str | Path) -> np.ndarray:
    """The feature rows of a bodies file, in file order."""
    lines = Path(path).read_text().splitlines()
    return np.array([json.loads(line)["features"] for line in lines if line.strip()])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infratest.demo.inputs", description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="JSONL file to write")
    parser.add_argument("--count", type=int, default=400, help="number of bodies (default 400)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count must be >= 1")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    lines = request_lines(draw_features(args.count, args.seed))
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {len(lines)} bodies to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
