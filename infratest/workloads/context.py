"""What every workload receives: the assumption, its target, the few session capabilities a
workload may use (resolving or launching targets, the host allow-list) and a progress callback.
Workloads depend on this module only, never on the runner that builds it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from infratest.spec.config import Generators
from infratest.spec.scenario import Assumption, Scenario
from infratest.targets import Target
from infratest.targets.managed import ManagedProcess
from infratest.workloads.live import Progress
from infratest.workloads.warm_generator import GeneratorPool


class TargetResolver(Protocol):
    """The session's targets as a workload sees them (the runner's TargetPool in practice)."""

    def get(self, name: str) -> Target:
        """The shared, ready instance of a config target."""
        ...

    def launch_fresh(self, name: str) -> ManagedProcess:
        """A new, separate, started (not yet ready) instance of a managed target."""
        ...


@dataclass
class WorkloadContext:
    """What a workload needs: the assumption, its target (if any), other targets by name, where
    traffic may go, where to report progress, and how load generators scale out."""

    scenario: Scenario
    assumption: Assumption
    target: Target | None
    targets: TargetResolver
    allow_hosts: tuple[str, ...]
    progress: Progress | None = None
    generators: Generators = field(default_factory=Generators)  # spread over Locust workers
    max_in_flight_limit: int = 10000  # the config's limits.max_in_flight (open-model load)
    trace_headers: bool = True  # the config's trace_headers: requests carry trace context
    generator_pool: GeneratorPool | None = None  # the session's warm Locust children

    @property
    def confidence(self) -> float:
        """The scenario's confidence level."""
        return self.scenario.confidence
