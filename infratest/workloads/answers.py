"""Reading and comparing model answers: the value at a dot path of a JSON answer, whether
two answers agree (equal, within a tolerance for numbers, or on the argmax of scores), and
how far apart two numeric answers are."""

from __future__ import annotations

import math
from typing import Any

MISSING = object()


def answer_at(document: Any, path: str) -> Any:
    """The value at `path` ("prediction", "outputs.0.label"), or MISSING when absent."""
    node = document
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif (
            isinstance(node, list)
            and part.lstrip("-").isdigit()
            and -len(node) <= int(part) < len(node)
        ):
            node = node[int(part)]
        else:
            return MISSING
    return node


def _number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _numbers(x: Any) -> list[float] | None:
    """A number or a flat list of numbers as floats; None for anything else."""
    if _number(x):
        return [float(x)]
    if isinstance(x, list) and x and all(_number(v) for v in x):
        return [float(v) for v in x]
    return None


def argmax(x: Any) -> int | None:
    """Index of the largest score of a list of numbers (first on ties)."""
    scores = _numbers(x) if isinstance(x, list) else None
    if not scores:
        return None
    return max(range(len(scores)), key=lambda i: scores[i])


def agree(a: Any, b: Any, tolerance: float = 0.0, agree_on: str = "value") -> bool:
    """Whether two answers count as the same."""
    if agree_on == "argmax":
        top = argmax(a)
        return top is not None and top == argmax(b)
    left, right = _numbers(a), _numbers(b)
    if left is not None and right is not None and len(left) == len(right):
        pairs = zip(left, right, strict=True)
        return all(math.isclose(x, y, rel_tol=0.0, abs_tol=tolerance) for x, y in pairs)
    return a == b


def abs_diff(a: Any, b: Any) -> float | None:
    """Largest absolute difference of two numeric answers (same shape), else None."""
    left, right = _numbers(a), _numbers(b)
    if left is None or right is None or len(left) != len(right):
        return None
    return max(abs(x - y) for x, y in zip(left, right, strict=True))
