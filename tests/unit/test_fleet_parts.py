"""Scaling out, the pure parts: which fleet a load gets, what a worker refuses, how the
parent merges what its workers streamed, and the Kubernetes manifest's shape."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from infratest.spec.config import Generators, MasterConfig
from infratest.spec.discovery import UsageError
from infratest.workloads.fleet import FleetSettings, fleet_settings
from infratest.workloads.load_plan import LoadPlan, RequestSpec
from infratest.workloads.load_record import LoadRecord
from infratest.workloads.wire import Final, Tick, WindowDelta
from infratest.workloads.worker_health import fleet_untrusted_reason
from infratest.workloads.worker_policy import WorkerPolicy

ROOT = Path(__file__).resolve().parents[2]


def test_one_worker_without_a_master_is_the_single_process_run() -> None:
    assert fleet_settings(None, Generators()) is None
    assert fleet_settings(1, Generators(workers=3)) is None  # the scenario wins


def test_auto_is_one_worker_per_core_and_the_scenario_wins() -> None:
    auto = fleet_settings(None, Generators(workers="auto"))
    cores = os.cpu_count() or 1
    assert (auto is None) if cores == 1 else (auto is not None and auto.local_workers == cores)
    chosen = fleet_settings(2, Generators(workers=5))
    assert chosen is not None and chosen.local_workers == 2 and chosen.workers == 2


def test_a_master_section_binds_there_and_waits_for_remote_workers() -> None:
    master = MasterConfig(bind="*:6000", expect_remote=3, wait="12s")
    fleet = fleet_settings(None, Generators(master=master))
    assert fleet == FleetSettings(1, "*", 6000, expect_remote=3, wait_s=12.0)
    assert fleet.workers == 4 and fleet.connect_host == "127.0.0.1"
    assert FleetSettings.from_json(fleet.to_json()) == fleet
    assert MasterConfig(bind="[::1]:5557").host == "::1"


def _plan(host: str = "http://127.0.0.1:8000", users: int = 10, duration: float = 5.0) -> LoadPlan:
    secret = {"Authorization": "Bearer s3cr3t-value"}
    return LoadPlan(host, (RequestSpec(headers=secret),), users=users, duration_s=duration)


@pytest.mark.parametrize(
    ("plan", "fragment"),
    [
        (_plan(host="http://10.9.9.9:80"), "'10.9.9.9' is not in allow.hosts [127.0.0.1]"),
        (_plan(users=51), "51 users is above its limits.max_users (50)"),
        (_plan(duration=61.0), "above its limits.max_duration (60 s)"),
        (
            dataclasses.replace(
                _plan(duration=9.0),
                compare_hosts=("http://127.0.0.1:8000", "http://10.8.8.8:80"),
                compare_rounds=2,
            ),
            "'10.8.8.8' is not in allow.hosts",
        ),
    ],
)
def test_a_worker_refuses_plans_its_config_would_not_allow(plan: LoadPlan, fragment: str) -> None:
    policy = WorkerPolicy(("127.0.0.1",), max_users=50, max_duration_s=60.0)
    why = policy.refusal(plan)
    assert why is not None and fragment in why
    assert "s3cr3t" not in why  # never a header value
    assert WorkerPolicy.from_json(policy.to_json()) == policy


def test_a_worker_accepts_a_plan_within_its_config() -> None:
    assert WorkerPolicy(("127.0.0.0/8",), 50, 60.0).refusal(_plan()) is None


def _tick(worker: str, t: float, ok: int, in_flight: tuple[float, ...], cpu: float) -> Tick:
    delta = WindowDelta(window=int(t) - 1, ok_histogram=None, failed_histogram=None, ok=ok,
                        failed=0, timeouts=0)  # fmt: skip
    return Tick(t, 2, (delta,), in_flight, (0.001,), 0, worker=worker, cpu_cores=cpu)


def _final(worker: str, unfinished: tuple[float, ...], end: float) -> Final:
    return Final(100.0, 0.0, end, end + 0.5, unfinished, {"timeout": [worker]}, ["GET /"], None,
                 "duration reached", worker=worker)  # fmt: skip


shares = st.lists(
    st.lists(st.integers(0, 50), min_size=1, max_size=6), min_size=1, max_size=4
)  # per worker, requests per tick


@given(shares)
def test_merged_counts_are_the_sum_of_every_workers(per_worker: list[list[int]]) -> None:
    record = LoadRecord(0.0, 10.0, 1.0)
    for i, counts in enumerate(per_worker):
        for second, ok in enumerate(counts, start=1):
            record.add_tick(_tick(f"w{i}", float(second), ok, (second - 0.5,), 0.3))
    assert record.outcomes.total_ok == sum(map(sum, per_worker))
    views = record.workers.by_name
    assert [views[f"w{i}"].requests for i in range(len(per_worker))] == list(map(sum, per_worker))
    assert len(record.in_flight) == len(per_worker)  # each worker's latest in-flight set
    assert record.last_t == max(len(c) for c in per_worker)
    for i in range(len(per_worker)):
        record.finish(_final(f"w{i}", (1.0 + i,), 5.0 + i))
    final = record.final
    assert final is not None and final.worker is None
    assert sorted(final.unfinished) == [1.0 + i for i in range(len(per_worker))]
    assert final.measure_end == 5.0 + len(per_worker) - 1
    assert len(final.examples["timeout"]) == min(len(per_worker), 3)


def test_a_lost_or_saturated_worker_is_named_and_a_finished_one_is_not_lost() -> None:
    record = LoadRecord(0.0, 10.0, 1.0)
    record.add_tick(_tick("local-1", 1.0, 5, (), 0.2))
    record.add_tick(_tick("local-2", 1.0, 5, (), 0.95))
    record.add_tick(_tick("remote-a", 1.0, 5, (), 0.1))
    record.finish(_final("remote-a", (), 5.0))
    record.workers.mark_lost("remote-a", "its heartbeats stopped")  # it had finished
    assert fleet_untrusted_reason(record, 0.1) is not None
    record.workers.mark_lost("local-1", "its process exited with code -9")
    reason = fleet_untrusted_reason(record, 0.1) or ""
    assert "worker local-1 was lost mid-run (its process exited with code -9)" in reason
    assert "worker local-2: the load generator was saturated (0.95 cores" in reason
    assert "remote-a" not in reason


def test_healthy_workers_leave_the_figures_trusted() -> None:
    record = LoadRecord(0.0, 10.0, 1.0)
    for name in ("local-1", "local-2"):
        record.add_tick(_tick(name, 1.0, 5, (), 0.5))
    assert fleet_untrusted_reason(record, 0.2) is None


def test_the_master_address_of_a_remote_worker_is_checked() -> None:
    from infratest.remote_worker import master_address

    assert master_address("10.0.0.5:5557") == "10.0.0.5:5557"
    for bad in ("10.0.0.5", "host:0", ":5557", "host:99999"):
        with pytest.raises(UsageError, match="HOST:PORT"):
            master_address(bad)


def test_the_kubernetes_manifest_runs_workers_against_the_master_port() -> None:
    docs = list(yaml.safe_load_all((ROOT / "docs/kubernetes/workers.yaml").read_text()))
    by_kind = {d["kind"]: d for d in docs}
    assert {"Deployment", "Service", "ConfigMap"} <= set(by_kind)
    container = by_kind["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    command = container["command"]
    assert command[:2] == ["infratest", "worker"] and "--master" in command
    master = command[command.index("--master") + 1]
    host, port = master.rsplit(":", 1)
    service = by_kind["Service"]
    assert host == service["metadata"]["name"]
    assert int(port) in [p["port"] for p in service["spec"]["ports"]]
    config = yaml.safe_load(by_kind["ConfigMap"]["data"]["worker.yaml"])
    assert config["allow"]["hosts"]
