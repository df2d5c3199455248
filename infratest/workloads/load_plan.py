"""What a load run should do, as plain data.

The plan crosses a process boundary (parent -> Locust child) as JSON, so it holds
no Locust objects and validates itself up front: a bad plan should fail in the
parent with a clear message, not as a crash inside the child.
"""

from __future__ import annotations

import json as _json
import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any, Final

from infratest.workloads.arrivals import ARRIVAL_KINDS, ArrivalSchedule
from infratest.workloads.llm_plan import LlmPlan
from infratest.workloads.replay_timeline import RecordedSchedule, ReplayTimeline
from infratest.workloads.rounds import RoundLayout

USER_CLASSES: Final = ("fast", "http")
OWN_USER_CLASS: Final = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")
BODY_ORDERS: Final = ("random", "file")


class _NoJson:
    """Marks "send no JSON body"; `None` cannot, because `null` is a valid JSON body."""

    _instance: _NoJson | None = None

    def __new__(cls) -> _NoJson:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NO_JSON"

    def __reduce__(self) -> str:
        return "NO_JSON"


NO_JSON: Final = _NoJson()


@dataclass(frozen=True)
class RequestSpec:
    """One kind of request the simulated users send; `weight` sets its share of the mix."""

    method: str = "GET"
    path: str = "/"
    headers: Mapping[str, str] = field(default_factory=dict, hash=False)
    json: Any = field(default=NO_JSON, hash=False)
    body: str | None = None
    weight: int = 1
    name: str | None = None
    # bodies drawn from a schema or read from a file before the run; each send takes one
    bodies: tuple[Any, ...] = field(default=(), hash=False)
    body_order: str = "random"  # or "file": in order, round and round
    body_seed: int = 0
    # validate: the statuses that count as success (empty: the usual rule), the answer schema
    accept_status: tuple[int, ...] = ()
    answer_schema: Any = field(default=None, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "bodies", tuple(self.bodies))
        object.__setattr__(self, "accept_status", tuple(self.accept_status))
        method = self.method.upper()
        object.__setattr__(self, "method", method)
        object.__setattr__(self, "headers", dict(self.headers))
        if self.name is None:
            object.__setattr__(self, "name", f"{method} {self.path}")
        if not self.path.startswith("/"):
            raise ValueError(f"request path must start with '/': {self.path!r}")
        if self.weight < 1:
            raise ValueError(f"request weight must be >= 1, got {self.weight}")
        if self.has_json and self.body is not None:
            raise ValueError("a request takes either `json` or `body`, not both")
        if self.bodies and (self.has_json or self.body is not None):
            raise ValueError("a request with a pool of bodies takes no `json` or `body`")
        if self.body_order not in BODY_ORDERS:
            raise ValueError(f"body_order must be one of {BODY_ORDERS}")

    @property
    def has_json(self) -> bool:
        """True when a JSON body (possibly `null`) is to be sent."""
        return self.json is not NO_JSON

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for a Locust client's `request`: the body encoded once, and a
        JSON content type unless the scenario set its own."""
        headers = dict(self.headers)
        kwargs: dict[str, Any] = {"name": self.name}
        if self.bodies and not any(h.lower() == "content-type" for h in headers):
            headers["Content-Type"] = "application/json"  # the body itself comes per send
        if self.has_json:
            kwargs["data"] = _json.dumps(self.json)
            if not any(h.lower() == "content-type" for h in headers):
                headers["Content-Type"] = "application/json"
        elif self.body is not None:
            kwargs["data"] = self.body
        if headers:
            kwargs["headers"] = headers
        return kwargs

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form; `json` is left out entirely when there is no JSON body."""
        data = asdict(self)
        data["headers"] = dict(self.headers)
        data["bodies"] = list(self.bodies)
        if not self.has_json:
            del data["json"]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RequestSpec:
        """Inverse of `to_dict`."""
        return cls(**dict(data))


