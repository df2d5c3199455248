"""The bodies a request draws from, made once before the run (so drawing never caps the
request rate): a JSON Schema's draws (within its size hints) or a replay file's lines or rows,
cached, so the steps of a sweep send the same pool."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from infratest.measurements import MeasurementError
from infratest.spec.inputs_file import InputsError
from infratest.spec.replay_file import read_replay
from infratest.spec.traffic import RequestSpec, ValidateSpec
from infratest.workloads.load_plan import RequestSpec as PlanRequest
from infratest.workloads.sent_sizes import sent_summary


@functools.lru_cache(maxsize=32)
def _pool(kind: str, file: str, size: int, seed: int, shape: tuple) -> tuple[Any, ...]:
    """The pool, keyed on everything that makes it (`shape`: the columns or sizes, as written)."""
    if kind == "replay":
        return tuple(read_replay(Path(file), size, dict(shape) or None))
    from infratest.bodies import load_schema  # schemathesis: loaded on need
    from infratest.bodies.drawing import draw_interleaved
    from infratest.bodies.sizes import stratified

    return tuple(draw_interleaved(stratified(load_schema(Path(file)), dict(shape)), size, seed))


def bodies_of(request: RequestSpec) -> tuple[Any, ...]:
    """The request's pool of bodies; empty when its body is fixed."""
    if request.body_file is None:
        return ()
    kind = "replay" if request.replay is not None else "json_schema"
    shape = (request.columns if kind == "replay" else request.sizes) or {}
    try:
        return _pool(kind, request.body_file, request.pool, request.seed, tuple(shape.items()))
    except (InputsError, ValueError) as exc:
        where = _where(exc)
        raise MeasurementError(f"{request.label}: {where}{exc}") from None


def _where(exc: Exception) -> str:
    """Where in the request a columns or sizes error is ('columns.FIELD: '), or ''."""
    field = getattr(exc, "field", None)
    if field is None:
        return ""
    return f"{'columns' if isinstance(exc, InputsError) else 'sizes'}.{field}: "


@functools.lru_cache(maxsize=16)
def _schema(file: str) -> Any:
    from infratest.bodies import load_schema  # jsonschema's checks: loaded on need

    return load_schema(Path(file))


def answer_schema_of(check: ValidateSpec | None) -> Any:
    """The answer schema a `validate` names, read once; None without one."""
    if check is None or check.json_schema is None:
        return None
    try:
        return _schema(check.json_schema)
    except ValueError as exc:
        raise MeasurementError(f"validate: {exc}") from None


def pool_summaries(
    requests: Sequence[PlanRequest], sent: Mapping[str, Mapping[str, int]] | None = None
) -> dict[str, dict[str, Any]]:
    """Per request with a pool: how many bodies, how they are taken, and their sizes (what
    could be sent); with `sent` (the generators' tally by body size, once the run has ended)
    also the sizes of what was sent in the measured window."""
    out: dict[str, dict[str, Any]] = {}
    for request in requests:
        if not request.bodies:
            continue
        sizes = np.asarray([len(json.dumps(b).encode()) for b in request.bodies], dtype=float)
        out[str(request.name)] = {
            "bodies": len(request.bodies),
            "order": request.body_order,
            "seed": request.body_seed,
            "bytes": {
                "min": float(sizes.min()),
                "p50": float(np.quantile(sizes, 0.5)),
                "p95": float(np.quantile(sizes, 0.95)),
                "max": float(sizes.max()),
            },
        }
        if sent is not None:
            out[str(request.name)]["sent"] = sent_summary(sent.get(str(request.name), {}))
    return out


def pool_notes(summaries: dict[str, dict[str, Any]]) -> list[str]:
    """One note per request whose bodies come from a pool."""
    notes = []
    for name, pool in summaries.items():
        taken = "in file order" if pool["order"] == "file" else f"at random (seed {pool['seed']})"
        size = pool["bytes"]
        note = (
            f"{name}: bodies taken {taken} from a pool of {pool['bodies']}, "
            f"{size['min']:.0f}–{size['max']:.0f} bytes (median {size['p50']:.0f})"
        )
        sent = pool.get("sent")
        if sent and sent["count"]:
            note += f"; {sent['count']} sent, median {sent['bytes']['p50']:.0f} bytes"
        notes.append(note)
    return notes
