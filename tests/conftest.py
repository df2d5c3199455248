"""Shared fixtures: pytester for plugin tests, behaviour servers, and a guard that no test
leaves a process."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.support.servers import RunningServer, child_pids, leftover_children, start_server

pytest_plugins = ["pytester"]
SLOWEST_SHOWN = 25


def pytest_configure(config: pytest.Config) -> None:
    """The suite prints its slowest tests: keeping it near ten minutes needs to know where
    the time goes (a run that asks for --durations itself keeps its own)."""
    if not config.option.durations:
        config.option.durations = SLOWEST_SHOWN


@pytest.fixture
def no_leftover_processes() -> Iterator[None]:
    """Every process a test starts (targets, load generators) is gone when it ends."""
    before = child_pids()
    yield
    left = leftover_children(before)
    assert not left, f"processes left behind: {sorted(left)}"


@pytest.fixture
def run() -> Iterator[list[RunningServer]]:
    """Collects servers a test starts (see tests.support.servers.launch) and stops them
    however the test ends."""
    started: list[RunningServer] = []
    yield started
    for server in started:
        server.stop()


@pytest.fixture
def target() -> Iterator[Callable[..., RunningServer]]:
    """Start behaviour servers with the given flags; all are stopped after the test."""
    started: list[RunningServer] = []

    def start(*flags: str) -> RunningServer:
        server = start_server(list(flags))
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
