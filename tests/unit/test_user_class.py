"""`user_class: module:Class` without running a load: the spec remembers where it is written,
the plan carries it across, a remote worker refuses it, foreign hosts are told apart, and a
class that cannot run says why (resolved in a real Locust subprocess, never in this one)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infratest import load_config, load_scenario
from infratest.hosts import foreign_host
from infratest.spec.config import Config
from infratest.workloads.child_process import child_env
from infratest.workloads.load import build_plan
from infratest.workloads.load_plan import LoadPlan
from infratest.workloads.worker_policy import WorkerPolicy

FIXTURES = Path(__file__).parent.parent / "fixtures"
TARGET = "http://127.0.0.1:8080"

paths = st.from_regex(r"/[a-z0-9/?=&]{0,20}", fullmatch=True)
hosts = st.from_regex(r"[a-z][a-z0-9]{0,8}\.(example|invalid|test)", fullmatch=True)


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(FIXTURES / "config.yaml")


def test_the_loader_records_where_the_class_is_written(tmp_path: Path, config: Config) -> None:
    path = tmp_path / "own.yaml"
    path.write_text(
        "target: demo\n"
        "defaults:\n  load: {headers: {X-Team: infra}}\n"
        "assumptions:\n"
        "  - name: a\n"
        "    load:\n"
        "      users: 3\n"
        "      duration: 5s\n"
        "      user_class: pkg.locustfile:ApiUser\n"
        "    expect: {latency.p95: < 1s}\n"
    )
    load = load_scenario(path, config).assumptions[0].load
    assert load is not None and load.own_user and not load.requests
    assert load.user_class_at.endswith("own.yaml:9: assumptions[0].load.user_class")
    assert load.user_class_folder == str(tmp_path.resolve())
    plan = build_plan(load, TARGET, 3, 5.0)
    assert plan.own_user and plan.requests == () and not plan.wait_given
    assert plan.user_class_paths == (str(tmp_path.resolve()), str(Path.cwd()))
    assert plan.headers == {"X-Team": "infra"}
    assert LoadPlan.from_json(plan.to_json()) == plan


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"rate_per_s": 10.0}, "closed-model only"),
        ({"compare_hosts": (TARGET, TARGET), "compare_rounds": 1}, "compare"),
        ({"user_class": "not a class"}, "module:Class"),
    ],
)
def test_a_plan_with_a_user_class_refuses_what_it_cannot_run(changes: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LoadPlan(**{"host": TARGET, "requests": (), "users": 1, "user_class": "m:C", **changes})


def test_only_a_worker_the_parent_started_imports_a_user_class(config: Config) -> None:
    plan = LoadPlan(host=TARGET, requests=(), users=1, user_class="locustfile:ApiUser")
    remote = WorkerPolicy.from_config(config)
    assert "locustfile:ApiUser" in (remote.refusal(plan) or "")
    local = WorkerPolicy(remote.allow_hosts, 10, 60.0, user_classes=True)
    assert local.refusal(plan) is None


@given(paths)
def test_a_relative_url_goes_to_the_target(path: str) -> None:
    assert foreign_host(path, TARGET, ()) is None


@given(paths, st.sampled_from(["http", "https", "HTTP"]))
def test_the_target_host_is_never_foreign(path: str, scheme: str) -> None:
    assert foreign_host(f"{scheme}://127.0.0.1:9{path}", TARGET, ()) is None


@given(hosts, paths)
def test_a_host_is_foreign_unless_allowed(host: str, path: str) -> None:
    assert foreign_host(f"http://{host}{path}", TARGET, ("127.0.0.1",)) == host
    assert foreign_host(f"https://{host}:8443{path}", TARGET, (host,)) is None


def test_an_address_in_an_allowed_network_is_not_foreign() -> None:
    assert foreign_host("http://10.1.2.3/x", TARGET, ("10.0.0.0/8",)) is None
    assert foreign_host("http://10.255.255.1/x", TARGET, ("127.0.0.1",)) == "10.255.255.1"


LOCUSTFILE = """\
from locust import FastHttpUser, User, task

class Base(FastHttpUser):
    abstract = True

class NoTasks(FastHttpUser):
    pass

class Plain(User):
    @task
    def t(self):
        pass

class Fine(FastHttpUser):
    @task
    def t(self):
        pass
"""

RESOLVE = """\
import locust, json, sys
from infratest.workloads.locust_own_user import UserClassLoadError, load_user_class
out = {}
for ref in sys.argv[2:]:
    try:
        out[ref] = load_user_class(ref, (sys.argv[1],)).__name__
    except UserClassLoadError as exc:
        out[ref] = str(exc)
print(json.dumps(out))
"""


def test_a_class_that_cannot_run_says_why(tmp_path: Path) -> None:
    (tmp_path / "users.py").write_text(LOCUSTFILE)
    (tmp_path / "broken.py").write_text("import json\n\nraise RuntimeError('no token')\n")
    (tmp_path / "needs.py").write_text("import surely_not_installed_xyz\n")
    refs = [
        "users:Fine",
        "users:Base",
        "users:NoTasks",
        "users:Plain",
        "users:Missing",
        "broken:User",
        "needs:User",
    ]
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(RESOLVE), str(tmp_path), *refs],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=tmp_path,
        timeout=60,
        check=True,
    )
    said = json.loads(done.stdout.splitlines()[-1])
    assert said["users:Fine"] == "Fine"
    assert said["users:Base"] == "users:Base is abstract (abstract = True): it cannot run"
    assert "has no tasks" in said["users:NoTasks"]
    assert "not an HttpUser or FastHttpUser" in said["users:Plain"]
    assert said["users:Missing"] == (
        "module 'users' has no 'Missing'; its Locust users: Fine, NoTasks, Plain"
    )
    broken = f"importing 'broken' failed: RuntimeError: no token (at {tmp_path / 'broken.py'}:3)"
    assert said["broken:User"] == broken
    assert said["needs:User"].startswith(
        "importing 'needs' failed: ModuleNotFoundError: No module named 'surely_not_installed_xyz'"
    )
