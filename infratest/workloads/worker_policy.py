"""What a worker agrees to run: its own config's allow-list and limits, checked against every
plan a master sends, so a remote master cannot aim this machine's load anywhere it likes."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from infratest.hosts import HostNotAllowed, check_allowed
from infratest.spec.config import Config
from infratest.workloads.load_plan import LoadPlan


@dataclass(frozen=True)
class WorkerPolicy:
    """The allow-list and ceilings a worker enforces."""

    allow_hosts: tuple[str, ...]
    max_users: int
    max_duration_s: float
    # a scenario's own Locust class ("module:Class") is imported by the worker: only local
    # workers, started by the parent that read the scenario, do; a remote one refuses
    user_classes: bool = False

    @classmethod
    def from_config(cls, config: Config) -> WorkerPolicy:
        limits = config.limits
        return cls(tuple(config.allow.hosts), limits.max_users, limits.max_duration)

    def refusal(self, plan: LoadPlan) -> str | None:
        """Why this worker will not run `plan`, or None when it will. Names the host and the
        limit only: a plan's headers may hold secrets."""
        for host in (plan.host, *plan.compare_hosts):  # a compare sends to both
            try:
                check_allowed(host, self.allow_hosts)
            except HostNotAllowed as exc:
                return f"its config refuses the target: {exc}"
        if plan.own_user and not self.user_classes:
            return (
                f"it does not import a scenario's own user class ({plan.user_class}): run "
                "a user class on local workers only"
            )
        if plan.users > self.max_users:
            return f"{plan.users} users is above its limits.max_users ({self.max_users})"
        if plan.duration_s > self.max_duration_s:
            return (
                f"a {plan.duration_s:g} s run is above its limits.max_duration "
                f"({self.max_duration_s:g} s)"
            )
        return None

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> WorkerPolicy:
        data = json.loads(text)
        data["allow_hosts"] = tuple(data["allow_hosts"])
        return cls(**data)
