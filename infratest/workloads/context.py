"""What every workload receives: the assumption, its target, the session's runner, and a
progress callback. Kept apart from the runner so workloads never import it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from infratest.spec.scenario import Assumption, Scenario
from infratest.targets import Target

if TYPE_CHECKING:
    from infratest.execution import Runner

Progress = Callable[[dict[str, Any]], None]


@dataclass
class WorkloadContext:
    """What a workload needs: the assumption, its target (if any) and where to report."""

    scenario: Scenario
    assumption: Assumption
    target: Target | None
    runner: Runner
    progress: Progress | None = None

    @property
    def confidence(self) -> float:
        """The scenario's confidence level."""
        return self.scenario.confidence
