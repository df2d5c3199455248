"""The requests worth looking up when an assumption fails: the first failed requests of the
measured window and the slowest, each with its W3C trace id (the results' `traces`). Plain
typed data shared by the load generator, which fills it, and the results, which show it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Final

KEEP: Final = 20  # of each list, however long the run


@dataclass(frozen=True)
class TracedRequest:
    """One request worth looking up: when it was sent, what became of it, its trace."""

    trace_id: str
    at: float  # epoch seconds it was sent (open model: when it was due)
    t_s: float  # seconds into the measured window
    request: str  # its name in the mix
    status: int  # 0: no HTTP answer
    latency_s: float
    error: str | None  # its failure kind ("HTTP 500", "timeout", ...) or None
    url: str | None = None  # a link to the trace, from the config's trace_url
    log: tuple[str, ...] = field(default=())  # target output lines that mention it

    def __post_init__(self) -> None:
        object.__setattr__(self, "log", tuple(self.log))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["log"] = list(self.log)
        return data


@dataclass(frozen=True)
class TraceLists:
    """The results' `traces`: failed requests in send order, slowest first."""

    failed: tuple[TracedRequest, ...] = ()
    slowest: tuple[TracedRequest, ...] = ()

    def to_dict(self) -> dict[str, list[dict[str, Any]]]:
        return {
            "failed": [t.to_dict() for t in self.failed],
            "slowest": [t.to_dict() for t in self.slowest],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> TraceLists:
        data = data or {}
        return cls(
            tuple(TracedRequest(**t) for t in data.get("failed", ())),
            tuple(TracedRequest(**t) for t in data.get("slowest", ())),
        )

    @classmethod
    def merged(cls, parts: Iterable[TraceLists]) -> TraceLists:
        """Several processes' lists as one, by the same rules."""
        parts = list(parts)
        failed = sorted((t for p in parts for t in p.failed), key=lambda t: t.at)[:KEEP]
        slowest = sorted((t for p in parts for t in p.slowest), key=lambda t: -t.latency_s)
        return cls(tuple(failed), tuple(slowest[:KEEP]))

    @property
    def ids(self) -> set[str]:
        return {t.trace_id for t in (*self.failed, *self.slowest)}
