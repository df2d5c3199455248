"""The predictions half of a compare: which inputs and which request to send them with, and
the figures the tally becomes (`predictions.agreement` with its Clopper-Pearson interval)."""

from __future__ import annotations

from typing import Any

from infratest.measurements import MeasurementError, Measurements
from infratest.spec.compare_section import CompareSpec
from infratest.spec.inputs_file import InputsError, inputs_path, read_inputs
from infratest.stats import exact, proportion_interval
from infratest.workloads.load_plan import RequestSpec
from infratest.workloads.prediction_check import PredictionComparison, compare_predictions

PREDICTION_BUDGET_S = 120.0


def prediction_request(requests: tuple[RequestSpec, ...]) -> RequestSpec:
    """The request predictions are asked with: the load's first that sends JSON (validation
    makes sure there is one)."""
    return next(r for r in requests if r.has_json)


def prediction_inputs(
    scenario_path: str, compare: CompareSpec, requests: tuple[RequestSpec, ...]
) -> list[Any]:
    """The inputs file's bodies, or else the load's distinct JSON bodies."""
    if compare.inputs is None:
        bodies = [r.json for r in requests if r.has_json]
        distinct = {repr(b): b for b in bodies}
        return list(distinct.values())
    path = inputs_path(scenario_path, compare.inputs)
    try:
        return read_inputs(path, compare.max_inputs)
    except InputsError as exc:
        raise MeasurementError(str(exc)) from None


def prediction_measurements(
    found: PredictionComparison, confidence: float, names: tuple[str, str]
) -> Measurements:
    """predictions.agreement with its Clopper-Pearson interval, and the rest counted."""
    out = Measurements()
    out.add("predictions.agreement", proportion_interval(found.agreed, found.compared, confidence))
    diff = found.max_abs_diff if found.max_abs_diff is not None else float("nan")
    out.add("predictions.max_abs_diff", exact(diff, confidence, found.compared))
    out.add("predictions.compared", exact(found.compared, confidence, found.compared))
    out.notes.append(
        f"predictions: {found.agreed} of {found.compared} inputs answered the same by "
        f"{names[0]} and {names[1]}"
        + (f"; {found.skipped} not sent within {PREDICTION_BUDGET_S:g}s" if found.skipped else "")
    )
    if found.problems:
        shown = ", ".join(f"{k} ×{n}" for k, n in found.problems.items())
        out.notes.append(f"predictions without an answer (counted as disagreeing): {shown}")
    out.series["predictions"] = found.to_dict()
    return out


def run_predictions(
    urls: tuple[str, str],
    names: tuple[str, str],
    requests: tuple[RequestSpec, ...],
    compare: CompareSpec,
    scenario_path: str,
    timeout_s: float,
    confidence: float,
) -> Measurements:
    """The same inputs to both targets, and what their answers showed."""
    bodies = prediction_inputs(scenario_path, compare, requests)
    request = prediction_request(requests)
    found = compare_predictions(urls, request, bodies, compare, timeout_s, PREDICTION_BUDGET_S)
    return prediction_measurements(found, confidence, names)
