"""Scenario and config files load into frozen, SI-valued models; defaults, shorthand and
environment references resolve as the format describes."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pydantic
import pytest

from infratest import load_config, load_scenario
from infratest.spec.problems import SpecError

ROOT = Path(__file__).parent.parent.parent
VALID = ROOT / "tests" / "fixtures" / "valid"


@pytest.fixture(scope="module")
def example_config():
    return load_config(VALID / "format-example-config.yaml")


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_the_format_example_loads_with_every_workload(example_config) -> None:
    scenario = load_scenario(VALID / "format-example.yaml", example_config)
    workloads = [a.workload for a in scenario.assumptions]
    assert workloads == ["load", "load", "sweep", "capacity", "cold_start", "disk", "s3", "network"]
    first = scenario.assumptions[0]
    assert first.expect["latency.p95"].bound == pytest.approx(0.2)
    assert first.expect["errors.rate"].bound == pytest.approx(0.01)
    assert first.load.duration == 20.0 and first.load.ramp == 2.0
    assert [r.label for r in first.load.requests] == ["POST /predict", "GET /healthz"]
    assert first.load.requests[0].weight == 9
    assert scenario.assumptions[1].expect["process.rss.growth"].bound == pytest.approx(5e6 / 60)
    assert scenario.assumptions[1].expect["process.rss.peak"].bound == 2.0**30
    assert scenario.assumptions[5].disk.size == 256e6
    assert scenario.assumptions[6].s3.size == 64e6
    assert scenario.confidence == pytest.approx(0.95)
    assert scenario.tags == ("pre-deploy",)
    assert first.line == 15  # the line of `- name:` in the file


def test_defaults_feed_sweep_capacity_and_cold_start(example_config) -> None:
    scenario = load_scenario(VALID / "format-example.yaml", example_config)
    by_name = {a.name: a for a in scenario.assumptions}
    assert len(by_name["throughput-scales-to-8-users"].sweep.requests) == 2
    assert len(by_name["capacity-under-slo"].capacity.requests) == 2
    assert len(by_name["cold-start"].cold_start.requests) == 2


def test_probes_resolve_from_the_target(example_config) -> None:
    scenario = load_scenario(VALID / "format-example.yaml", example_config)
    probes = {a.name: a.probe for a in scenario.assumptions}
    assert probes["p95-latency-at-20-users"].target  # managed target: its process tree
    assert probes["cold-start"] is None  # cold starts measure their own instances
    assert not probes["scratch-disk"].selects_process  # host only


def test_assumption_values_win_over_defaults_and_headers_merge(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        target: demo
        defaults:
          load:
            users: 5
            headers: {X-Team: ml}
            requests: [GET /a]
        assumptions:
          - name: a
            load: {users: 7, duration: 5s, headers: {X-Run: "1"}}
            expect: {latency.p95: < 1s}
        """,
    )
    config = load_config(ROOT / "configs" / "local.yaml")
    load = load_scenario(path, config).assumptions[0].load
    assert load.users == 7
    assert load.headers == {"X-Team": "ml", "X-Run": "1"}
    assert load.requests[0].path == "/a"


