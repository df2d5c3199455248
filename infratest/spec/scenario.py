"""The scenario model: what a scenario file says, validated, frozen, with quantities in SI units.

Structure only; checks that need the config or span sections live in :mod:`infratest.spec.checks`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from infratest.metrics import WORKLOADS
from infratest.spec.compare_section import CompareSpec
from infratest.spec.fields import (
    ConditionField,
    Name,
    Ratio,
    Section,
)
from infratest.spec.fuzz_section import FuzzSpec
from infratest.spec.llm_section import LlmSpec
from infratest.spec.load_sections import CapacitySpec, LoadSpec, SweepSpec
from infratest.spec.replay_section import ReplaySpec
from infratest.spec.resource_sections import (
    ColdStartSpec,
    DiskSpec,
    NetworkSpec,
    ObserveSpec,
    ProbeField,
    S3Spec,
)
from infratest.units import Condition

LatencyOf = Literal["all", "successful"]


class Assumption(Section):
    """One assumption: a workload, optionally a probe, and the conditions that must hold."""

    name: Name
    description: str = ""
    tags: tuple[str, ...] = ()
    load: LoadSpec | None = None
    replay: ReplaySpec | None = Field(
        default=None, description="send a recorded traffic file at its recorded times"
    )
    llm: LlmSpec | None = Field(
        default=None, description="load an OpenAI-compatible server, timing each token"
    )
    observe: ObserveSpec | None = None
    sweep: SweepSpec | None = None
    capacity: CapacitySpec | None = None
    cold_start: ColdStartSpec | None = None
    disk: DiskSpec | None = None
    s3: S3Spec | None = None
    network: NetworkSpec | None = None
    fuzz: FuzzSpec | None = None
    probe: ProbeField = None
    compare: CompareSpec | None = Field(
        default=None, description="run the load against the baseline and a candidate"
    )
    latency_of: LatencyOf = Field(
        default="all",
        description="all: every request sent counts in latency figures (a failure at its "
        "time to fail); successful: only successful requests",
    )
    expect: dict[str, ConditionField] = Field(min_length=1)
    line: int = Field(default=0, exclude=True, description="set by the loader")

    @model_validator(mode="after")
    def _one_workload(self) -> Assumption:
        given = [w for w in WORKLOADS if getattr(self, w) is not None]
        if len(given) != 1:
            what = ", ".join(given) if given else "none"
            raise ValueError(
                f"needs exactly one workload section ({', '.join(WORKLOADS)}); found {what}"
            )
        if self.compare is not None:
            _compare_fits(self)
        return self

    @property
    def workload(self) -> str:
        """The name of the one workload section."""
        return next(w for w in WORKLOADS if getattr(self, w) is not None)

    @property
    def workload_spec(self) -> Section:
        """The workload section itself."""
        return getattr(self, self.workload)

    @property
    def conditions(self) -> list[tuple[str, Condition]]:
        """The expect conditions in file order."""
        return list(self.expect.items())


def _compare_fits(assumption: Assumption) -> None:
    """`compare` interleaves blocks of a load: it needs a load, and every round to run."""
    load = assumption.load
    if load is None:
        raise ValueError(
            f"compare runs a load against the baseline and the candidate; a "
            f"{assumption.workload} workload cannot be compared (give a load section)"
        )
    if load.until == "decided":
        raise ValueError(
            "compare runs every round (stopping early would leave the rounds unbalanced): "
            "remove until: decided"
        )
    assert assumption.compare is not None
    rounds = assumption.compare.rounds
    if rounds > 1 and rounds % 2:
        raise ValueError(
            f"compare rounds must be even (or 1): A B, B A pairs of rounds undo a steady drift, "
            f"an odd count ({rounds}) leaves one round's step in the change"
        )
    blocks = 2 * rounds
    measured = load.duration - load.ramp - load.warmup
    if measured < blocks:
        raise ValueError(
            f"compare with {assumption.compare.rounds} rounds needs {blocks} blocks of at "
            f"least 1s after ramp and warm-up; the load measures {measured:g}s"
        )


class Defaults(Section):
    """Merged into every assumption before validation (the assumption's own values win)."""

    load: dict[str, Any] = Field(
        default_factory=dict,
        description="load keys; the request mix also feeds sweep, capacity and cold_start",
    )
    probe: Any = None
    latency_of: LatencyOf | None = Field(
        default=None, description="for every assumption that does not set its own"
    )


Tag = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$", max_length=60)]


class Scenario(Section):
    """A scenario file: assumptions about one target."""

    scenario: Name
    description: str = ""
    target: str | None = None
    tags: tuple[Tag, ...] = ()
    confidence: Ratio = Field(default=0.95, ge=0.5, lt=1.0)
    defaults: Defaults = Defaults()
    assumptions: tuple[Assumption, ...] = Field(min_length=1)
    path: str = Field(default="", exclude=True, description="set by the loader")
