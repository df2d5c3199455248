"""A replay's timeline as the Locust processes take it: when each recorded request is due, and
which one it is (its request kind, its URL and its body), as plain indexed data that crosses the
process boundary as JSON. The arrival schedule of a replay is its recorded offsets, split over
generator processes by taking every n-th request, so the whole keeps the recording's order."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Final

RECORDED: Final = "recorded"  # the arrival kind a replay reports
NO_BODY: Final = -1


@dataclass(frozen=True)
class RecordedSchedule:
    """A replay's arrivals, shaped like an `ArrivalSchedule`: the times are the recording's."""

    offsets: tuple[float, ...]
    duration_s: float
    speed: float = 1.0
    kind: str = RECORDED
    seed: int = 0  # nothing is drawn; kept for the summary's shape

    @property
    def rate_per_s(self) -> float:
        """The recording's mean rate over the run (the summary's "asked" rate)."""
        return len(self.offsets) / self.duration_s

    def for_worker(self, index: int, workers: int) -> RecordedSchedule:
        """Worker `index`'s part: every `workers`-th request, starting at `index`."""
        if not 0 <= index < workers:
            raise ValueError(f"worker index {index} is not within 0..{workers - 1}")
        return RecordedSchedule(self.offsets[index::workers], self.duration_s, self.speed)

    def times(self) -> Iterator[float]:
        """The due times inside the run, ascending."""
        return (t for t in self.offsets if t < self.duration_s)


@dataclass(frozen=True)
class ReplayTimeline:
    """Every request of a replay, by index: `requests[i]` indexes the plan's request kinds,
    `targets[i]` the `urls` (a path, or an absolute URL when recorded hosts are kept),
    `bodies[i]` the encoded `payloads` (NO_BODY: none)."""

    offsets: tuple[float, ...]
    requests: tuple[int, ...]
    targets: tuple[int, ...]
    bodies: tuple[int, ...]
    urls: tuple[str, ...]
    payloads: tuple[str, ...]
    speed: float = 1.0

    def __post_init__(self) -> None:
        for name in ("offsets", "requests", "targets", "bodies", "urls", "payloads"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        sizes = {len(self.offsets), len(self.requests), len(self.targets), len(self.bodies)}
        if len(sizes) != 1:
            raise ValueError("a replay timeline's columns must be equally long")
        if not self.offsets:
            raise ValueError("a replay timeline needs at least one request")
        if any(b > a for a, b in zip(self.offsets[1:], self.offsets, strict=False)):
            raise ValueError("a replay timeline's offsets must be ascending")

    def schedule(self, duration_s: float) -> RecordedSchedule:
        return RecordedSchedule(self.offsets, duration_s, self.speed)

    def worker_events(self, index: int, workers: int) -> range:
        """The positions of worker `index`'s requests, in the order its schedule sends them."""
        return range(index, len(self.offsets), workers)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReplayTimeline:
        return cls(**dict(data))
