"""pytest plugin: scenario files become test items. Hooks only; state lives in the stash.

Every option is prefixed ``--infratest-``: Locust's own pytest plugin owns ``--host``.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import pytest

from infratest.state import STATE_KEY, InfratestState

_SIGTERM_KEY = pytest.StashKey[bool]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("infratest", "infrastructure assumptions (infratest)")
    group.addoption(
        "--infratest-env",
        metavar="NAME",
        default=None,
        help="environment: reads configs/NAME.yaml (default: local)",
    )
    group.addoption(
        "--infratest-config",
        metavar="FILE",
        default=None,
        help="config file to use instead of --infratest-env",
    )
    group.addoption(
        "--infratest-json",
        metavar="PATH",
        default=None,
        help="write the results document here (atomically, also when interrupted)",
    )
    group.addoption(
        "--infratest-html",
        metavar="PATH",
        default=None,
        help="write a self-contained HTML report with plots",
    )
    group.addoption(
        "--infratest-markdown",
        metavar="PATH",
        default=None,
        help="write a Markdown summary (fits $GITHUB_STEP_SUMMARY)",
    )
    group.addoption(
        "--infratest-evidence",
        metavar="DIR",
        default=None,
        help="write an evidence bundle here: results, reports, JUnit XML, inputs, environment, "
        "model lineage and a SHA256SUMS manifest (check it with `infratest verify DIR`)",
    )
    group.addoption(
        "--infratest-inconclusive",
        choices=("fail", "pass"),
        default="fail",
        help="whether inconclusive and error verdicts fail the run (default: fail)",
    )


def _terminate_as_interrupt(signum: int, frame: object) -> None:
    """SIGTERM (a cancelled CI job) unwinds like Ctrl-C, so every target and load generator
    is stopped and the results file is still written."""
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.hookimpl(tryfirst=True)  # before junitxml's: the bundle may set its output path
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "infratest: an assumption from an infratest scenario")
    config.stash[STATE_KEY] = InfratestState(config)
    in_main_thread = threading.current_thread() is threading.main_thread()
    if in_main_thread and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _terminate_as_interrupt)
        config.stash[_SIGTERM_KEY] = True


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(STATE_KEY, None)
    if state is not None and state.evidence is not None:
        state.evidence.discard()
    if config.stash.get(_SIGTERM_KEY, False):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    from infratest.pytest_items import ScenarioFile, is_scenario_file

    if is_scenario_file(file_path, parent.session):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


@pytest.hookimpl(trylast=True)  # after junitxml's, which the evidence bundle copies
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = session.config.stash.get(STATE_KEY, None)
    if state is None:
        return
    try:
        state.close()
    finally:
        state.finish(interrupted=exitstatus == pytest.ExitCode.INTERRUPTED)
    evidence = state.evidence
    if evidence is not None:
        evidence.point_junit_line(session.config)
        if evidence.error is not None and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from infratest.terminal import saved_seconds, summary_line

    state = terminalreporter.config.stash.get(STATE_KEY, None)
    evidence = state.evidence if state is not None else None
    if state is None or not (state.results or evidence):
        return
    terminalreporter.section("infratest")
    for result in state.results:
        terminalreporter.write_line(summary_line(result))
    saved = saved_seconds(state.results)
    if saved >= 1:
        terminalreporter.write_line(
            f"stopping once decided saved {saved:.0f} s of measured load in this run"
        )
    for label, path in (
        ("results", state.json_path),
        ("HTML report", state.html_path),
        ("Markdown summary", state.markdown_path),
        ("evidence bundle", evidence.written if evidence else None),
    ):
        if path:
            terminalreporter.write_line(f"{label}: {path}")
    if evidence is not None and evidence.error:
        terminalreporter.write_line(evidence.error, red=True)
