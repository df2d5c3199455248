"""`user_class: module:Class`: the scenario's own Locust user. What it cannot be combined with,
and where it is written (so the child's import error can point at that line).

The class itself is imported only in the load's child process: a locustfile imports Locust,
which monkey-patches whatever process imports it, so the parent checks the string's shape
(see :mod:`infratest.spec.traffic`) and these combinations, never the import.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from infratest.spec.problems import Path as FieldPath
from infratest.spec.problems import format_path
from infratest.spec.scenario import Assumption, Scenario
from infratest.spec.traffic import Traffic
from infratest.spec.yamlio import MarkedDict, mark_at

STEPPED_WORKLOADS = ("load", "sweep", "capacity")


def _section(a: Assumption) -> tuple[str, Traffic] | None:
    for name in STEPPED_WORKLOADS:
        section = getattr(a, name)
        if section is not None:
            return name, section
    return None


def user_class_findings(a: Assumption, base: FieldPath) -> Iterator[tuple[FieldPath, str]]:
    """A user class sends its own tasks to the target: no request mix of infratest's beside
    it, no arrival schedule (that is infratest's scheduler), no compare (its blocks switch
    infratest's requests between two hosts)."""
    found = _section(a)
    if found is None or not found[1].own_user:
        return
    name, section = found
    where = (*base, name, "user_class")
    own = f"user_class {section.user_class} sends its own tasks"
    if section.requests:
        yield (
            where,
            f"{own}: drop requests (here or in defaults.load), or drop user_class",
        )
    if getattr(section, "rate", None) is not None:
        yield (
            where,
            f"{own}; rate (open model) sends infratest's requests on an arrival schedule: "
            "use users (closed model) with a user class",
        )
    if section.answer_check is not None:
        yield where, f"{own}: validate applies to infratest's requests; check answers in the class"
    if a.compare is not None:
        yield where, f"{own}: compare switches infratest's own requests between two targets"


def with_user_class_origins(scenario: Scenario, data: MarkedDict) -> Scenario:
    """Each own user class remembers where it is written and the scenario's folder, where its
    module is also looked for (a locustfile next to the scenario)."""
    folder = str(Path(scenario.path).resolve().parent) if scenario.path else str(Path.cwd())
    assumptions = []
    for index, a in enumerate(scenario.assumptions):
        found = _section(a)
        if found is not None and found[1].own_user:
            name, section = found
            path = ("assumptions", index, name, "user_class")
            mark = mark_at(data, path)
            at = f"{scenario.path}:{mark.line if mark else a.line}: {format_path(path)}"
            section = section.model_copy(update={"user_class_at": at, "user_class_folder": folder})
            a = a.model_copy(update={name: section})
        assumptions.append(a)
    return scenario.model_copy(update={"assumptions": tuple(assumptions)})
