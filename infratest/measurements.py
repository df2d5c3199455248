"""What a workload hands to the verdict: interval estimates per metric, plus the series that
reports plot, notes on how things were measured, and reasons a result cannot be trusted."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from infratest.stats import Interval


class MeasurementError(Exception):
    """The assumption could not be measured at all (target down, bad credentials, missing
    path): the verdict is `error`, with this message as the reason."""


@dataclass
class Measurements:
    """Everything one assumption measured; JSON-ready except the Interval values."""

    values: dict[str, Interval] = field(default_factory=dict)
    series: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    untrusted: str | None = None  # why no check may pass (e.g. the load generator saturated)
    error: str | None = None  # set when measuring failed part-way; the verdict is `error`

    def add(self, metric: str, interval: Interval) -> None:
        """Record one metric's estimate."""
        self.values[metric] = interval

    def merge(self, other: Measurements) -> None:
        """Fold another workload's or probe's results into these."""
        self.values.update(other.values)
        self.series.update(other.series)
        self.notes += other.notes
        self.untrusted = self.untrusted or other.untrusted
        self.error = self.error or other.error
