"""The bundled demo target: a small numpy classifier behind HTTP.

It is the default target of the bundled scenarios, so they run anywhere without a real
model server: ``infratest demo --port 8000`` or ``python -m infratest.demo --port 8000``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["main"]

VARIANT_NAMES = ("v1", "v2")  # kept here so --help needs no numpy; a test checks the registry


def build_parser() -> argparse.ArgumentParser:
    """The demo's command line (shared by ``python -m infratest.demo`` and ``infratest demo``)."""
    parser = argparse.ArgumentParser(
        prog="infratest demo",
        description="Serve the demo classifier and its OpenAI-compatible chat model over HTTP.",
    )
    parser.add_argument("--port", type=int, required=True, help="TCP port (0: any free port)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--load-delay",
        type=float,
        default=0.5,
        metavar="SECONDS",
        help="simulated model download before loading; /healthz says 503 meanwhile",
    )
    parser.add_argument(
        "--threads",
        action="store_true",
        help="let handler threads run inference concurrently (default: one at a time)",
    )
    parser.add_argument("--weights", type=Path, default=None, help="model .npz to serve")
    parser.add_argument(
        "--token-delay",
        type=float,
        default=0.003,
        metavar="SECONDS",
        help="pause per generated token of /v1/chat/completions and /v1/completions "
        "(default 0.003), so time to first token and inter-token latency show",
    )
    parser.add_argument("--access-log", action="store_true", help="log every request to stderr")
    parser.add_argument(
        "--variant",
        choices=VARIANT_NAMES,
        default="v1",
        help="model variant: v1 as trained (default), v2 slightly slower and disagreeing "
        "on about 1.5%% of inputs",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and serve until SIGTERM/SIGINT; returns the exit code."""
    args = build_parser().parse_args(argv)
    if args.load_delay < 0:
        build_parser().error("--load-delay must be >= 0")
    if not 0 <= args.token_delay <= 10:
        build_parser().error("--token-delay must be between 0 and 10 seconds")
    from infratest.demo.model import DEFAULT_WEIGHTS
    from infratest.demo.server import serve  # numpy import deferred until actually serving

    return serve(
        args.host,
        args.port,
        load_delay=args.load_delay,
        weights=args.weights or DEFAULT_WEIGHTS,
        threads=args.threads,
        access_log=args.access_log,
        variant=args.variant,
        token_delay=args.token_delay,
    )
