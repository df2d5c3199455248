"""The scenario model: what a scenario file says, validated, frozen, with quantities in SI units.

Structure only; checks that need the config or span sections live in :mod:`infratest.spec.checks`.
"""

from __future__ import annotations

import itertools
import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BeforeValidator, Field, field_validator, model_validator

from infratest.metrics import WORKLOADS
from infratest.spec.fields import (
    Bytes,
    ConditionField,
    Duration,
    Name,
    Rate,
    Ratio,
    Section,
    WorkerCount,
)
from infratest.units import Condition, Dimension, format_quantity

LatencyOf = Literal["all", "successful"]
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_NO_BODY = object()


def _request_shorthand(value: Any) -> Any:
    """``"GET /healthz"`` is short for ``{method: GET, path: /healthz}``."""
    if isinstance(value, str):
        parts = value.split()
        if len(parts) != 2:
            raise ValueError(f'expected "METHOD /path" such as "GET /healthz", got "{value}"')
        return {"method": parts[0], "path": parts[1]}
    return value


class RequestSpec(Section):
    """One kind of request in the load mix."""

    method: Literal[METHODS] = "GET"  # type: ignore[valid-type]
    path: str = Field(pattern=r"^/", description="path (and query) starting with '/'")
    headers: dict[str, str] = Field(default_factory=dict)
    json_body: Any = Field(default=None, alias="json")
    body: str | None = None
    weight: int = Field(default=1, ge=1, le=1000)
    name: str | None = None

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_body(self) -> RequestSpec:
        if self.json_body is not None and self.body is not None:
            raise ValueError("give either json or body, not both")
        return self

    @property
    def label(self) -> str:
        """How the request is named in results: its name, or 'METHOD /path'."""
        return self.name or f"{self.method} {self.path}"


Request = Annotated[
    RequestSpec,
    BeforeValidator(
        _request_shorthand,
        json_schema_input_type=Annotated[str, Field(pattern=r"^[A-Za-z]+ /\S*$")] | RequestSpec,
    ),
]


def _wait(value: Any) -> Any:
    """``wait: 100ms`` is constant think time; ``wait: [100ms, 500ms]`` is uniform between."""
    if isinstance(value, list | tuple):
        if len(value) != 2:
            raise ValueError("expected a think time such as 100ms, or [min, max]")
        return {"min": value[0], "max": value[1]}
    return {"min": value, "max": value}


class Wait(Section):
    """Think time between a user's requests."""

    min: Duration = 0.0
    max: Duration = 0.0

    @model_validator(mode="after")
    def _ordered(self) -> Wait:
        if self.max < self.min:
            raise ValueError("the wait's maximum is below its minimum")
        return self


WaitField = Annotated[
    Wait, BeforeValidator(_wait, json_schema_input_type=str | tuple[str, str] | Wait)
]


class Traffic(Section):
    """The request mix and how each simulated user sends it."""

    requests: tuple[Request, ...] = Field(default=(), description="the request mix")
    headers: dict[str, str] = Field(default_factory=dict, description="sent with every request")
    wait: WaitField = Wait()
    timeout: Duration = Field(default=10.0, gt=0, description="per-request timeout")
    user_class: Literal["fast", "http"] = "fast"


def _early_stop_fits(
    start: float, min_duration: float, cap: float, names: str, cap_name: str
) -> None:
    """With `until: decided` a pass may stop the run only after `min_duration` of measured
    time, so that much must fit before the cap."""
    if start + min_duration > cap:
        a, b, c = (format_quantity(x, Dimension.DURATION) for x in (start, min_duration, cap))
        raise ValueError(
            f"with until: decided, {names} must not exceed {cap_name} ({a} + {b} > {c})"
        )


class ArrivalTraffic(Traffic):
    """Traffic that may be sent at an arrival rate (open model): how the arrivals are drawn,
    how many may wait unanswered, and how late the scheduler may be. Used only with `rate`."""

    arrivals: Literal["poisson", "uniform"] = Field(
        default="poisson", description="open model: how arrival times are drawn"
    )
    seed: int | None = Field(
        default=None, ge=0, description="open model: seed of the arrival schedule (recorded)"
    )
    max_in_flight: int | None = Field(
        default=None, ge=1, description="open model: most unanswered requests (rate × timeout)"
    )
    max_lag: Duration = Field(
        default=0.020,
        gt=0,
        description="open model: a scheduler lag p99 above this: the run is inconclusive",
    )


