"""The `fuzz` section: bodies that break a request's JSON Schema on purpose, sent to the
target one at a time, to find the input that makes the server fail (a 5xx, a reset, a hang)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from infratest.spec.fields import Duration, Section
from infratest.spec.traffic import METHODS


class FuzzSpec(Section):
    """Send `examples` malformed and edge-case bodies (bounded by `max_duration`)."""

    method: Literal[METHODS] = "POST"  # type: ignore[valid-type]
    path: str = Field(pattern=r"^/", description="path (and query) starting with '/'")
    json_schema: str = Field(description="JSON Schema of a valid body (relative path)")
    headers: dict[str, str] = Field(default_factory=dict)
    examples: int = Field(default=200, ge=1, le=20_000, description="bodies to send")
    seed: int = Field(default=0, ge=0, description="the draws' seed")
    timeout: Duration = Field(default=5.0, gt=0, description="an answer later than this is a hang")
    max_duration: Duration = Field(default=120.0, gt=0, description="sending stops after this")
    shrink: int = Field(
        default=300, ge=0, le=10_000, description="examples hypothesis may try to shrink a failure"
    )
