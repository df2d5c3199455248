"""The workload sections that measure without generating load (`observe`, `cold_start`,
`disk`, `s3`, `network`) and the `probe` section."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BeforeValidator, Field, field_validator, model_validator

from infratest.spec.fields import (
    Bytes,
    Duration,
    Section,
)
from infratest.spec.prom_checks import check_prometheus
from infratest.spec.traffic import Request


class ObserveSpec(Section):
    """Probes only, no load: an idle baseline, or watching a batch job."""

    duration: Duration = Field(gt=0)
    warmup: Duration = 0.0


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
    """Which process psutil watches (at most one selector; the host is always watched), or
    a Prometheus endpoint to scrape (or a Prometheus server to query), or this machine's
    GPUs through NVML, instead."""

    enabled: bool = True
    target: bool = False
    pid: int | None = Field(default=None, ge=1)
    port: int | None = Field(default=None, ge=1, le=65535)
    name: str | None = None
    cmdline: str | None = Field(default=None, description="regular expression")
    interval: Duration = Field(default=0.25, ge=0.01, le=60)
    warmup: Duration = Field(default=0.0, description="excluded from growth slopes")
    prometheus: str | None = Field(
        default=None,
        pattern=r"^(https?://|/)",
        description="exposition endpoint: a path on the target (/metrics) or a URL; "
        "with query, a Prometheus server's URL",
    )
    metrics: dict[str, str] | None = Field(
        default=None, description='series -> exposition metric, e.g. name{label="value"}'
    )
    query: dict[str, str] | None = Field(
        default=None, description="series -> PromQL, read over the load window afterwards"
    )
    gpu: Literal["all"] | Annotated[int, Field(ge=0, le=255)] | None = Field(
        default=None,
        description="this machine's NVIDIA GPUs through NVML: all, or one device index",
    )

    @field_validator("gpu", mode="before")
    @classmethod
    def _gpu_choice(cls, value: Any) -> Any:
        if value is None or value == "all":
            return value
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 255:
            raise ValueError(f"expected all or a GPU index (0, 1, ...), got {value!r}")
        return value

    @model_validator(mode="after")
    def _one_selector(self) -> ProbeSpec:
        chosen = [k for k in ("pid", "port", "name", "cmdline") if getattr(self, k) is not None]
        if self.gpu is not None:
            _check_gpu(self, chosen)
        if self.prometheus is not None or self.metrics is not None or self.query is not None:
            check_prometheus(self, chosen)
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
        """Whether process.* metrics can be measured (a Prometheus probe reads them from the
        exporter, wherever the process runs)."""
        return self.target or any(
            getattr(self, k) is not None for k in ("pid", "port", "name", "cmdline", "prometheus")
        )

    @property
    def reads_gpus(self) -> bool:
        """Whether this is a GPU probe (NVML on this machine: gpu.* only)."""
        return self.gpu is not None

    @property
    def on_target(self) -> bool:
        """Whether the probe scrapes a path on the scenario's target."""
        return self.prometheus is not None and self.prometheus.startswith("/")


def _check_gpu(spec: ProbeSpec, selectors: list[str]) -> None:
    """A GPU probe reads NVML only: no process, no Prometheus beside it."""
    others = [*selectors, *(["target"] if spec.target else [])]
    others += [k for k in ("prometheus", "metrics", "query") if getattr(spec, k) is not None]
    if others:
        raise ValueError(
            f"gpu reads this machine's GPUs through NVML: give no {', '.join(others)} beside "
            "it (probe the process or the exporter in another assumption)"
        )


ProbeField = Annotated[
    ProbeSpec | None,
    BeforeValidator(
        _probe_shorthand, json_schema_input_type=Literal["target", "host", "none"] | ProbeSpec
    ),
]