class LoadSpec(ArrivalTraffic):
    """Load for `duration`: closed model (`users` concurrent users, each waiting for its answer)
    or open model (`rate` arrivals per second, sent whether or not earlier ones answered).
    Checks are monitored while it runs, so a run may stop early (`fail_fast`, `until: decided`)."""

    users: int | None = Field(default=None, ge=1, description="closed model: concurrent users")
    rate: Rate | None = Field(default=None, description="open model: arrivals per second")
    duration: Duration = Field(gt=0)
    ramp: Duration = 0.0
    warmup: Duration = Field(default=0.0, description="excluded from the figures")
    fail_fast: bool = Field(
        default=True, description="a check that has failed with confidence stops the run"
    )
    until: Literal["duration", "decided"] = Field(
        default="duration",
        description="decided: also stop once every check is decided (duration is the cap)",
    )
    min_duration: Duration = Field(
        default=5.0, gt=0, description="measured time after warm-up before a pass may stop"
    )
    workers: WorkerCount | None = Field(
        default=None, description="Locust worker processes (auto: one per core); config default"
    )

    @model_validator(mode="after")
    def _windows(self) -> LoadSpec:
        if (self.users is None) == (self.rate is None):
            raise ValueError(
                "give exactly one of users (closed model) or rate (open model, e.g. 200/s)"
            )
        if self.rate is not None and self.rate <= 0:
            raise ValueError("rate must be above zero")
        if self.users is not None:
            open_keys = {"arrivals", "seed", "max_in_flight", "max_lag"} & self.model_fields_set
            if open_keys:
                raise ValueError(
                    f"{', '.join(sorted(open_keys))} apply only to an open-model load (rate)"
                )
        if self.warmup >= self.duration:
            raise ValueError("warmup must be shorter than duration")
        if self.ramp > self.duration:
            raise ValueError("ramp must not be longer than duration")
        if self.until == "decided":
            _early_stop_fits(
                self.measure_start,
                self.min_duration,
                self.duration,
                "max(ramp, warmup) + min_duration",
                "duration",
            )
        return self

    @property
    def measure_start(self) -> float:
        """Seconds from the start of the load to the measured window: the ramp is never
        measured, and neither is the warm-up."""
        return max(self.ramp, self.warmup)


class ObserveSpec(Section):
    """Probes only, no load: an idle baseline, or watching a batch job."""

    duration: Duration = Field(gt=0)
    warmup: Duration = 0.0


OPEN_MODEL_KEYS = frozenset(ArrivalTraffic.model_fields) - frozenset(Traffic.model_fields)


class SteppedTraffic(ArrivalTraffic):
    """Traffic stepped over load levels (sweep, capacity): by users (closed model) or by
    arrival rate (open model, with the load section's open-model keys), on Locust workers
    when asked."""

    workers: WorkerCount | None = Field(
        default=None, description="Locust worker processes per step (auto: one per core)"
    )

    def _one_model(self, by_users: bool, by_rate: bool) -> None:
        """Exactly one of users / rate, and the open-model keys only with rate."""
        if by_users == by_rate:
            raise ValueError("give exactly one of users (closed model) or rate (open model)")
        open_keys = OPEN_MODEL_KEYS & self.model_fields_set
        if by_users and open_keys:
            raise ValueError(f"{', '.join(sorted(open_keys))} apply only to steps over rate")


class SweepSpec(SteppedTraffic):
    """A load step per user level or arrival rate, to see how throughput scales."""

    users: tuple[Annotated[int, Field(ge=1)], ...] | None = Field(
        default=None, min_length=2, description="closed model: increasing user levels"
    )
    rate: tuple[Rate, ...] | None = Field(
        default=None, min_length=2, description="open model: increasing arrival rates"
    )
    step: Duration = Field(gt=0, description="duration of each level")
    warmup: Duration = Field(default=0.0, description="excluded at the start of each step")

    @model_validator(mode="after")
    def _levels(self) -> SweepSpec:
        self._one_model(self.users is not None, self.rate is not None)
        levels = self.levels
        if any(b <= a for a, b in itertools.pairwise(levels)):
            fmt = (lambda x: format_quantity(x, Dimension.RATE)) if self.rate else str
            shown = ", ".join(fmt(x) for x in levels)
            raise ValueError(f"{self.level_name} levels must increase, got [{shown}]")
        if self.rate is not None and self.rate[0] <= 0:
            raise ValueError("rates must be above zero")
        return self

    @property
    def by_rate(self) -> bool:
        """Whether the steps are open-model arrival rates (else user counts)."""
        return self.rate is not None

    @property
    def level_name(self) -> str:
        return "rate" if self.by_rate else "user"

    @property
    def levels(self) -> tuple[float, ...]:
        """The steps' levels: arrivals per second, or users."""
        return tuple(self.rate or self.users or ())


class UserRange(Section):
    """The bracket a capacity search works in."""

    min: int = Field(default=1, ge=1)
    max: int = Field(ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> UserRange:
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) is below min ({self.min})")
        return self


