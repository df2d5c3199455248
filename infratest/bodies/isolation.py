"""Hypothesis (>= 6.131) sometimes draws numbers and strings it found as literals in the
"local" modules imported so far (any not in site-packages, so infratest itself, a user's
conftest helpers...). Which modules are loaded differs between runs, so the same seed would
give different bodies. There is no public switch: this turns the local pool off (and clears
the cache built from it) for the duration of a draw only."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hypothesis.internal.conjecture import providers


@contextmanager
def without_local_constants() -> Iterator[None]:
    """Draws inside use only hypothesis's own constants; nothing changes on versions of
    hypothesis that lack the feature (a test in tests/unit/test_bodies.py would then fail if
    the draw still depended on the loaded modules)."""
    original = getattr(providers, "_get_local_constants", None)
    cache = getattr(providers, "CONSTANTS_CACHE", None)
    if original is None or cache is None:
        yield
        return
    providers._get_local_constants = _no_local_constants
    cache.cache.clear()
    try:
        yield
    finally:
        providers._get_local_constants = original
        cache.cache.clear()


def _no_local_constants(*_args: Any) -> Any:
    return providers.Constants()
