"""The results document (``--infratest-json``): one entry per assumption, SI units, written
atomically so a reader never sees half a file — also when the run fails or is interrupted."""

from __future__ import annotations

import json
import math
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infratest import __version__
from infratest.metrics import METRICS
from infratest.results.atomic import write_text_atomically
from infratest.units import SI_UNIT

if TYPE_CHECKING:
    from infratest.execution import AssumptionResult

SCHEMA_VERSION = 1


def utc_timestamp() -> str:
    """Now, as the results document writes times: '2026-11-26T13:00:00Z'."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _clean(value: Any) -> Any:
    """JSON has no inf or nan: they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _metrics(result: AssumptionResult) -> dict[str, Any]:
    table = {}
    for name, interval in result.measurements.values.items():
        entry = interval.to_dict()
        unit = SI_UNIT[METRICS[name].dimension] if name in METRICS else ""
        table[name] = {
            "value": entry["value"],
            "unit": unit,
            "ci_low": entry["ci_low"],
            "ci_high": entry["ci_high"],
            "confidence": entry["confidence"],
            "n": entry["n"],
            "method": entry["method"],
        }
    return table


def _stopping(result: AssumptionResult) -> dict[str, Any]:
    """`stopped` and `decided_after_s` of a monitored run (load, sweep steps, capacity)."""
    stopping = result.measurements.stopping
    return stopping.to_dict() if stopping is not None else {}


def _change(delta: Any) -> dict[str, Any]:
    return {
        "baseline": _json_number(delta.baseline),
        "candidate": _json_number(delta.candidate),
        "absolute": delta.absolute.to_dict(),
        "relative": delta.relative.to_dict(),
    }


def _json_number(x: float) -> float | None:
    return x if isinstance(x, int | float) and math.isfinite(x) else None


def _baseline(result: AssumptionResult) -> dict[str, Any]:
    """A compare's `baseline` block: the baseline target, its own figures, and each metric's
    change (candidate − baseline and candidate ÷ baseline − 1, with intervals)."""
    compare = result.measurements.series.get("compare")
    if compare is None:
        return {}
    changes = result.measurements.changes
    return {
        "baseline": {
            "target": compare["baseline_target"],
            "candidate": compare["candidate_target"],
            "metrics": compare["baseline"],
            "changes": {metric: _change(delta) for metric, delta in changes.items()},
        }
    }


def _traces(result: AssumptionResult) -> dict[str, Any]:
    """A load's failed and slowest requests by trace id (absent for other workloads)."""
    traces = result.measurements.traces
    return {"traces": traces.to_dict()} if traces is not None else {}


def result_to_dict(result: AssumptionResult) -> dict[str, Any]:
    """One assumption's entry in the results document."""
    scenario, assumption = result.scenario, result.assumption
    return {
        "id": result.id,
        "scenario": scenario.scenario,
        "name": assumption.name,
        "file": scenario.path,
        "line": assumption.line,
        "target": scenario.target,
        "workload": assumption.workload,
        "verdict": result.outcome.verdict.value,
        "reason": result.outcome.reason,
        "checks": [check.to_dict() for check in result.outcome.checks],
        "metrics": _metrics(result),
        "notes": list(result.measurements.notes),
        "series": result.measurements.series,
        **_baseline(result),
        **_traces(result),
        "started_at": result.started_at,
        "duration_s": round(result.duration_s, 3),
        **_stopping(result),
        **result.extra,
    }


def document(
    results: list[dict[str, Any]],
    *,
    config: str,
    started_at: str,
    finished_at: str | None,
    interrupted: bool = False,
) -> dict[str, Any]:
    """The whole results document."""
    counts: dict[str, int] = {}
    for entry in results:
        counts[entry["verdict"]] = counts.get(entry["verdict"], 0) + 1
    return {
        "infratest_version": __version__,
        "schema_version": SCHEMA_VERSION,
        "started_at": started_at,
        "finished_at": finished_at,
        "complete": finished_at is not None and not interrupted,
        "interrupted": interrupted,
        "config": config,
        "host": socket.gethostname(),
        "summary": counts,
        "assumptions": results,
    }


def json_text(data: Any) -> str:
    """JSON as result files are written: indented, UTF-8, inf and nan as null."""
    return json.dumps(_clean(data), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_atomically(path: str | os.PathLike[str], data: dict[str, Any]) -> None:
    """The results document as JSON, written so a reader never sees half of it."""
    write_text_atomically(path, json_text(data))


def read(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a results document back (for reports rendered later)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))