class RateRange(Section):
    """The bracket a capacity search over arrival rates works in (searched in whole req/s)."""

    min: Rate = Field(description="at least 1/s")
    max: Rate

    @model_validator(mode="after")
    def _ordered(self) -> RateRange:
        if self.min < 1.0:
            raise ValueError("min must be at least 1/s (the search steps in whole req/s)")
        if self.max < self.min:
            low, high = (format_quantity(x, Dimension.RATE) for x in (self.min, self.max))
            raise ValueError(f"max ({high}) is below min ({low})")
        return self


class CapacityPlan(Section):
    """What the capacity answer is for: replicas needed for a rate, with headroom."""

    rate: Rate
    headroom: Ratio = 0.0


class CapacitySpec(SteppedTraffic):
    """Search for the largest load (users, or arrival rate) that meets every SLO condition."""

    slo: dict[str, ConditionField] = Field(min_length=1)
    users: UserRange | None = Field(default=None, description="closed model: users to search")
    rate: RateRange | None = Field(default=None, description="open model: rates to search")
    step: Duration = Field(gt=0)
    warmup: Duration = 0.0
    max_steps: int = Field(default=12, ge=2, le=50)
    plan: CapacityPlan | None = None
    until: Literal["step", "decided"] = Field(
        default="decided",
        description="decided: a step ends once its SLO is decided (step is the cap)",
    )
    min_duration: Duration = Field(
        default=2.0, gt=0, description="measured time per step before a pass may end it"
    )
    fail_fast: bool = Field(
        default=True, description="a step whose SLO has failed with confidence ends at once"
    )

    @model_validator(mode="after")
    def _windows(self) -> CapacitySpec:
        self._one_model(self.users is not None, self.rate is not None)
        if self.warmup >= self.step:
            raise ValueError("warmup must be shorter than step")
        if self.until == "decided":
            _early_stop_fits(
                self.warmup, self.min_duration, self.step, "warmup + min_duration", "step"
            )
        return self


class ColdStartSpec(Section):
    """Launch fresh instances of a managed target and time how fast they become useful."""

    repeat: int = Field(default=3, ge=1, le=50)
    requests: tuple[Request, ...] = Field(default=(), description="the first one is timed")


class DiskSpec(Section):
    """Sequential write/read, fsync latency and free space of a directory's file system."""

    path: str
    size: Bytes = 256e6
    block: Bytes = 1e6
    fsync: bool = True

    @model_validator(mode="after")
    def _sizes(self) -> DiskSpec:
        if self.block <= 0 or self.size < self.block:
            raise ValueError("size must be at least one block, and block above zero")
        return self


class S3Spec(Section):
    """Object storage: an existing object (`key`) or a scratch object (`size`)."""

    target: str | None = Field(default=None, description="config target giving the endpoint URL")
    bucket: str = Field(min_length=3, max_length=63)
    key: str | None = None
    size: Bytes | None = None
    part_size: Bytes = 8 * 2**20
    concurrency: int = Field(default=4, ge=1, le=64)
    samples: int = Field(
        default=300, ge=1, le=10_000, description="ranged GETs for first byte (p99 needs 299+)"
    )
    uploads: int = Field(
        default=3,
        ge=1,
        le=50,
        description="scratch uploads, each a fresh object (an interval needs 2 or more)",
    )
    region: str = "us-east-1"
    create_bucket: bool = False

    @model_validator(mode="after")
    def _one_object(self) -> S3Spec:
        if (self.key is None) == (self.size is None):
            raise ValueError("give either key (an existing object) or size (a scratch object)")
        if self.key is not None and "uploads" in self.model_fields_set:
            raise ValueError("uploads needs size (a scratch object); key is only read")
        return self


class NetworkSpec(Section):
    """Reachability and speed of one address: given outright, or a config target's."""

    target: str | None = Field(
        default=None, description="a config target: tcp to its address, or http to a path on it"
    )
    tcp: str | None = Field(default=None, pattern=r"^(\[[0-9A-Fa-f:]+\]|[^\s:/\[\]]+):\d{1,5}$")
    http: str | None = Field(default=None, pattern=r"^(https?://|/)")
    dns: str | None = None
    samples: int = Field(default=300, ge=1, le=100_000, description="p99 needs 299 or more")
    timeout: Duration = Field(default=2.0, gt=0)

    @model_validator(mode="after")
    def _one_kind(self) -> NetworkSpec:
        given = sum(x is not None for x in (self.tcp, self.http, self.dns))
        if self.target is not None:
            if self.tcp is not None or self.dns is not None:
                raise ValueError("with target, give no tcp or dns (tcp goes to the target)")
            if self.http is not None and not self.http.startswith("/"):
                raise ValueError("with target, http is a path on it, such as /healthz")
        elif given != 1:
            raise ValueError("give exactly one of tcp, http or dns (or a target)")
        elif self.http is not None and self.http.startswith("/"):
            raise ValueError("http needs a full URL (http://host:port/path), or a target")
        return self

    @property
    def kind(self) -> str:
        """'tcp', 'http' or 'dns'."""
        if self.http:
            return "http"
        return "dns" if self.dns else "tcp"

    def at(self, url: str) -> NetworkSpec:
        """This spec aimed at a resolved target URL (its address, or a path on it)."""
        if self.http:
            return self.model_copy(update={"target": None, "http": url.rstrip("/") + self.http})
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname
        return self.model_copy(update={"target": None, "tcp": f"{host}:{port}"})


