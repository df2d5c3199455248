"""Inside the generator: each send's body from its pool, and the check of each answer.
(Modules that import Locust are left to the integration tests: Locust patches the process.)"""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from infratest.workloads.answer_check import AnswerCheck, AnswerRejected
from infratest.workloads.body_pool import BodyPool, BodyPools
from infratest.workloads.load_plan import RequestSpec


def _spec(**kw: object) -> RequestSpec:
    return RequestSpec(method="POST", path="/p", **kw)  # type: ignore[arg-type]


def test_in_file_order_the_bodies_go_round_and_round() -> None:
    pool = BodyPool(_spec(bodies=({"i": 0}, {"i": 1}, {"i": 2}), body_order="file"))
    assert [json.loads(pool.next())["i"] for _ in range(7)] == [0, 1, 2, 0, 1, 2, 0]


@given(seed=st.integers(0, 2**31), worker=st.integers(0, 8))
def test_random_picks_repeat_by_seed_and_differ_by_worker(seed: int, worker: int) -> None:
    spec = _spec(bodies=tuple({"i": i} for i in range(50)), body_seed=seed)
    first = [BodyPool(spec, worker).next() for _ in range(1)]
    again = BodyPool(spec, worker)
    assert [again.next() for _ in range(1)] == first
    a, b = BodyPool(spec, worker), BodyPool(spec, worker + 1)
    assert [a.next() for _ in range(20)] != [b.next() for _ in range(20)]


def test_a_pooled_request_sends_json_with_its_body() -> None:
    spec = _spec(bodies=({"x": 1},))
    kwargs = BodyPools([spec]).kwargs_for(spec)
    assert kwargs["data"] == '{"x": 1}' and kwargs["headers"]["Content-Type"] == "application/json"
    plain = _spec(json={"y": 2})
    assert BodyPools([plain]).kwargs_for(plain)["data"] == '{"y": 2}'


def test_answers_are_checked_for_status_and_schema() -> None:
    schema = {"type": "object", "required": ["label"], "properties": {"label": {"type": "integer"}}}
    check = AnswerCheck(_spec(accept_status=(200,), answer_schema=schema))
    assert check.active and check.problem(200, b'{"label": 3}') is None
    assert check.problem(201, b"{}").key == "status: 201"  # type: ignore[union-attr]
    assert check.problem(200, b'{"label": "x"}').key == "schema: label: type"  # type: ignore[union-attr]
    assert check.problem(200, b"{}").key == "schema: (root): required"  # type: ignore[union-attr]
    assert check.problem(200, b"<html>").key == "schema: (root): not JSON"  # type: ignore[union-attr]
    assert not AnswerCheck(_spec()).active


def test_a_rejected_answer_carries_its_group_and_its_body_truncated() -> None:
    rejected = AnswerRejected("schema: label: type", b'{"label": "x"}' + b"y" * 500)
    assert rejected.key == "schema: label: type"
    assert rejected.example.startswith('schema: label: type; body: {"label": "x"}')
    assert len(rejected.example) < 300
