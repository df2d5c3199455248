"""Checks of an `llm` section that need its files or its expect: the prompts file reads and
every line is a prompt the api takes, and TTFT/ITL are asked for only of a streamed load.
Reported at the section's key, with the file's own line."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from infratest.spec.inputs_file import inputs_path
from infratest.spec.llm_prompts import PromptsError, read_prompts
from infratest.spec.llm_section import STREAM_ONLY, LlmSpec
from infratest.spec.problems import Path as SpecPath

Finding = tuple[SpecPath, str]


def llm_findings(
    spec: LlmSpec, expect: Mapping[str, object], scenario_path: str, base: SpecPath
) -> Iterator[Finding]:
    """Every reason the llm load cannot run, or measure what is expected, as written."""
    if not spec.stream:
        for metric in expect:
            if metric.startswith(STREAM_ONLY):
                yield (
                    (*base, "expect", metric),
                    f"{metric} is timed token by token: it needs llm.stream: true (a "
                    "non-streamed answer gives e2e only)",
                )
    if spec.prompts is not None:
        try:
            read_prompts(inputs_path(scenario_path, spec.prompts), spec.api)
        except PromptsError as exc:
            yield (*base, "llm", "prompts"), str(exc)
