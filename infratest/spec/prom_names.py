"""The vocabulary of a Prometheus probe: which infratest series a scraped or queried metric
feeds, the standard exporter names for each, and the ``name{label="value"}`` selectors a
``metrics:`` entry may use (full PromQL only goes to a Prometheus server, in ``query:``).

Pure logic, shared by validation and the probes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

MIB = float(1 << 20)

# infratest series a Prometheus probe can fill -> the ProbeSeries column it lands in.
BASES: dict[str, str] = {
    "process.rss": "rss",
    "process.cpu": "cpu",
    "process.fds": "fds",
    "process.threads": "threads",
    "gpu.memory.used": "gpu_memory_used",
}
# Exporters' own names for those series, tried in order (the first present is used).
STANDARD: dict[str, tuple[str, ...]] = {
    "process.rss": ("process_resident_memory_bytes",),
    "process.cpu": ("process_cpu_seconds_total",),
    "process.fds": ("process_open_fds",),
    "gpu.memory.used": ("nv_gpu_memory_used_bytes", "DCGM_FI_DEV_FB_USED"),
}
# Metrics not in bytes: DCGM reports frame-buffer use in MiB.
SCALE: dict[str, float] = {"DCGM_FI_DEV_FB_USED": MIB}

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|$)')
_SELECTOR = re.compile(rf"^\s*({_NAME})\s*(?:\{{(.*)\}})?\s*$", re.DOTALL)


@dataclass(frozen=True)
class Selector:
    """One exposition metric and the labels its series must carry (equality only)."""

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def scale(self) -> float:
        """Factor to the infratest unit (bytes for memory)."""
        return SCALE.get(self.name, 1.0)

    def matches(self, name: str, labels: Mapping[str, str]) -> bool:
        """Whether a sample of that name and those labels is one of this selector's series."""
        return name == self.name and all(labels.get(k) == v for k, v in self.labels.items())

    def __str__(self) -> str:
        inner = ",".join(f'{k}="{v}"' for k, v in self.labels.items())
        return f"{self.name}{{{inner}}}" if inner else self.name


def parse_selector(text: str) -> Selector:
    """``name`` or ``name{a="b",c="d"}``; ValueError saying what is wrong otherwise."""
    found = _SELECTOR.match(text)
    if found is None:
        raise ValueError(
            f'"{text}" is not a metric selector: expected name or name{{label="value",...}} '
            "(PromQL functions need a Prometheus server: use query)"
        )
    name, inner = found.group(1), found.group(2)
    labels: dict[str, str] = {}
    rest = (inner or "").strip()
    while rest:
        label = _LABEL.match(rest)
        if label is None:
            raise ValueError(f'"{text}": cannot read labels at "{rest}" (write label="value")')
        labels[label.group(1)] = re.sub(r"\\(.)", r"\1", label.group(2))
        rest = rest[label.end() :].strip()
    return Selector(name, labels)


def base_of(metric: str) -> str | None:
    """The series a catalogue metric is computed from (process.rss.growth -> process.rss)."""
    base = metric.rsplit(".", 1)[0]
    return base if base in BASES else None


def bases_needed(metrics: Iterable[str]) -> set[str]:
    """The series the given expected metrics need."""
    return {b for b in (base_of(m) for m in metrics) if b is not None}


def unknown_keys(keys: Iterable[str]) -> list[str]:
    """Keys of a `metrics:` or `query:` mapping that name no series."""
    return [k for k in keys if k not in BASES]
