"""The workload sections that generate load: `load`, `sweep` and `capacity`, validated, with
quantities in SI units."""

from __future__ import annotations

import itertools
from typing import Annotated, Literal

from pydantic import Field, model_validator

from infratest.spec.fields import (
    ConditionField,
    Duration,
    Rate,
    Ratio,
    Section,
    WorkerCount,
)
from infratest.spec.traffic import (
    OPEN_MODEL_KEYS,
    ArrivalTraffic,
)
from infratest.units import Dimension, format_quantity


def _early_stop_fits(
    start: float, min_duration: float, cap: float, names: str, cap_name: str
) -> None:
    """With `until: decided` a pass may stop the run only after `min_duration` of measured
    time, so that much must fit before the cap."""
    if start + min_duration > cap:
        a, b, c = (format_quantity(x, Dimension.DURATION) for x in (start, min_duration, cap))
        raise ValueError(
            f"with until: decided, {names} must not exceed {cap_name} ({a} + {b} > {c})"
        )


class LoadSpec(ArrivalTraffic):
    """Load for `duration`: closed model (`users` concurrent users, each waiting for its answer)
    or open model (`rate` arrivals per second, sent whether or not earlier ones answered).
    Checks are monitored while it runs, so a run may stop early (`fail_fast`, `until: decided`)."""

    users: int | None = Field(default=None, ge=1, description="closed model: concurrent users")
    rate: Rate | None = Field(default=None, description="open model: arrivals per second")
    duration: Duration = Field(gt=0)
    ramp: Duration = 0.0
    warmup: Duration = Field(default=0.0, description="excluded from the figures")
    fail_fast: bool = Field(
        default=True, description="a check that has failed with confidence stops the run"
    )
    until: Literal["duration", "decided"] = Field(
        default="duration",
        description="decided: also stop once every check is decided (duration is the cap)",
    )
    min_duration: Duration = Field(
        default=5.0, gt=0, description="measured time after warm-up before a pass may stop"
    )
    workers: WorkerCount | None = Field(
        default=None, description="Locust worker processes (auto: one per core); config default"
    )

    @model_validator(mode="after")
    def _windows(self) -> LoadSpec:
        if (self.users is None) == (self.rate is None):
            raise ValueError(
                "give exactly one of users (closed model) or rate (open model, e.g. 200/s)"
            )
        if self.rate is not None and self.rate <= 0:
            raise ValueError("rate must be above zero")
        if self.users is not None:
            open_keys = {"arrivals", "seed", "max_in_flight", "max_lag"} & self.model_fields_set
            if open_keys:
                raise ValueError(
                    f"{', '.join(sorted(open_keys))} apply only to an open-model load (rate)"
                )
        if self.warmup >= self.duration:
            raise ValueError("warmup must be shorter than duration")
        if self.ramp > self.duration:
            raise ValueError("ramp must not be longer than duration")
        if self.until == "decided":
            _early_stop_fits(
                self.measure_start,
                self.min_duration,
                self.duration,
                "max(ramp, warmup) + min_duration",
                "duration",
            )
        return self

    @property
    def measure_start(self) -> float:
        """Seconds from the start of the load to the measured window: the ramp is never
        measured, and neither is the warm-up."""
        return max(self.ramp, self.warmup)


class SteppedTraffic(ArrivalTraffic):
    """Traffic stepped over load levels (sweep, capacity): by users (closed model) or by
    arrival rate (open model, with the load section's open-model keys), on Locust workers
    when asked."""

    workers: WorkerCount | None = Field(
        default=None, description="Locust worker processes per step (auto: one per core)"
    )

    def _one_model(self, by_users: bool, by_rate: bool) -> None:
        """Exactly one of users / rate, and the open-model keys only with rate."""
        if by_users == by_rate:
            raise ValueError("give exactly one of users (closed model) or rate (open model)")
        open_keys = OPEN_MODEL_KEYS & self.model_fields_set
        if by_users and open_keys:
            raise ValueError(f"{', '.join(sorted(open_keys))} apply only to steps over rate")


class SweepSpec(SteppedTraffic):
    """A load step per user level or arrival rate, to see how throughput scales."""

    users: tuple[Annotated[int, Field(ge=1)], ...] | None = Field(
        default=None, min_length=2, description="closed model: increasing user levels"
    )
    rate: tuple[Rate, ...] | None = Field(
        default=None, min_length=2, description="open model: increasing arrival rates"
    )
    step: Duration = Field(gt=0, description="duration of each level")
    warmup: Duration = Field(default=0.0, description="excluded at the start of each step")

    @model_validator(mode="after")
    def _levels(self) -> SweepSpec:
        self._one_model(self.users is not None, self.rate is not None)
        levels = self.levels
        if any(b <= a for a, b in itertools.pairwise(levels)):
            fmt = (lambda x: format_quantity(x, Dimension.RATE)) if self.rate else str
            shown = ", ".join(fmt(x) for x in levels)
            raise ValueError(f"{self.level_name} levels must increase, got [{shown}]")
        if self.rate is not None and self.rate[0] <= 0:
            raise ValueError("rates must be above zero")
        return self

    @property
    def by_rate(self) -> bool:
        """Whether the steps are open-model arrival rates (else user counts)."""
        return self.rate is not None

    @property
    def level_name(self) -> str:
        return "rate" if self.by_rate else "user"

    @property
    def levels(self) -> tuple[float, ...]:
        """The steps' levels: arrivals per second, or users."""
        return tuple(self.rate or self.users or ())


class UserRange(Section):
    """The bracket a capacity search works in."""

    min: int = Field(default=1, ge=1)
    max: int = Field(ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> UserRange:
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) is below min ({self.min})")
        return self


class RateRange(Section):
    """The bracket a capacity search over arrival rates works in (searched in whole req/s)."""

    min: Rate = Field(description="at least 1/s")
    max: Rate

    @model_validator(mode="after")
    def _ordered(self) -> RateRange:
        if self.min < 1.0:
            raise ValueError("min must be at least 1/s (the search steps in whole req/s)")
        if self.max < self.min:
            low, high = (format_quantity(x, Dimension.RATE) for x in (self.min, self.max))
            raise ValueError(f"max ({high}) is below min ({low})")
        return self


class CapacityPlan(Section):
    """What the capacity answer is for: replicas needed for a rate, with headroom."""

    rate: Rate
    headroom: Ratio = 0.0


class CapacitySpec(SteppedTraffic):
    """Search for the largest load (users, or arrival rate) that meets every SLO condition."""

    slo: dict[str, ConditionField] = Field(min_length=1)
    users: UserRange | None = Field(default=None, description="closed model: users to search")
    rate: RateRange | None = Field(default=None, description="open model: rates to search")
    step: Duration = Field(gt=0)
    warmup: Duration = 0.0
    max_steps: int = Field(default=12, ge=2, le=50)
    plan: CapacityPlan | None = None
    until: Literal["step", "decided"] = Field(
        default="decided",
        description="decided: a step ends once its SLO is decided (step is the cap)",
    )
    min_duration: Duration = Field(
        default=2.0, gt=0, description="measured time per step before a pass may end it"
    )
    fail_fast: bool = Field(
        default=True, description="a step whose SLO has failed with confidence ends at once"
    )

    @model_validator(mode="after")
    def _windows(self) -> CapacitySpec:
        self._one_model(self.users is not None, self.rate is not None)
        if self.warmup >= self.step:
            raise ValueError("warmup must be shorter than step")
        if self.until == "decided":
            _early_stop_fits(
                self.warmup, self.min_duration, self.step, "warmup + min_duration", "step"
            )
        return self