def _probe_shorthand(value: Any) -> Any:
    """``probe: target`` / ``host`` / ``none`` are short for ``{target: true}`` / ``{}`` /
    ``{enabled: false}``."""
    if value == "none":
        return {"enabled": False}
    if value == "target":
        return {"target": True}
    if value == "host":
        return {}
    if isinstance(value, str):
        raise ValueError(f'expected "target", "host", "none" or a mapping, got "{value}"')
    return value


class ProbeSpec(Section):
    """Which process psutil watches (at most one selector); the host is always watched."""

    enabled: bool = True
    target: bool = False
    pid: int | None = Field(default=None, ge=1)
    port: int | None = Field(default=None, ge=1, le=65535)
    name: str | None = None
    cmdline: str | None = Field(default=None, description="regular expression")
    interval: Duration = Field(default=0.25, ge=0.01, le=60)
    warmup: Duration = Field(default=0.0, description="excluded from growth slopes")

    @model_validator(mode="after")
    def _one_selector(self) -> ProbeSpec:
        chosen = [k for k in ("pid", "port", "name", "cmdline") if getattr(self, k) is not None]
        if len(chosen) + self.target > 1:
            raise ValueError("give at most one process selector: target, pid, port, name, cmdline")
        if self.cmdline is not None:
            try:
                re.compile(self.cmdline)
            except re.error as exc:
                raise ValueError(f"cmdline is not a valid regular expression: {exc}") from None
        return self

    @property
    def selects_process(self) -> bool:
        """Whether process.* metrics can be measured."""
        return self.target or any(
            getattr(self, k) is not None for k in ("pid", "port", "name", "cmdline")
        )


ProbeField = Annotated[
    ProbeSpec | None,
    BeforeValidator(
        _probe_shorthand, json_schema_input_type=Literal["target", "host", "none"] | ProbeSpec
    ),
]


class Assumption(Section):
    """One assumption: a workload, optionally a probe, and the conditions that must hold."""

    name: Name
    description: str = ""
    tags: tuple[str, ...] = ()
    load: LoadSpec | None = None
    observe: ObserveSpec | None = None
    sweep: SweepSpec | None = None
    capacity: CapacitySpec | None = None
    cold_start: ColdStartSpec | None = None
    disk: DiskSpec | None = None
    s3: S3Spec | None = None
    network: NetworkSpec | None = None
    probe: ProbeField = None
    latency_of: LatencyOf = Field(
        default="all",
        description="all: every request sent counts in latency figures (a failure at its "
        "time to fail); successful: only successful requests",
    )
    expect: dict[str, ConditionField] = Field(min_length=1)
    line: int = Field(default=0, exclude=True, description="set by the loader")

    @model_validator(mode="after")
    def _one_workload(self) -> Assumption:
        given = [w for w in WORKLOADS if getattr(self, w) is not None]
        if len(given) != 1:
            what = ", ".join(given) if given else "none"
            raise ValueError(
                f"needs exactly one workload section ({', '.join(WORKLOADS)}); found {what}"
            )
        return self

    @property
    def workload(self) -> str:
        """The name of the one workload section."""
        return next(w for w in WORKLOADS if getattr(self, w) is not None)

    @property
    def workload_spec(self) -> Section:
        """The workload section itself."""
        return getattr(self, self.workload)

    @property
    def conditions(self) -> list[tuple[str, Condition]]:
        """The expect conditions in file order."""
        return list(self.expect.items())


class Defaults(Section):
    """Merged into every assumption before validation (the assumption's own values win)."""

    load: dict[str, Any] = Field(
        default_factory=dict,
        description="load keys; the request mix also feeds sweep, capacity and cold_start",
    )
    probe: Any = None
    latency_of: LatencyOf | None = Field(
        default=None, description="for every assumption that does not set its own"
    )


Tag = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$", max_length=60)]


class Scenario(Section):
    """A scenario file: assumptions about one target."""

    scenario: Name
    description: str = ""
    target: str | None = None
    tags: tuple[Tag, ...] = ()
    confidence: Ratio = Field(default=0.95, ge=0.5, lt=1.0)
    defaults: Defaults = Defaults()
    assumptions: tuple[Assumption, ...] = Field(min_length=1)
    path: str = Field(default="", exclude=True, description="set by the loader")
