"""What an `llm` load sends and how each answer is judged, as plain data carried in the
load plan to the Locust processes: the api, the request body's fixed fields, the prompts,
and the SLO bounds (seconds) a request must meet to count towards goodput."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

APIS = ("openai-chat", "openai-completions")
SLO_KINDS = ("ttft", "itl", "e2e")


@dataclass(frozen=True)
class LlmPlan:
    """One llm load's client settings. `slo`: per-request figure ("ttft", "itl" = the
    request's mean gap, "e2e") -> the tightest upper bound (s) and whether it is inclusive."""

    api: str
    prompts: tuple[Any, ...]
    model: str = ""
    max_tokens: int = 128
    stream: bool = True
    temperature: float = 0.0
    slo: Mapping[str, tuple[float, bool]] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "prompts", tuple(self.prompts))
        object.__setattr__(self, "slo", {k: tuple(v) for k, v in dict(self.slo).items()})
        if self.api not in APIS:
            raise ValueError(f"llm api must be one of {APIS}, got {self.api!r}")
        if not self.prompts:
            raise ValueError("an llm plan needs at least one prompt")
        unknown = set(self.slo) - set(SLO_KINDS)
        if unknown:
            raise ValueError(f"unknown llm slo kinds: {sorted(unknown)}")

    def body(self, index: int) -> str:
        """The JSON body of the request sending prompt `index` (round and round)."""
        prompt = self.prompts[index % len(self.prompts)]
        data: dict[str, Any] = {
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "stream": self.stream,
        }
        if self.model:
            data["model"] = self.model
        data["messages" if self.api == "openai-chat" else "prompt"] = prompt
        if self.stream:  # ask for the token count; servers that do not know it ignore it
            data["stream_options"] = {"include_usage": True}
        return json.dumps(data)

    def meets_slo(self, ttft_s: float | None, mean_itl_s: float | None, e2e_s: float) -> bool:
        """Whether one successful request meets every SLO bound (a figure it lacks, such as
        the ITL of a one-token answer, does not count against it)."""
        figures = {"ttft": ttft_s, "itl": mean_itl_s, "e2e": e2e_s}
        for kind, (bound, inclusive) in self.slo.items():
            value = figures[kind]
            if kind == "ttft" and value is None:
                return False  # no token came: not good
            if value is not None and (value > bound if inclusive else value >= bound):
                return False
        return True

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LlmPlan:
        """Inverse of `dataclasses.asdict`."""
        return cls(**dict(data))


@dataclass(frozen=True)
class LlmSample:
    """One answered request's token timings, handed from the client to the recorder with
    Locust's request event (in its context)."""

    ttft_s: float | None
    gaps_s: tuple[float, ...]
    tokens: int
    from_usage: bool
    good: bool
