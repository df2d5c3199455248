"""How a load run is spread over Locust worker processes, as plain data (parent side).

One Locust process drives about one core. Past that, Locust's own distributed engine runs a
master and workers; these settings say how many local workers the parent starts, where the
master listens, and how many remote workers (``infratest worker``) it waits for.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from typing import Literal

from infratest.hosts import free_port
from infratest.spec.config import Generators

DEFAULT_JOIN_WAIT_S = 30.0
LOCAL_NAME_PREFIX = "local-"


@dataclass(frozen=True)
class FleetSettings:
    """A distributed run: `local_workers` started here, `expect_remote` joining from elsewhere."""

    local_workers: int
    bind_host: str
    port: int
    expect_remote: int = 0
    wait_s: float = DEFAULT_JOIN_WAIT_S

    @property
    def workers(self) -> int:
        """Every worker the master waits for before it starts the users."""
        return self.local_workers + self.expect_remote

    @property
    def connect_host(self) -> str:
        """Where local workers reach the master."""
        return "127.0.0.1" if self.bind_host in ("*", "0.0.0.0") else self.bind_host

    def local_names(self) -> list[str]:
        return [f"{LOCAL_NAME_PREFIX}{i + 1}" for i in range(self.local_workers)]

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> FleetSettings:
        return cls(**json.loads(text))


def local_worker_count(workers: int | Literal["auto"]) -> int:
    """`auto` is one worker per core of this machine."""
    return max(os.cpu_count() or 1, 1) if workers == "auto" else int(workers)


def fleet_settings(
    scenario_workers: int | Literal["auto"] | None, generators: Generators
) -> FleetSettings | None:
    """The distributed set-up for one load, or None for today's single Locust process.
    The scenario's `workers` wins over the config's `generators.workers`."""
    chosen = scenario_workers if scenario_workers is not None else generators.workers
    local = local_worker_count(chosen)
    master = generators.master
    if master is None:
        if local <= 1:
            return None
        return FleetSettings(local_workers=local, bind_host="127.0.0.1", port=free_port())
    return FleetSettings(
        local_workers=local,
        bind_host=master.host,
        port=master.port,
        expect_remote=master.expect_remote,
        wait_s=master.wait,
    )
