"""Turn a /predict request body into a feature array, and predictions back into JSON.

Kept apart from the HTTP plumbing so every rejection rule is visible in one place and
each maps to one client-facing message.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

MAX_BATCH = 256
MAX_ABS_VALUE = 1e12  # far beyond real features; keeps every matmul finite


class PayloadError(ValueError):
    """The body is not a valid prediction request; the message goes back to the client."""


def parse_request(body: bytes, n_inputs: int) -> tuple[np.ndarray, bool]:
    """Validated ``(rows, n_inputs)`` float array and whether the client sent a batch."""
    payload = _decode(body)
    if not isinstance(payload, dict):
        raise PayloadError("body must be a JSON object")
    has_single, has_batch = "features" in payload, "instances" in payload
    if has_single == has_batch:
        raise PayloadError('send exactly one of "features" or "instances"')
    if has_single:
        return _to_array([payload["features"]], n_inputs, "features"), False
    rows = payload["instances"]
    if not isinstance(rows, list) or not rows:
        raise PayloadError('"instances" must be a non-empty list of feature lists')
    if len(rows) > MAX_BATCH:
        raise PayloadError(f'"instances" holds {len(rows)} rows; at most {MAX_BATCH} allowed')
    return _to_array(rows, n_inputs, "instances"), True


def render_prediction(labels: np.ndarray, probabilities: np.ndarray, batch: bool) -> dict:
    """JSON-ready answer: scalars for a single row, lists for a batch."""
    if batch:
        return {"labels": labels.tolist(), "probabilities": probabilities.tolist()}
    return {"label": int(labels[0]), "probabilities": probabilities[0].tolist()}


def _decode(body: bytes) -> Any:
    if not body:
        raise PayloadError("empty body; expected JSON")
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError
        raise PayloadError(f"malformed JSON: {exc}") from None


def _to_array(rows: list[Any], n_inputs: int, field: str) -> np.ndarray:
    for index, row in enumerate(rows):
        where = field if field == "features" else f"{field}[{index}]"
        _check_row(row, n_inputs, where)
    return np.array(rows, dtype=np.float64)


def _check_row(row: Any, n_inputs: int, where: str) -> None:
    if not isinstance(row, list) or len(row) != n_inputs:
        raise PayloadError(f'"{where}" must be a list of {n_inputs} numbers')
    for value in row:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise PayloadError(f'"{where}" must hold numbers only, got {value!r:.40}')
        if isinstance(value, float) and not math.isfinite(value):
            raise PayloadError(f'"{where}" must hold finite numbers, got {value!r}')
        if abs(value) > MAX_ABS_VALUE:
            raise PayloadError(f'"{where}" values must lie within +-{MAX_ABS_VALUE:g}')
