"""The pytest side of scenario files: a File that yields one Item per assumption.

Modelled on pytest's "non-python tests" example: collection errors carry the file:line
message, a failed assumption shows a table of its checks instead of a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infratest.execution import AssumptionResult
from infratest.spec.discovery import SCENARIO_SUFFIXES
from infratest.spec.loader import load_scenario
from infratest.spec.problems import SpecError
from infratest.spec.scenario import Assumption, Scenario
from infratest.state import ConfigUnusable, state_of
from infratest.terminal import failure_table
from infratest.verdict import Verdict

_TOP_LEVEL_ASSUMPTIONS = re.compile(rb"^assumptions\s*:", re.M)


def is_scenario_file(path: Path, session: pytest.Session) -> bool:
    """YAML under a `scenarios` folder, or given on the command line and shaped like one."""
    if path.suffix not in SCENARIO_SUFFIXES:
        return False
    try:
        parts = path.relative_to(session.config.rootpath).parts
    except ValueError:
        parts = path.parts
    if "scenarios" in parts[:-1]:
        return True
    if not session.isinitpath(path):
        return False
    try:
        head = path.read_bytes()[: 1 << 20]
    except OSError:
        return False
    return bool(_TOP_LEVEL_ASSUMPTIONS.search(head))


class AssumptionNotMet(Exception):
    """Raised by an item whose assumption did not pass; carries the result for the report."""

    def __init__(self, result: AssumptionResult) -> None:
        super().__init__(result.outcome.reason)
        self.result = result


class ScenarioFile(pytest.File):
    """A scenario file: validated against the active config, one item per assumption."""

    def collect(self) -> Iterator[AssumptionItem]:
        state = state_of(self.config)
        try:
            scenario = load_scenario(self.path, state.spec_config())
        except (SpecError, ConfigUnusable) as exc:
            raise self.CollectError(str(exc)) from None
        state.scenario_files.append(scenario.path)
        state.scenarios.append(scenario)
        for assumption in scenario.assumptions:
            yield AssumptionItem.from_parent(
                self, name=assumption.name, scenario=scenario, assumption=assumption
            )


class AssumptionItem(pytest.Item):
    """One assumption as a test: measured when run, passed only on a `pass` verdict."""

    def __init__(self, *, scenario: Scenario, assumption: Assumption, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.assumption = assumption
        self.result: AssumptionResult | None = None
        self.add_marker("infratest")
        for tag in (*scenario.tags, *assumption.tags):
            self.config.addinivalue_line("markers", f"{tag}: infratest scenario tag")
            self.add_marker(tag)

    def runtest(self) -> None:
        state = state_of(self.config)
        self.result = state.run(self)
        for key, value in _properties(self.result):
            self.user_properties.append((key, value))
        verdict = self.result.outcome.verdict
        if verdict == Verdict.PASS:
            return
        if verdict != Verdict.FAIL and state.inconclusive_passes:
            return
        raise AssumptionNotMet(self.result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, AssumptionNotMet):
            return failure_table(excinfo.value.result)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        return (
            self.path,
            max(self.assumption.line - 1, 0),
            f"{self.scenario.scenario}::{self.assumption.name}",
        )


def _properties(result: AssumptionResult) -> list[tuple[str, str]]:
    """JUnit properties: the verdict, the reason, and one property per check."""
    from infratest.terminal import check_summary

    properties = [("verdict", result.outcome.verdict.value), ("reason", result.outcome.reason)]
    properties += [(c.metric, check_summary(c)) for c in result.outcome.checks]
    stopping = result.measurements.stopping
    if stopping is not None:
        properties += [(k, str(v)) for k, v in stopping.to_dict().items() if v is not None]
    return properties