@dataclass(frozen=True)
class LoadPlan:
    """A load run. Closed model: `users` users, each sending requests back to back. Open model
    (`rate_per_s` set): one scheduler user per generator process sends requests at scheduled
    arrival times, up to `max_in_flight` unanswered (0: rate × timeout), whether or not earlier
    ones have answered."""

    host: str
    requests: tuple[RequestSpec, ...]
    users: int
    ramp_s: float = 0.0
    duration_s: float = 10.0
    warmup_s: float = 0.0
    wait_min_s: float = 0.0
    wait_max_s: float = 0.0
    timeout_s: float = 10.0
    user_class: str = "fast"
    rate_per_s: float | None = None
    arrivals: str = "poisson"
    seed: int = 0
    max_in_flight: int = 0
    workers: int = 1
    # compare: (baseline, candidate) hosts, alternated in `compare_rounds` ABBA rounds
    compare_hosts: tuple[str, ...] = ()
    compare_rounds: int = 0
    # every request carries a W3C traceparent and x-request-id (config `trace_headers`)
    trace_headers: bool = True
    # replay: the recorded requests, sent at their recorded offsets (rate mode)
    replay: ReplayTimeline | None = None
    # llm: an OpenAI-compatible streaming client sends the plan's one request, timed by token
    llm: LlmPlan | None = None
    # user_class "module:Class": where the scenario writes it (for messages), folders its
    # module is also looked for in, whether the scenario's `wait` replaces the class's own
    # wait_time, the hosts besides the target its requests may go to (allow.hosts), and the
    # load's headers (infratest's own requests carry theirs in `requests`)
    user_class_at: str = ""
    user_class_paths: tuple[str, ...] = ()
    wait_given: bool = False
    allow_hosts: tuple[str, ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "requests", tuple(self.requests))
        object.__setattr__(self, "host", self.host.rstrip("/"))
        object.__setattr__(self, "compare_hosts", tuple(h.rstrip("/") for h in self.compare_hosts))
        object.__setattr__(self, "user_class_paths", tuple(self.user_class_paths))
        object.__setattr__(self, "allow_hosts", tuple(self.allow_hosts))
        object.__setattr__(self, "headers", dict(self.headers))
        problems = _plan_problems(self)
        if problems:
            raise ValueError("invalid load plan: " + "; ".join(problems))

    @property
    def measure_start_s(self) -> float:
        """Where measurement begins: after the ramp and the warm-up, whichever ends later
        (figures taken while users are still being added would describe a smaller load)."""
        return max(self.ramp_s, self.warmup_s)

    @property
    def spawn_rate(self) -> float:
        """Users started per second; everyone at once when there is no ramp, and always in
        rate mode (its ramp is in the schedule; the users are its schedulers)."""
        if self.ramp_s > 0 and not self.open_model:
            return self.users / self.ramp_s
        return float(self.users)

    @property
    def own_user(self) -> bool:
        """True when the users are the scenario's own Locust class ("module:Class")."""
        return self.user_class not in USER_CLASSES

    @property
    def open_model(self) -> bool:
        """True for an arrival-rate (open-model) run."""
        return self.rate_per_s is not None

    @property
    def in_flight_cap(self) -> int:
        """Unanswered requests one generator process allows at once in rate mode: enough for
        every arrival of one timeout unless the plan says otherwise."""
        if self.max_in_flight > 0:
            return max(math.ceil(self.max_in_flight / self.workers), 1)
        return max(math.ceil((self.rate_per_s or 0.0) * self.timeout_s / self.workers), 1)

    @cached_property
    def rounds(self) -> RoundLayout | None:
        """Compare: how the measured window alternates between the two hosts."""
        if not self.compare_hosts:
            return None
        return RoundLayout.fitted(self.compare_rounds, self.measure_start_s, self.duration_s)

    def url_at(self, path: str, t_s: float) -> str:
        """Where a request sent `t_s` seconds into the run goes: its path on the plan's host,
        or in a compare the whole URL on the host whose block it falls in."""
        layout = self.rounds
        if layout is None:
            return path
        return self.compare_hosts[layout.side_at(t_s)] + path

    def whole_schedule(self) -> ArrivalSchedule | RecordedSchedule:
        """The run's whole arrival schedule, over every generator process (rate mode only):
        drawn at the plan's rate, or a replay's recorded times."""
        if self.rate_per_s is None:
            raise ValueError("a closed-model plan has no arrival schedule")
        if self.replay is not None:
            return self.replay.schedule(self.duration_s)
        return ArrivalSchedule(
            self.rate_per_s, self.duration_s, self.ramp_s, self.arrivals, self.seed
        )

    def schedule(self, worker_index: int = 0) -> ArrivalSchedule | RecordedSchedule:
        """Worker `worker_index`'s share of the arrival schedule (rate mode only)."""
        return self.whole_schedule().for_worker(worker_index, self.workers)

    def to_json(self) -> str:
        """Serialise for the child process."""
        data = asdict(self)
        data["requests"] = [r.to_dict() for r in self.requests]
        return _json.dumps(data, indent=None if self.replay else 2)  # a replay may be long

    @classmethod
    def from_json(cls, text: str) -> LoadPlan:
        """Inverse of `to_json`."""
        data = _json.loads(text)
        data["requests"] = tuple(RequestSpec.from_dict(r) for r in data["requests"])
        if data.get("replay") is not None:
            data["replay"] = ReplayTimeline.from_dict(data["replay"])
        if data.get("llm") is not None:
            data["llm"] = LlmPlan.from_dict(data["llm"])
        return cls(**data)


