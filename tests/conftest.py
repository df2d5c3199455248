"""Shared fixtures: pytester for plugin tests, and a guard that no test leaves a process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.servers import child_pids, leftover_children

pytest_plugins = ["pytester"]


@pytest.fixture
def no_leftover_processes() -> Iterator[None]:
    """Every process a test starts (targets, load generators) is gone when it ends."""
    before = child_pids()
    yield
    left = leftover_children(before)
    assert not left, f"processes left behind: {sorted(left)}"
