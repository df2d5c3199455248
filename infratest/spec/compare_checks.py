"""Checks of a `compare` and of signed bounds: a signed bound is a change from a baseline,
so it needs a compare; the candidate is a config target on an allowed host; the inputs file
reads; predictions have something to send."""

from __future__ import annotations

from collections.abc import Iterator

from infratest.metrics import CHANGE_METRICS, METRICS, PREDICTION_METRICS
from infratest.spec.config import Config
from infratest.spec.inputs_file import InputsError, inputs_path, read_inputs
from infratest.spec.problems import Path
from infratest.spec.scenario import Assumption
from infratest.units import Dimension, describe, fits

Finding = tuple[Path, str]


def change_findings(a: Assumption, base: Path) -> Iterator[Finding]:
    """Signed bounds: only under compare, on metrics that have a change, in a fitting unit."""
    for metric, condition in a.expect.items():
        where = (*base, "expect", metric)
        if not condition.is_change or metric not in METRICS:
            continue
        if a.compare is None:
            yield (
                where,
                f'"{condition.text}" is signed, so it bounds a change from a baseline; that needs '
                f"`compare: {{candidate: TARGET}}` in this assumption (for the metric's own "
                f'value write it without a sign, e.g. "{condition.op} '
                f'{condition.text.split(condition.op, 1)[1].strip().lstrip("+-")}")',
            )
            continue
        if metric not in CHANGE_METRICS:
            known = ", ".join(sorted(CHANGE_METRICS))
            yield where, f"{metric} has no change from the baseline; signed bounds take: {known}"
            continue
        wanted = METRICS[metric].dimension
        if condition.change == "absolute" and not fits(condition.dimension, wanted):
            hint = (
                ' (a ratio metric changes in points: "+0.5pp")' if wanted == Dimension.RATIO else ""
            )
            yield where, f"a change of {metric} is {describe(wanted)}{hint}, or relative (+10%)"


def prediction_metric_findings(a: Assumption, base: Path) -> Iterator[Finding]:
    """predictions.* come only from a compare with `predictions`."""
    asked = [m for m in a.expect if m in PREDICTION_METRICS]
    if asked and (a.compare is None or a.compare.predictions is None):
        yield (
            (*base, "expect", asked[0]),
            f"{asked[0]} compares answers: add `compare: {{candidate: TARGET, predictions: "
            f"DOT.PATH}}` (the path of the answer in the JSON response, e.g. prediction)",
        )


def compare_findings(
    a: Assumption, scenario_path: str, config: Config | None, base: Path
) -> Iterator[Finding]:
    """The compare section itself: its candidate, its inputs, something to send."""
    compare = a.compare
    if compare is None:
        return
    where = (*base, "compare")
    if config is not None and compare.candidate not in config.targets:
        from infratest.spec.errors import suggest

        hint = suggest(compare.candidate, list(config.targets))
        known = ", ".join(config.targets) or "none"
        yield (*where, "candidate"), f"unknown target '{compare.candidate}'{hint}; known: {known}"
    elif config is not None and not config.targets[compare.candidate].managed:
        probed = [m for m in a.expect if m.startswith("process.")]
        if probed:
            yield (
                (*base, "expect", probed[0]),
                f"{probed[0]} compares both targets' processes, but the candidate "
                f"'{compare.candidate}' is remote (no `launch` in the config): its process "
                "cannot be probed here",
            )
    if compare.predictions is None:
        return
    if compare.inputs is not None:
        try:
            read_inputs(inputs_path(scenario_path, compare.inputs), compare.max_inputs)
        except InputsError as exc:
            yield (*where, "inputs"), str(exc)
    if a.load is not None and not any(r.json_body is not None for r in a.load.requests):
        yield (
            (*where, "predictions"),
            "predictions sends each input to both targets as the JSON body of the load's first "
            "request with `json:` (its method, path and headers); the load has none",
        )
