"""The `fuzz` workload: bodies that break the request's schema (and hostile documents) sent
to the target one at a time, each answer classified. A server error is a 5xx, a connection
reset or an answer later than the timeout; a 4xx is the server doing its job. The first
failure's kind is then shrunk by hypothesis to the smallest body that still causes it."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from infratest.measurements import MeasurementError, Measurements
from infratest.spec.fuzz_section import FuzzSpec
from infratest.stats import exact
from infratest.workloads.context import WorkloadContext

SHOWN_CHARS = 300
SHOWN_FAILURES = 10
EXAMPLES_PER_KIND = 3  # first failing bodies kept per kind, as for a load's failures


def _encoded(body: Any) -> bytes:
    if isinstance(body, bytes):
        return body
    return json.dumps(body, allow_nan=True).encode()


def shown(body: Any) -> str:
    """A body for people: JSON (or the raw bytes' repr), cut to a readable length."""
    text = repr(body) if isinstance(body, bytes) else json.dumps(body, allow_nan=True)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


class Sender:
    """Sends bodies to the target's endpoint and names what went wrong, if anything."""

    def __init__(self, url: str, spec: FuzzSpec) -> None:
        self.url, self.spec = url + spec.path, spec
        self.session = requests.Session()
        self.headers = {"Content-Type": "application/json", **spec.headers}

    def server_error(self, body: Any) -> str | None:
        """'HTTP 500', 'reset', 'hang past 5s', or None for any answer a client can act on."""
        try:
            response = self.session.request(
                self.spec.method,
                self.url,
                data=_encoded(body),
                headers=self.headers,
                timeout=self.spec.timeout,
            )
        except requests.Timeout:
            self.session.close()
            return f"hang past {self.spec.timeout:g}s"
        except requests.ConnectionError:
            self.session.close()
            return "reset"
        return f"HTTP {response.status_code}" if response.status_code >= 500 else None


@dataclass
class FuzzRun:
    """What the bodies showed."""

    sent: int = 0
    failures: list[tuple[Any, str]] = field(default_factory=list)
    kinds: dict[str, int] = field(default_factory=dict)
    stopped_early: bool = False
    smallest: Any = None

    def add(self, body: Any, kind: str | None) -> None:
        self.sent += 1
        if kind is not None:
            self.failures.append((body, kind))
            self.kinds[kind] = self.kinds.get(kind, 0) + 1

    def error_kinds(self) -> list[dict[str, Any]]:
        """Per server-error kind, most frequent first (as `series.load.error_kinds`): its
        count, its first failing bodies as `examples`, and for the kind that was shrunk (the
        first failure's) the smallest body that reproduced it."""
        first = self.failures[0][1] if self.failures else None
        found = []
        for kind, count in sorted(self.kinds.items(), key=lambda kv: -kv[1]):
            bodies = [shown(b) for b, k in self.failures if k == kind][:EXAMPLES_PER_KIND]
            smallest = shown(self.smallest) if kind == first and self.smallest is not None else None
            found.append({"key": kind, "count": count, "examples": bodies, "smallest": smallest})
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "examples": self.sent,
            "server_errors": len(self.failures),
            "kinds": dict(self.kinds),
            "error_kinds": self.error_kinds(),
            "stopped_early": self.stopped_early,
            "smallest": None if self.smallest is None else shown(self.smallest),
            "failing": [{"body": shown(b), "kind": k} for b, k in self.failures[:SHOWN_FAILURES]],
        }


def _send_all(sender: Sender, bodies: list[Any], deadline: float) -> FuzzRun:
    run = FuzzRun()
    for body in bodies:
        if time.monotonic() > deadline:
            run.stopped_early = True
            break
        run.add(body, sender.server_error(body))
    return run


def _smallest(schema: dict, sender: Sender, run: FuzzRun, spec: FuzzSpec, deadline: float) -> Any:
    """The first failure's kind, shrunk: the smallest body that still causes it; else the
    shortest failing body seen."""
    from infratest.bodies.fuzzing import shrink

    kind = run.failures[0][1]

    def fails(body: Any) -> bool:
        return time.monotonic() < deadline and sender.server_error(body) == kind

    found = shrink(schema, fails, spec.seed, spec.shrink) if spec.shrink else None
    if found is not None:
        return found
    return min((b for b, k in run.failures if k == kind), key=lambda b: len(_encoded(b)))


def run_fuzz_workload(ctx: WorkloadContext) -> Measurements:
    """Every body to the target; the smallest reproducer of the first failure."""
    from infratest.bodies import SchemaError, load_schema
    from infratest.bodies.fuzzing import draw_fuzz_bodies

    spec = ctx.assumption.fuzz
    assert spec is not None and ctx.target is not None
    try:
        schema = load_schema(Path(spec.json_schema))
    except SchemaError as exc:
        raise MeasurementError(str(exc)) from None
    bodies = draw_fuzz_bodies(schema, spec.examples, spec.seed)
    sender = Sender(ctx.target.url, spec)
    deadline = time.monotonic() + spec.max_duration
    run = _send_all(sender, bodies, deadline)
    if run.failures:
        run.smallest = _smallest(schema, sender, run, spec, deadline + spec.max_duration / 2)
    return _measurements(run, spec, ctx.confidence)


def _measurements(run: FuzzRun, spec: FuzzSpec, confidence: float) -> Measurements:
    found = Measurements()
    found.add("fuzz.server_errors", exact(len(run.failures), confidence, run.sent))
    found.add("fuzz.examples", exact(run.sent, confidence, run.sent))
    found.series["fuzz"] = run.to_dict()
    found.notes.append(
        f"{run.sent} bodies sent to {spec.method} {spec.path} (schema-breaking, edge cases and "
        f"hostile documents, seed {spec.seed}); {len(run.failures)} server errors"
        + (f": {', '.join(f'{k} ×{n}' for k, n in run.kinds.items())}" if run.kinds else "")
    )
    if run.stopped_early:
        found.notes.append(f"sending stopped at max_duration ({spec.max_duration:g}s)")
    if run.smallest is not None:
        found.details["fuzz.server_errors"] = (
            f"smallest body that reproduced it: {shown(run.smallest)}"
        )
    return found
