"""What a watched load run shows while it runs: once a second, its checks as they stand."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from infratest.verdict import Verdict


@dataclass(frozen=True)
class LiveCheck:
    """One check as it stands at a look, for the live progress line."""

    metric: str
    condition: str
    measured: str
    verdict: Verdict


@dataclass(frozen=True)
class LiveStatus:
    """What the progress line shows once a second."""

    t: float  # seconds since this load run started
    total_s: float
    users: int
    rps: float
    errors: int
    checks: tuple[LiveCheck, ...]


Progress = Callable[[LiveStatus], None]
