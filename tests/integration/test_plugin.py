"""The pytest plugin as users run it: collection ids, -k, -m, --collect-only, -x, exit codes,
the failure table, JUnit properties, the terminal summary and the JSON results file."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET

import pytest

from tests.support.assumptions import behaviour_config_text

pytestmark = [pytest.mark.load, pytest.mark.usefixtures("no_leftover_processes")]


SCENARIO = """\
scenario: api
target: svc
tags: [pre-deploy]
defaults:
  load:
    requests: [GET /predict]
assumptions:
  - name: fast-enough
    tags: [latency]
    load: {users: 2, duration: 2s}
    expect:
      latency.p95: < 1s
      errors.rate: < 5%

  - name: too-strict
    load: {users: 2, duration: 2s}
    expect:
      latency.p50: < 1ms
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    (pytester.path / "configs").mkdir()
    (pytester.path / "configs" / "local.yaml").write_text(behaviour_config_text("--delay", "0.02"))
    (pytester.path / "scenarios").mkdir()
    (pytester.path / "scenarios" / "api.yaml").write_text(SCENARIO)
    return pytester


def test_collect_only_lists_one_item_per_assumption(project: pytest.Pytester) -> None:
    result = project.runpytest("scenarios/", "--collect-only", "-q")
    result.stdout.fnmatch_lines(
        ["scenarios/api.yaml::fast-enough", "scenarios/api.yaml::too-strict"]
    )
    assert result.ret == 0


def test_k_and_markers_select(project: pytest.Pytester) -> None:
    result = project.runpytest("scenarios/", "--collect-only", "-q", "-k", "strict")
    result.stdout.fnmatch_lines(["scenarios/api.yaml::too-strict", "*1/2 tests collected*"])
    result = project.runpytest(
        "scenarios/", "--collect-only", "-q", "-m", "latency", "--strict-markers"
    )
    result.stdout.fnmatch_lines(["scenarios/api.yaml::fast-enough", "*1/2 tests collected*"])
    result = project.runpytest(
        "scenarios/", "--collect-only", "-q", "-m", "pre-deploy", "--strict-markers"
    )
    assert result.ret == 0 and "2 tests collected" in result.stdout.str()


def test_a_run_reports_verdicts_everywhere(project: pytest.Pytester) -> None:
    result = project.runpytest(
        "scenarios/", "--infratest-json", "out/results.json", "--junitxml", "junit.xml"
    )
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "*too-strict (scenarios/api.yaml:15): FAIL*",
            "*metric*condition*measured*95% CI*verdict*",
            "*latency.p50*< 1ms*fail*",
            "*reason: latency.p50*misses < 1ms*",
            "*= infratest =*",
            "PASS*scenarios/api.yaml::fast-enough*latency.p95*",
            "FAIL*scenarios/api.yaml::too-strict*",
        ]
    )
    assert "Traceback" not in result.stdout.str()
    data = json.loads((project.path / "out" / "results.json").read_text())
    assert data["complete"] is True
    verdicts = {a["name"]: a["verdict"] for a in data["assumptions"]}
    assert verdicts == {"fast-enough": "pass", "too-strict": "fail"}
    check = data["assumptions"][0]["checks"][0]
    assert check["metric"] == "latency.p95" and check["unit"] == "s"
    assert check["ci_low"] <= check["value"] <= check["ci_high"]
    junit = ET.parse(project.path / "junit.xml")
    properties = {p.get("name"): p.get("value") for p in junit.iter("property")}
    assert properties["verdict"] in ("pass", "fail")
    assert properties["latency.p50"].startswith("fail: ")
    assert properties["stopped"] in ("duration", "decided", "failed")  # how the run ended
    assert {a["stopped"] for a in data["assumptions"]} <= {"duration", "decided", "failed"}


def test_x_stops_at_the_first_failure(project: pytest.Pytester) -> None:
    head, fast, strict = SCENARIO.split("  - name: ")
    (project.path / "scenarios" / "api.yaml").write_text(
        f"{head}  - name: {strict}\n  - name: {fast}"
    )
    result = project.runpytest("scenarios/", "-x")
    result.assert_outcomes(failed=1)
    assert result.ret == 1


def test_inconclusive_fails_the_gate_unless_told_otherwise(project: pytest.Pytester) -> None:
    (project.path / "scenarios" / "api.yaml").write_text(
        textwrap.dedent("""\
        target: svc
        assumptions:
          - name: few-samples
            load: {users: 1, duration: 2s, wait: 200ms, requests: [GET /]}
            expect: {latency.p99: < 1s}
        """)
    )
    result = project.runpytest("scenarios/", "--infratest-inconclusive=pass")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["INCONCLUSIVE*few-samples*"])