def _plan_problems(plan: LoadPlan) -> list[str]:
    """Every reason the plan cannot run, so the user fixes them in one go."""
    is_url = plan.host.startswith(("http://", "https://"))
    own = plan.own_user
    checks = [
        (is_url, f"host must be an http(s) URL: {plan.host}"),
        (len(plan.requests) > 0 or own, "at least one request is needed"),
        (not (own and plan.requests), "a user class sends its own tasks: no requests with it"),
        (not (own and plan.open_model), "a user class runs closed-model only (users)"),
        (not (own and plan.compare_hosts), "a user class cannot run in a compare"),
        (plan.users >= 1, f"users must be >= 1, got {plan.users}"),
        (plan.duration_s > 0, f"duration_s must be > 0, got {plan.duration_s}"),
        (0 <= plan.ramp_s <= plan.duration_s, "ramp_s must be within [0, duration_s]"),
        (0 <= plan.warmup_s < plan.duration_s, "warmup_s must be within [0, duration_s)"),
        (plan.measure_start_s < plan.duration_s, "the ramp must end before duration_s"),
        (0 <= plan.wait_min_s <= plan.wait_max_s, "need 0 <= wait_min_s <= wait_max_s"),
        (plan.timeout_s > 0, f"timeout_s must be > 0, got {plan.timeout_s}"),
        (
            plan.user_class in USER_CLASSES or OWN_USER_CLASS.match(plan.user_class),
            f'user_class must be one of {USER_CLASSES} or "module:Class"',
        ),
        (plan.rate_per_s is None or plan.rate_per_s > 0, "rate_per_s must be > 0"),
        (plan.arrivals in ARRIVAL_KINDS, f"arrivals must be one of {ARRIVAL_KINDS}"),
        (plan.max_in_flight >= 0, f"max_in_flight must be >= 0, got {plan.max_in_flight}"),
        (plan.workers >= 1, f"workers must be >= 1, got {plan.workers}"),
        (
            not plan.compare_hosts or (len(plan.compare_hosts) == 2 and plan.compare_rounds >= 1),
            "compare needs two hosts and at least one round",
        ),
        (plan.replay is None or plan.open_model, "a replay is sent in rate mode"),
        (plan.llm is None or plan.user_class == "fast", "an llm load uses the fast client"),
        (
            plan.replay is None or max(plan.replay.requests) < len(plan.requests),
            "a replay's requests must index the plan's requests",
        ),
    ]
    return [message for ok, message in checks if not ok]
