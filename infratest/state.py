"""Per-session state of the pytest plugin, kept in the config's stash: the active config, the
runner that owns the targets, and the results gathered so far."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from infratest.results.contract import utc_timestamp
from infratest.spec.config import Config
from infratest.spec.discovery import UsageError, config_path
from infratest.spec.loader import display_path, load_config
from infratest.spec.problems import SpecError

if TYPE_CHECKING:
    from infratest.evidence.session import EvidenceSession
    from infratest.execution import AssumptionResult, Runner
    from infratest.pytest_items import AssumptionItem
    from infratest.spec.scenario import Assumption, Scenario


class InfratestState:
    """Everything the plugin keeps for one pytest session."""

    def __init__(self, config: pytest.Config) -> None:
        self.pytest_config = config
        self.started_at = utc_timestamp()
        self.results: list[AssumptionResult] = []
        self.inconclusive_passes = config.getoption("infratest_inconclusive") == "pass"
        self.json_path: str | None = config.getoption("infratest_json")
        self.html_path: str | None = config.getoption("infratest_html")
        self.markdown_path: str | None = config.getoption("infratest_markdown")
        self.scenario_files: list[str] = []
        self.scenarios: list[Scenario] = []
        self.evidence = _evidence_session(config)
        self._config: Config | None = None
        self._config_error: str | None = None
        self._runner: Runner | None = None

    def spec_config(self) -> Config:
        """The environment config, loaded once; its problems fail every scenario file."""
        if self._config is None and self._config_error is None:
            option = self.pytest_config.getoption
            try:
                path = config_path(
                    option("infratest_env"), option("infratest_config"), self.pytest_config.rootpath
                )
                self._config = load_config(path)
            except (UsageError, SpecError) as exc:
                self._config_error = f"infratest config: {exc}"
        if self._config_error is not None:
            raise ConfigUnusable(self._config_error)
        assert self._config is not None
        return self._config

    def runner(self) -> Runner:
        """The session's runner, created on first use (collect-only never starts targets)."""
        if self._runner is None:
            from infratest.execution import Runner

            self._runner = Runner(self.spec_config())
        return self._runner

    def run(self, item: AssumptionItem) -> AssumptionResult:
        """Measure one item's assumption, keep the result, and save the results file."""
        progress = self._progress(item)
        try:
            result = self.runner().run(item.scenario, item.assumption, item.nodeid, progress)
        finally:
            if progress is not None:
                progress.clear()
        self.results.append(result)
        self.write_json(finished=False)
        return result

    def _progress(self, item: AssumptionItem) -> Any:
        from infratest.terminal import ProgressLine

        reporter = self.pytest_config.pluginmanager.get_plugin("terminalreporter")
        total = _planned_seconds(item.assumption)
        if reporter is None or total is None or not reporter.isatty():
            return None
        capture = self.pytest_config.pluginmanager.get_plugin("capturemanager")

        def write(text: str) -> None:
            # Output during a test's call phase is captured; the live line must reach the
            # terminal, as pytest's own status does.
            if capture is None:
                reporter.write(text, flush=True)
                return
            with capture.global_and_fixture_disabled():
                reporter.write(text, flush=True)

        resume = f"{item.nodeid.split('::')[0]} " if reporter.verbosity <= 0 else ""
        width = max(shutil.get_terminal_size().columns - 1, 40)
        return ProgressLine(write, item.assumption.name, total, resume, width)

    def document(self, finished: bool, interrupted: bool = False) -> dict[str, Any]:
        """The results document as it stands (see infratest.results.contract)."""
        from infratest.results.contract import document
        from infratest.results.provenance import provenance

        now = utc_timestamp()
        config = display_path(self._config.path) if self._config else ""
        data = document(
            [r.to_dict() for r in self.results],
            config=config,
            started_at=self.started_at,
            finished_at=now if finished else None,
            interrupted=interrupted,
        )
        if finished:
            data["provenance"] = provenance(self.scenario_files, config, Path.cwd())
        return data

    def write_json(self, finished: bool, interrupted: bool = False) -> None:
        """Save what is known so far; called after every assumption and at the end."""
        if not self.json_path:
            return
        from infratest.results.contract import write_atomically

        write_atomically(self.json_path, self.document(finished, interrupted))

    def finish(self, interrupted: bool) -> None:
        """The final results file and the reports for people."""
        if not (self.json_path or self.html_path or self.markdown_path or self.evidence):
            return
        from infratest.results.contract import write_atomically
        from infratest.results.render import write_reports

        data = self.document(finished=True, interrupted=interrupted)
        if self.json_path:
            write_atomically(self.json_path, data)
        write_reports(data, self.html_path, self.markdown_path)
        if self.evidence is not None:
            used = self._runner.pool.used() if self._runner is not None else {}
            self.evidence.write(data, self.scenarios, self._config, used)

    def close(self) -> None:
        """Stop every target this session started."""
        if self._runner is not None:
            self._runner.close()


def _planned_seconds(assumption: Assumption) -> float | None:
    """The longest a watched load workload can take, for the live line; None for others."""
    if assumption.load is not None:
        return assumption.load.duration
    if assumption.sweep is not None:
        return assumption.sweep.step * len(assumption.sweep.levels)
    if assumption.capacity is not None:
        return assumption.capacity.step * assumption.capacity.max_steps
    return None


def _evidence_session(config: pytest.Config) -> EvidenceSession | None:
    """The bundle's staging folder, made at configure time so pytest's JUnit XML can go in."""
    dest = config.getoption("infratest_evidence", None)
    if not dest or hasattr(config, "workerinput"):  # an xdist worker: the controller writes it
        return None
    from infratest.evidence.bundle import BundleError
    from infratest.evidence.session import EvidenceSession

    try:
        return EvidenceSession(dest, config)
    except (BundleError, OSError) as exc:
        raise pytest.UsageError(f"--infratest-evidence: {exc}") from None


class ConfigUnusable(Exception):
    """The config is missing or invalid; every scenario file's collection reports it."""


STATE_KEY = pytest.StashKey[InfratestState]()


def state_of(config: pytest.Config) -> InfratestState:
    """The session's state (created by the plugin's configure hook)."""
    return config.stash[STATE_KEY]
