"""The bodies a request draws from, made once before the run (so drawing never caps the
request rate): a JSON Schema's draws or a JSONL file's lines, cached, so the steps of a sweep
send the same pool."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from infratest.measurements import MeasurementError
from infratest.spec.inputs_file import InputsError, read_inputs
from infratest.spec.traffic import RequestSpec


@functools.lru_cache(maxsize=32)
def _pool(kind: str, file: str, size: int, seed: int) -> tuple[Any, ...]:
    if kind == "replay":
        return tuple(read_inputs(Path(file), size))
    from infratest.bodies import draw_bodies, load_schema  # schemathesis: loaded on need

    return tuple(draw_bodies(load_schema(Path(file)), size, seed))


def bodies_of(request: RequestSpec) -> tuple[Any, ...]:
    """The request's pool of bodies; empty when its body is fixed."""
    if request.body_file is None:
        return ()
    kind = "replay" if request.replay is not None else "json_schema"
    try:
        return _pool(kind, request.body_file, request.pool, request.seed)
    except (InputsError, ValueError) as exc:
        raise MeasurementError(f"{request.label}: {exc}") from None
