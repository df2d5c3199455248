"""`user_class: module:Class`: a user's own Locust user, run through pytest as a scenario. Its
requests are recorded by name like infratest's own; a class that cannot be loaded, or a
request to a host outside the allow-list, is reported plainly (no traceback)."""

from __future__ import annotations

import json
import textwrap

import pytest

from tests.support.assumptions import behaviour_config_text

pytestmark = [pytest.mark.load, pytest.mark.usefixtures("no_leftover_processes")]


LOCUSTFILE = '''\
from locust import FastHttpUser, HttpUser, constant, task


class Session(FastHttpUser):
    """Log in, then ask for a prediction: two steps, each a request of its own."""

    wait_time = constant(0.01)

    @task
    def session(self):
        self.client.post("/login", json={"user": "u"})
        self.client.get("/predict?x=1", name="/predict")


class Wanderer(HttpUser):
    """One request to the target, then one to a host nobody allowed; or a bug of its own."""

    wait_time = constant(0.01)

    @task
    def wander(self):
        self.client.get("/ok")
        self.client.get("http://10.255.255.1/steal")

    @task
    def bug(self):
        self.client.get("/ok")
        return {}["token"]


NOT_A_USER = 42
'''

SCENARIO = """\
scenario: own
target: svc
defaults:
  load: {users: 2, duration: 2s, fail_fast: false}
assumptions:
  - name: session
    load: {user_class: "locustfile:Session"}
    expect: {latency.p95: < 1s, errors.rate: < 5%}
  - name: wanderer
    load: {user_class: "locustfile:Wanderer", duration: 1s}
    expect: {errors.rate: < 5%}
  - name: no-module
    load:
      user_class: "nosuchmodule:User"
    expect: {latency.p95: < 1s}
  - name: not-a-user
    load: {user_class: "locustfile:NOT_A_USER"}
    expect: {latency.p95: < 1s}
"""


def test_own_user_class_runs_and_is_recorded(pytester: pytest.Pytester) -> None:
    (pytester.path / "configs").mkdir()
    (pytester.path / "configs" / "local.yaml").write_text(behaviour_config_text("--delay", "0.005"))
    folder = pytester.path / "scenarios"
    folder.mkdir()
    (folder / "own.yaml").write_text(SCENARIO)
    (folder / "locustfile.py").write_text(textwrap.dedent(LOCUSTFILE))  # next to the scenario
    result = pytester.runpytest("scenarios/", "--infratest-json", "results.json")
    assert "Traceback" not in result.stdout.str()
    results = json.loads((pytester.path / "results.json").read_text())["assumptions"]
    found = {a["name"]: a for a in results}

    session = found["session"]
    assert session["verdict"] == "pass", session["reason"]
    load = session["series"]["load"]
    by_name = load["by_name"]
    assert set(by_name) == {"/login", "/predict"}  # both steps, under Locust's names
    assert by_name["/login"] >= 20 and abs(by_name["/login"] - by_name["/predict"]) <= 2
    assert sum(by_name.values()) == load["requests"]["sent"]

    wanderer = found["wanderer"]
    kinds = {k["key"]: k["count"] for k in wanderer["series"]["load"]["error_kinds"]}
    assert list(kinds) == ["host not allowed: 10.255.255.1"]  # refused, never sent
    assert wanderer["verdict"] == "fail" and "errors.rate" in wanderer["reason"]
    assert wanderer["series"]["load"]["by_name"]["/ok"] > kinds["host not allowed: 10.255.255.1"]
    raised = next(n for n in wanderer["notes"] if n.startswith("the user class raised"))
    line = LOCUSTFILE.splitlines().index('        return {}["token"]') + 1
    assert f"first: KeyError: 'token' (at {folder / 'locustfile.py'}:{line})" in raised

    missing, not_user = found["no-module"], found["not-a-user"]
    assert missing["verdict"] == not_user["verdict"] == "error"
    assert missing["reason"].startswith(
        "scenarios/own.yaml:14: assumptions[2].load.user_class: no module 'nosuchmodule' "
    )
    assert str(folder) in missing["reason"]  # where it was also looked for
    assert not_user["reason"] == (
        "scenarios/own.yaml:17: assumptions[3].load.user_class: locustfile:NOT_A_USER is "
        "not a Locust User subclass (got int)"
    )
