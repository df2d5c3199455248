"""The `compare` section: run an assumption's load against the scenario's target (the
baseline) and a candidate, interleaved, and optionally compare their answers."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from infratest.spec.fields import Section

DOT_PATH = r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$"


class CompareSpec(Section):
    """A candidate against the baseline on the same workload: `rounds` alternating pairs of
    blocks (A B, B A, ...), so drift in the environment hits both alike."""

    candidate: str = Field(description="the config target to compare with the scenario's target")
    rounds: int = Field(
        default=4,
        ge=1,
        le=50,
        description="alternating pairs of blocks (ABBA order): 1, or an even number",
    )
    predictions: str | None = Field(
        default=None,
        pattern=DOT_PATH,
        description="dot path of the answer to compare, e.g. prediction or outputs.0.label",
    )
    inputs: str | None = Field(
        default=None,
        description="JSONL file of request bodies (one a line, relative to the scenario) sent "
        "to both for predictions; default: the load's JSON bodies",
    )
    tolerance: float = Field(
        default=0.0, ge=0, description="numbers within this of each other agree"
    )
    agree_on: Literal["value", "argmax"] = Field(
        default="value", description="argmax: a list of scores agrees when its largest is"
    )
    max_inputs: int = Field(
        default=1000, ge=1, le=100_000, description="most inputs sent to both for predictions"
    )
