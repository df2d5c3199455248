"""What simulated users send: requests, think time, timeouts, and (open model) how arrivals
are drawn. Shared by every workload that generates load."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from infratest.spec.body_shapes import Column, SizeHint, check_field_paths
from infratest.spec.fields import (
    Duration,
    Section,
)

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


_NO_BODY = object()
BODY_KEYS = ("json", "body", "json_schema", "replay")
BODY_FIELDS = {key: "json_body" if key == "json" else key for key in BODY_KEYS}


def _request_shorthand(value: Any) -> Any:
    """``"GET /healthz"`` is short for ``{method: GET, path: /healthz}``."""
    if isinstance(value, str):
        parts = value.split()
        if len(parts) != 2:
            raise ValueError(f'expected "METHOD /path" such as "GET /healthz", got "{value}"')
        return {"method": parts[0], "path": parts[1]}
    return value


class ValidateSpec(Section):
    """What counts as an answer: the statuses that are a success (default: the usual rule,
    any status below 400) and a JSON Schema the body must match."""

    status: tuple[int, ...] | None = Field(default=None, description="e.g. [200]")
    json_schema: str | None = Field(
        default=None, description="JSON Schema file the answer must match (relative path)"
    )

    @property
    def active(self) -> bool:
        return self.status is not None or self.json_schema is not None


class RequestSpec(Section):
    """One kind of request in the load mix."""

    method: Literal[METHODS] = "GET"  # type: ignore[valid-type]
    path: str = Field(pattern=r"^/", description="path (and query) starting with '/'")
    headers: dict[str, str] = Field(default_factory=dict)
    json_body: Any = Field(default=None, alias="json")
    body: str | None = None
    json_schema: str | None = Field(
        default=None, description="JSON Schema file the bodies are drawn from (relative path)"
    )
    replay: str | None = Field(
        default=None,
        description="JSONL file of bodies, one a line, or a CSV/TSV file with a header row "
        "(relative to the scenario)",
    )
    columns: dict[str, Column] | None = Field(
        default=None,
        description="replay CSV/TSV: body field (dotted for nested) -> the column or columns "
        "its value comes from (without it, a row is an object of all its columns)",
    )
    sizes: dict[str, SizeHint] | None = Field(
        default=None,
        description="json_schema: body field (dotted for nested) -> the length range its "
        "arrays (items) or strings (characters) are drawn in",
    )
    order: Literal["random", "file"] = Field(
        default="random", description="json_schema/replay: bodies sampled at random, or in order"
    )
    pool: int = Field(
        default=1000, ge=1, le=100_000, description="json_schema/replay: bodies drawn or read"
    )
    seed: int = Field(default=0, ge=0, description="json_schema/replay: the draws' seed")
    answer_check: ValidateSpec | None = Field(
        default=None,
        alias="validate",
        description="this request's answer check (instead of the load's)",
    )
    weight: int = Field(default=1, ge=1, le=1000)
    name: str | None = None

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("columns", "sizes")
    @classmethod
    def _field_paths(cls, value: dict[str, Any] | None, info: Any) -> dict[str, Any] | None:
        if value is not None:
            if not value:
                raise ValueError("name at least one body field")
            check_field_paths(value)
        return value

    @model_validator(mode="after")
    def _one_body(self) -> RequestSpec:
        given = [k for k in BODY_KEYS if getattr(self, BODY_FIELDS[k]) is not None]
        if len(given) > 1:
            raise ValueError(f"give one body source, not {' and '.join(given)}")
        return self

    @property
    def body_file(self) -> str | None:
        """The file its bodies come from (json_schema or replay), if any."""
        return self.json_schema or self.replay

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


BUILT_IN_USERS = ("fast", "http")
# "package.module:Class": a Locust user class of the scenario's own, imported in the child
USER_CLASS_PATTERN = r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$"


def _user_class(value: str) -> str:
    """`fast`, `http`, or "module:Class" (only its shape here: importing it would import
    Locust, which monkey-patches the process, so the load's child resolves it)."""
    if value in BUILT_IN_USERS or re.match(USER_CLASS_PATTERN, value):
        return value
    raise ValueError(
        f'user_class must be fast, http, or "module:Class" such as '
        f'"locustfile:ApiUser", got "{value}"'
    )


UserClass = Annotated[
    str,
    AfterValidator(_user_class),
    WithJsonSchema(
        {
            "anyOf": [
                {"enum": list(BUILT_IN_USERS)},
                {"type": "string", "pattern": USER_CLASS_PATTERN},
            ],
            "description": 'fast (FastHttpUser), http (HttpUser), or "module:Class": your own '
            "Locust user (module found on sys.path or next to the scenario)",
        }
    ),
]


WaitField = Annotated[
    Wait, BeforeValidator(_wait, json_schema_input_type=str | tuple[str, str] | Wait)
]


class Traffic(Section):
    """The request mix and how each simulated user sends it."""

    requests: tuple[Request, ...] = Field(default=(), description="the request mix")
    headers: dict[str, str] = Field(default_factory=dict, description="sent with every request")
    wait: WaitField = Wait()
    timeout: Duration = Field(default=10.0, gt=0, description="per-request timeout")
    answer_check: ValidateSpec | None = Field(
        default=None,
        alias="validate",
        description="an answer failing it counts as an error (every request without its own)",
    )
    user_class: UserClass = "fast"
    # set by the loader for a "module:Class": where it is written, and the scenario's folder
    user_class_at: str = Field(default="", exclude=True)
    user_class_folder: str = Field(default="", exclude=True)

    @property
    def own_user(self) -> bool:
        """Whether the users are the scenario's own Locust class ("module:Class")."""
        return self.user_class not in BUILT_IN_USERS


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


OPEN_MODEL_KEYS = frozenset(ArrivalTraffic.model_fields) - frozenset(Traffic.model_fields)
