"""The `llm` section: a load whose client is an OpenAI-compatible streaming one, so an LLM
server is measured by what its users feel (time to first token, the gaps between tokens,
tokens per second, goodput) besides the load's own figures."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from infratest.spec.fields import ConditionField, Duration
from infratest.spec.load_sections import LoadSpec

API_PATHS = {"openai-chat": "/v1/chat/completions", "openai-completions": "/v1/completions"}
# What a request's own figure is for each SLO metric family (see the README's definitions).
SLO_FAMILIES = {"llm.ttft": "ttft", "llm.itl": "itl", "llm.e2e": "e2e", "latency": "e2e"}
STREAM_ONLY = ("llm.ttft.", "llm.itl.")


def slo_kind(metric: str) -> str | None:
    """The per-request figure an SLO metric bounds ("ttft", "itl", "e2e"), or None."""
    family, _, rest = metric.rpartition(".")
    if rest not in {"p50", "p90", "p95", "p99", "p999", "max", "mean"}:
        return None
    return SLO_FAMILIES.get(family)


class LlmSpec(LoadSpec):
    """Load an OpenAI-compatible server (users, or an arrival rate) with prompts from a file
    or generated to a length; each answer is streamed and timed token by token."""

    api: Literal["openai-chat", "openai-completions"] = Field(
        description="openai-chat: /v1/chat/completions; openai-completions: /v1/completions"
    )
    model: str = Field(default="", description="the `model` sent (empty: the server's default)")
    prompts: str | None = Field(
        default=None,
        description="JSONL ({messages: [...]}, {prompt: ...} or a string a line) or .txt "
        "(one prompt a line); relative to the scenario",
    )
    prompt_tokens: int | None = Field(
        default=None, ge=1, le=100_000, description="generated prompts of about N tokens"
    )
    max_tokens: int = Field(default=128, ge=1, le=1_000_000)
    stream: bool = Field(default=True, description="false: e2e only, no TTFT or ITL")
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    path: str | None = Field(default=None, pattern=r"^/", description="default by api")
    timeout: Duration = Field(default=60.0, gt=0, description="whole-answer timeout")
    slo: dict[str, ConditionField] = Field(
        default_factory=dict,
        description="llm.goodput counts requests meeting every condition (upper bounds on "
        "llm.ttft.*, llm.itl.*, llm.e2e.* or latency.*)",
    )

    @model_validator(mode="after")
    def _llm(self) -> LlmSpec:
        if (self.prompts is None) == (self.prompt_tokens is None):
            raise ValueError("give exactly one of prompts (a file) or prompt_tokens (generated)")
        if self.requests:
            raise ValueError("an llm workload sends its own requests: no requests with it")
        if "user_class" in self.model_fields_set or "wait" in self.model_fields_set:
            raise ValueError("an llm workload has no user_class or wait (its client is built in)")
        if "validate" in self.model_fields_set or "answer_check" in self.model_fields_set:
            raise ValueError("an llm workload checks its own answers: no validate with it")
        for metric, condition in self.slo.items():
            _slo_fits(metric, condition.op, self.stream)
        return self

    @property
    def url_path(self) -> str:
        """Where requests go: `path`, else the api's usual one."""
        return self.path or API_PATHS[self.api]


def _slo_fits(metric: str, op: str, stream: bool) -> None:
    if slo_kind(metric) is None:
        raise ValueError(
            f"slo: {metric} is not a per-request latency; use llm.ttft.*, llm.itl.*, "
            "llm.e2e.* or latency.* (p50..p999, max, mean)"
        )
    if op not in ("<", "<="):
        raise ValueError(f"slo: {metric} takes an upper bound (< or <=)")
    if not stream and metric.startswith(STREAM_ONLY):
        raise ValueError(f"slo: {metric} needs stream: true (no tokens are timed without it)")
