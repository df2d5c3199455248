"""The `replay` section: a recorded traffic file sent again at its recorded times × `speed`
(an open-model load whose arrivals are the recording's), with its mix of paths and bodies."""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Sequence
from typing import Literal

from pydantic import Field

from infratest.spec.fields import Duration, Section, WorkerCount
from infratest.spec.traffic import ValidateSpec
from infratest.spec.traffic_file import RecordedRequest, RecordedTraffic


class ReplaySpec(Section):
    """Send `file`'s requests at their recorded times, `speed` times as fast."""

    file: str = Field(description="JSONL (t, method, path, body, headers) or .har; relative path")
    speed: float = Field(default=1.0, gt=0, le=1000, description="2.0: twice as fast as recorded")
    duration: Duration | None = Field(
        default=None, gt=0, description="stop after this (default: the recording's length)"
    )
    warmup: Duration = Field(default=0.0, ge=0, description="excluded from the figures")
    paths: tuple[str, ...] = Field(
        default=(), description="only requests whose path matches one of these globs"
    )
    hosts: Literal["target", "recorded"] = Field(
        default="target",
        description="target: every request goes to the scenario's target; recorded: "
        "absolute URLs go to their recorded hosts, which must be in allow.hosts",
    )
    headers: dict[str, str] = Field(default_factory=dict, description="sent with every request")
    timeout: Duration = Field(default=10.0, gt=0, description="per-request timeout")
    answer_check: ValidateSpec | None = Field(
        default=None, alias="validate", description="an answer failing it counts as an error"
    )
    max_in_flight: int | None = Field(
        default=None, ge=1, description="most unanswered requests (default: what the file needs)"
    )
    max_lag: Duration = Field(
        default=0.020, gt=0, description="a scheduler lag p99 above this: inconclusive"
    )
    fail_fast: bool = Field(
        default=True, description="a check that has failed with confidence stops the run"
    )
    user_class: Literal["fast", "http"] = "fast"
    workers: WorkerCount | None = Field(
        default=None, description="Locust worker processes (auto: one per core); config default"
    )

    def kept(self, traffic: RecordedTraffic) -> list[RecordedRequest]:
        """The recording's requests that pass `paths` and fall inside `duration` at `speed`."""
        kept = [
            r
            for r in traffic.requests
            if not self.paths or any(fnmatch.fnmatchcase(r.path, g) for g in self.paths)
        ]
        if self.duration is not None:
            kept = [r for r in kept if r.t_s / self.speed < self.duration]
        return kept

    def run_length(self, requests: Sequence[RecordedRequest]) -> float:
        """The run's length: `duration` when given, else up to the end of the second the last
        request is due in (whole measured windows)."""
        if self.duration is not None:
            return self.duration
        last = requests[-1].t_s / self.speed if requests else 0.0
        return float(math.floor(last) + 1)
