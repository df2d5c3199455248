"""The environment config model: where targets are, how managed ones start, what may be loaded."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator, model_validator

from infratest.spec.fields import Duration, Name, Rate, Section, WorkerCount

DEFAULT_ALLOWED_HOSTS = ("127.0.0.1", "localhost", "::1")


def _as_text(value: Any) -> Any:
    """YAML reads ``--port, 8080`` as a number; a command line is text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


Argument = Annotated[str, BeforeValidator(_as_text, json_schema_input_type=str | int | float)]


class TargetConfig(Section):
    """A remote URL, or a managed process infratest launches, probes and stops."""

    url: str = Field(pattern=r"^https?://", description="{port}: a free port chosen at start")
    launch: tuple[Argument, ...] | None = Field(
        default=None, min_length=1, description="{python}: the interpreter running infratest"
    )
    ready: str | None = Field(
        default=None, pattern=r"^(tcp|/.*)$", description="HTTP path polled until 200, or 'tcp'"
    )
    ready_timeout: Duration = Field(default=60.0, gt=0)
    stop_timeout: Duration = Field(default=5.0, gt=0)
    env: dict[str, Argument] = Field(default_factory=dict)
    cwd: str | None = None
    version: str | None = Field(
        default=None,
        pattern=r"^(/|https?://)",
        description="path (or URL on an allowed host) answering the served model's version; "
        "fetched once the target is ready, kept in evidence bundles",
    )
    artifact: str | None = Field(
        default=None,
        min_length=1,
        description="model file or folder the target serves (relative to this config); "
        "its SHA-256 goes into evidence bundles",
    )

    @model_validator(mode="after")
    def _port_needs_launch(self) -> TargetConfig:
        if "{port}" in self.url and self.launch is None:
            raise ValueError("url has {port} but no launch command to start the target on it")
        if self.ready is not None and self.launch is None:
            raise ValueError("ready only applies to managed targets (with launch)")
        return self

    @property
    def managed(self) -> bool:
        """Whether infratest starts (and stops) this target."""
        return self.launch is not None


class Allow(Section):
    """Hosts that load and probe traffic may go to; anything else is refused."""

    hosts: tuple[str, ...] = DEFAULT_ALLOWED_HOSTS


class Limits(Section):
    """Hard ceilings, whatever a scenario asks for."""

    max_users: int = Field(default=200, ge=1)
    max_duration: Duration = Field(default=600.0, gt=0)
    max_rate: Rate = Field(default=20000.0, gt=0, description="open-model arrivals per second")
    max_in_flight: int = Field(
        default=10000, ge=1, description="open model: most unanswered requests at once"
    )


BIND_PATTERN = r"^(\*|\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9_.\-]*):[0-9]{1,5}$"


class MasterConfig(Section):
    """Where the Locust master listens for workers, and how many remote ones it waits for."""

    bind: str = Field(
        default="127.0.0.1:5557",
        json_schema_extra={"pattern": BIND_PATTERN},
        description="host:port ('*' for every interface)",
    )
    expect_remote: int = Field(default=0, ge=0, description="remote workers to wait for")
    wait: Duration = Field(default=30.0, gt=0, description="longest wait for them to join")

    @field_validator("bind")
    @classmethod
    def _host_port(cls, bind: str) -> str:
        if not re.match(BIND_PATTERN, bind):
            raise ValueError(f"bind must be host:port such as 127.0.0.1:5557, got {bind!r}")
        port = int(bind.rsplit(":", 1)[1])
        if not 1 <= port <= 65535:
            raise ValueError(f"bind port must be within 1..65535, got {port}")
        return bind

    @property
    def host(self) -> str:
        """The interface to bind ("*" for all), without IPv6 brackets."""
        return self.bind.rsplit(":", 1)[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.bind.rsplit(":", 1)[1])


class Generators(Section):
    """How many Locust worker processes drive each load (`auto`: one per core)."""

    workers: WorkerCount = 1
    master: MasterConfig | None = None


class Config(Section):
    """An environment profile (``configs/<env>.yaml``)."""

    targets: dict[Name, TargetConfig] = Field(default_factory=dict)
    allow: Allow = Allow()
    limits: Limits = Limits()
    generators: Generators = Generators()
    trace_headers: bool = Field(
        default=True,
        description="every request carries a W3C traceparent and x-request-id (false: none)",
    )
    trace_url: str | None = Field(
        default=None,
        pattern=r"^https?://.*\{trace_id\}",
        description="link to a trace in your tracing UI, e.g. https://traces.example/trace/{trace_id}",
    )
    path: str = Field(default="", exclude=True, description="set by the loader")
