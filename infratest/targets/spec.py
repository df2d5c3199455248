"""What the config states about one target, and the error a managed target fails with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


class TargetError(Exception):
    """A managed target could not start, did not become ready, or died; carries its output."""

    def __init__(self, reason: str, output_tail: str = "", target: str | None = None) -> None:
        super().__init__(reason, output_tail, target)
        self.reason = reason
        self.output_tail = output_tail
        self.target = target

    def __str__(self) -> str:
        head = f"target {self.target!r}: {self.reason}" if self.target else self.reason
        if not self.output_tail.strip():
            return head
        return f"{head}\n--- output tail ---\n{self.output_tail}"


@dataclass(frozen=True)
class TargetSpec:
    """Plain values for one target, as the config states them (placeholders unformatted)."""

    name: str
    url: str
    launch: tuple[str, ...] | None = None
    ready: str | None = None  # None -> "tcp" for managed targets
    ready_timeout_s: float = 60.0
    stop_timeout_s: float = 5.0
    env: Mapping[str, str] = field(default_factory=dict, hash=False)
    cwd: str | None = None
    version: str | None = None  # path or URL answering the served model's version

    def __post_init__(self) -> None:
        if self.launch is not None and not isinstance(self.launch, tuple):
            object.__setattr__(self, "launch", tuple(self.launch))

    @property
    def managed(self) -> bool:
        """Managed targets are started by infratest; remote ones only get traffic."""
        return self.launch is not None

    @property
    def ready_check(self) -> str:
        """The check to poll: an HTTP path, or "tcp" (the default for managed targets)."""
        return self.ready or "tcp"