BAD = (
    "target: svc\nassumptions:\n  - name: x\n    load: {users: 2, duration: 2s,"
    " requests: [GET /]}\n    expect: {latency.p95: < 200MB}\n"
)
BAD_LINE = "*scenarios/bad.yaml:5:27: assumptions[[]0[]].expect.latency.p95: expected a duration*"


def test_an_invalid_scenario_stops_the_session_before_anything_runs(
    project: pytest.Pytester,
) -> None:
    (project.path / "scenarios" / "bad.yaml").write_text(BAD)
    result = project.runpytest("scenarios/", "--infratest-json=r.json")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines([BAD_LINE, "*Interrupted: 1 error during collection*"])
    assert "Traceback" not in result.stdout.str()
    data = json.loads((project.path / "r.json").read_text())
    assert data["assumptions"] == []  # the valid api.yaml was not run either


def test_continue_on_collection_errors_runs_the_valid_files_and_still_fails(
    project: pytest.Pytester,
) -> None:
    (project.path / "scenarios" / "bad.yaml").write_text(BAD)
    result = project.runpytest(
        "scenarios/", "-k", "fast", "--continue-on-collection-errors", "--infratest-json=r.json"
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([BAD_LINE])
    assert "Traceback" not in result.stdout.str()
    data = json.loads((project.path / "r.json").read_text())
    assert [(a["name"], a["verdict"]) for a in data["assumptions"]] == [("fast-enough", "pass")]


def test_unknown_environment_names_the_problem(project: pytest.Pytester) -> None:
    result = project.runpytest("scenarios/", "--infratest-env", "staging", "--collect-only")
    result.stdout.fnmatch_lines(["*no config for environment 'staging'*"])
    assert result.ret != 0


def test_infratest_run_is_the_same_run(project: pytest.Pytester) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "infratest.cli", "run", "--json", "r.json", "--", "-k", "fast"],
        cwd=project.path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    data = json.loads((project.path / "r.json").read_text())
    assert [a["verdict"] for a in data["assumptions"]] == ["pass"]


def test_reports_are_written_and_rendered_again_without_measuring(
    project: pytest.Pytester,
) -> None:
    result = project.runpytest(
        "scenarios/",
        "-k",
        "fast",
        "--infratest-json=r.json",
        "--infratest-html=report.html",
        "--infratest-markdown=summary.md",
    )
    assert result.ret == 0
    html = (project.path / "report.html").read_text()
    assert "scenarios/api.yaml::fast-enough" in html and "data:image/png;base64," in html
    assert "| PASS |" in (project.path / "summary.md").read_text()
    data = json.loads((project.path / "r.json").read_text())
    assert data["provenance"]["scenario_files"]["scenarios/api.yaml"]  # a sha256
    again = subprocess.run(
        [sys.executable, "-m", "infratest.cli", "report", "r.json", "--html", "again.html"],
        cwd=project.path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 0, again.stderr
    assert (project.path / "again.html").read_text() == html


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupt_leaves_a_results_file_and_no_process(
    project: pytest.Pytester, signum: int
) -> None:
    import os
    import time

    results = project.path / "r.json"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "scenarios/",
            f"--infratest-json={results}",
            "-p",
            "no:cacheprovider",
        ],
        cwd=project.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not results.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)  # polling for the first assumption's results, bounded by the deadline
    os.kill(proc.pid, signum)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, output
    data = json.loads(results.read_text())
    assert data["interrupted"] is True and data["complete"] is False
    assert [a["name"] for a in data["assumptions"]] == ["fast-enough"]
    target_pid = data["assumptions"][0]["series"]["probe"]["pid"]
    assert target_pid and not _running(target_pid), "the managed target outlived Ctrl-C"
    history = sqlite3.connect(project.path / ".infratest" / "history.sqlite")  # the default
    assert history.execute("SELECT interrupted, complete FROM runs").fetchall() == [(1, 0)]
    assert history.execute("SELECT assumption FROM results").fetchall() == [("fast-enough",)]
    history.close()


def _running(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_secret_headers_never_reach_any_output(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "s3cr3t-token-7f1c2a"
    monkeypatch.setenv("API_TOKEN", secret)
    (project.path / "scenarios" / "api.yaml").write_text(
        textwrap.dedent("""\
        target: svc
        assumptions:
          - name: with-auth
            load:
              users: 2
              duration: 2s
              headers: {Authorization: "Bearer ${API_TOKEN}"}
              requests: [GET /predict]
            expect: {latency.p50: < 1ms}
        """)
    )
    result = project.runpytest(
        "scenarios/",
        "--infratest-json=r.json",
        "--junitxml=j.xml",
        "--infratest-html=r.html",
        "--infratest-markdown=r.md",
    )
    assert result.ret == 1  # the check fails, so its table is printed too
    outputs = [result.stdout.str(), result.stderr.str()]
    outputs += [(project.path / name).read_text() for name in ("r.json", "j.xml", "r.html", "r.md")]
    assert all(secret not in text for text in outputs)
