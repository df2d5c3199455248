"""The environment config model: where targets are, how managed ones start, what may be loaded."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, model_validator

from infratest.spec.fields import Duration, Name, Rate, Section

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


class Config(Section):
    """An environment profile (``configs/<env>.yaml``)."""

    targets: dict[Name, TargetConfig] = Field(default_factory=dict)
    allow: Allow = Allow()
    limits: Limits = Limits()
    path: str = Field(default="", exclude=True, description="set by the loader")