def test_environment_references(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFRATEST_USERS", "12")
    monkeypatch.delenv("INFRATEST_UNSET", raising=False)
    path = write(
        tmp_path,
        """\
        target: ${INFRATEST_TARGET:-demo}
        description: "costs $${HOME}"
        assumptions:
          - name: a
            load: {users: "${INFRATEST_USERS}", duration: "${INFRATEST_UNSET:-3s}",
                   requests: [GET /]}
            expect: {latency.p95: < 1s}
        """,
    )
    scenario = load_scenario(path)
    assert scenario.target == "demo"
    assert scenario.description == "costs ${HOME}"
    assert scenario.assumptions[0].load.users == 12
    assert scenario.assumptions[0].load.duration == 3.0


def test_models_are_frozen(tmp_path: Path) -> None:
    scenario = load_scenario(ROOT / "scenarios" / "online-inference.yaml")
    with pytest.raises(pydantic.ValidationError):
        scenario.target = "other"  # type: ignore[misc]


def test_port_placeholders_stay_for_start_time() -> None:
    config = load_config(ROOT / "configs" / "local.yaml")
    assert config.targets["demo"].url == "http://127.0.0.1:{port}"
    assert config.targets["demo"].launch[0] == "{python}"
    assert config.targets["demo"].managed


def test_scenario_name_defaults_to_the_file_stem(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        assumptions:
          - name: d
            disk: {path: /tmp, size: 1MB, block: 64KiB}
            expect: {disk.free: "> 1MB"}
        """,
        name="scratch.yaml",
    )
    assert load_scenario(path).scenario == "scratch"


def test_bundled_scenarios_are_valid_against_the_local_config() -> None:
    config = load_config(ROOT / "configs" / "local.yaml")
    files = sorted((ROOT / "scenarios").glob("*.yaml"))
    assert files
    for path in files:
        assert load_scenario(path, config).assumptions


def test_every_problem_of_a_file_is_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        target: demo
        assumptions:
          - name: a
            load: {users: 2, duration: 5s, requests: [GET /]}
            expect: {latency.p95: < 2MB, latency.p99: < 2s}
          - name: b
            load: {users: two, duration: 5s, requests: [GET /]}
            expect: {latency.p95: < 1s}
          - name: c
            load: {users: 2, duration: 5s, requests: [GET /]}
            expect: {latency.p50: < 1 parsec}
        """,
    )
    with pytest.raises(SpecError) as info:
        load_scenario(path, load_config(ROOT / "configs" / "local.yaml"))
    lines = sorted(p.line for p in info.value.problems)
    assert lines == [5, 7, 11]


def test_early_deciding_keys_and_latency_of_resolve(example_config) -> None:
    scenario = load_scenario(VALID / "early-deciding.yaml", example_config)
    decided, full, capacity, full_steps = scenario.assumptions
    assert decided.load.until == "decided" and decided.load.fail_fast is True
    assert decided.load.min_duration == 4.0  # from defaults.load
    assert decided.load.measure_start == 3.0  # max(ramp 2s, warmup 3s): the ramp is unmeasured
    assert full.load.until == "duration" and full.load.fail_fast is False
    assert full.load.min_duration == 1.0
    assert capacity.capacity.until == "decided" and capacity.capacity.min_duration == 3.0
    assert full_steps.capacity.until == "step" and full_steps.capacity.fail_fast is False
    latency_of = [a.latency_of for a in scenario.assumptions]
    assert latency_of == ["all", "successful", "successful", "all"]


def test_new_keys_default_to_monitored_runs_of_every_request(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        assumptions:
          - name: a
            load: {users: 1, duration: 3s, ramp: 1s, requests: [GET /]}
            expect: {latency.p95: < 1s}
          - name: b
            capacity: {slo: {latency.p95: < 1s}, users: {max: 4}, step: 3s, requests: [GET /]}
            expect: {capacity.users: ">= 1"}
          - name: c
            disk: {path: /tmp}
            expect: {disk.free: "> 1MB"}
        """,
    )
    load, capacity, disk = load_scenario(path).assumptions
    assert (load.load.fail_fast, load.load.until, load.load.min_duration) == (True, "duration", 5)
    assert load.load.measure_start == 1.0
    assert (capacity.capacity.until, capacity.capacity.min_duration) == ("decided", 2.0)
    assert capacity.capacity.fail_fast is True
    assert load.latency_of == capacity.latency_of == disk.latency_of == "all"


def test_defaults_latency_of_skips_workloads_without_latency(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        defaults: {latency_of: successful}
        assumptions:
          - name: a
            load: {users: 1, duration: 3s, requests: [GET /]}
            expect: {latency.p95: < 1s}
          - name: c
            disk: {path: /tmp}
            expect: {disk.free: "> 1MB"}
        """,
    )
    load, disk = load_scenario(path).assumptions
    assert load.latency_of == "successful" and disk.latency_of == "all"


@pytest.mark.parametrize(
    ("condition", "ok"),
    [("< 100%", True), ("<= 1", True), ("< 0%", True), ("< 100.1%", False), ("> 2", False)],
)
def test_share_bounds_stay_within_0_and_100_percent(
    tmp_path: Path, condition: str, ok: bool
) -> None:
    path = write(
        tmp_path,
        f"""\
        assumptions:
          - name: a
            load: {{users: 1, duration: 3s, requests: [GET /]}}
            expect: {{errors.rate: "{condition}"}}
          - name: b
            sweep: {{users: [1, 2], step: 2s, requests: [GET /]}}
            expect: {{scaling.efficiency: "{condition}"}}
        """,
    )
    if ok:
        load_scenario(path)
        return
    with pytest.raises(SpecError) as info:
        load_scenario(path)
    assert [p.line for p in info.value.problems] == [4]  # scaling.efficiency may exceed 100%
    assert "errors.rate is a share between 0 and 100%" in str(info.value)
