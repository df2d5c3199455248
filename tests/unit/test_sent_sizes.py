"""The sizes of the bodies sent: counted per pool entry inside the generator, carried on the
final line, added across workers and summarised for the results."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from infratest.results.body_plots import body_sizes
from infratest.workloads.body_pool import BodyPool, BodyPools
from infratest.workloads.load_plan import RequestSpec
from infratest.workloads.load_record import LoadRecord
from infratest.workloads.sent_sizes import bucket_upper, merge_sizes, sent_summary
from infratest.workloads.wire import Final, decode, encode

size_counts = st.dictionaries(st.integers(1, 10**6).map(str), st.integers(0, 1000), max_size=30)


@given(st.integers(0, 10**9))
def test_a_size_falls_in_the_smallest_bucket_that_holds_it(size: int) -> None:
    upper = bucket_upper(size)
    assert upper >= size and bucket_upper(upper) == upper  # its own bucket's bound
    assert size <= 1 or bucket_upper(size - 1) <= upper  # buckets ascend with the size
    assert upper <= max(size * 1.2 + 1, 1)  # a quarter doubling at most, so the plot is fine


@given(st.lists(st.dictionaries(st.sampled_from("ab"), size_counts, max_size=2), max_size=4))
def test_merged_tallies_add_up_by_name_and_size(tallies: list) -> None:
    merged = merge_sizes(tallies)
    for name in {n for t in tallies for n in t}:
        every = {s for t in tallies for s in t.get(name, {})}
        for size in every:
            assert merged[name][size] == sum(t.get(name, {}).get(size, 0) for t in tallies)


@given(size_counts)
def test_the_summary_counts_every_send_and_its_figures_are_sent_sizes(sizes: dict) -> None:
    summary = sent_summary(sizes)
    sent = [int(s) for s, n in sizes.items() if n > 0]
    assert summary["count"] == sum(sizes.values())
    assert sum(n for _, n in summary["histogram"]) == summary["count"]
    if not sent:
        assert summary["bytes"] is None and summary["histogram"] == []
        return
    figures = summary["bytes"]
    assert figures["min"] == min(sent) and figures["max"] == max(sent)
    assert figures["min"] <= figures["p50"] <= figures["p95"] <= figures["max"]
    assert {int(figures["p50"]), int(figures["p95"])} <= set(sent)  # nearest rank: real sizes
    uppers = [upper for upper, _ in summary["histogram"]]
    assert uppers == sorted(set(uppers)) and uppers[-1] >= max(sent)


def test_the_median_is_the_nearest_rank() -> None:
    summary = sent_summary({"10": 3, "20": 1, "300": 1})
    assert summary["bytes"] == {"min": 10.0, "p50": 10.0, "p95": 300.0, "max": 300.0}
    assert summary["histogram"] == [[10, 3], [20, 1], [305, 1]]


def _spec(**kw: object) -> RequestSpec:
    return RequestSpec(method="POST", path="/p", **kw)  # type: ignore[arg-type]


@given(st.integers(1, 200), st.sampled_from(["random", "file"]))
def test_a_pool_counts_each_measured_send_by_the_size_of_its_body(sends: int, order: str) -> None:
    spec = _spec(bodies=({"x": 1}, {"x": "long" * 20}, [1, 2, 3]), body_order=order)
    pool = BodyPool(spec)
    sent = [pool.next() for _ in range(sends)]
    pool.next(measured=False)  # warm-up: not counted
    expected: dict[str, int] = {}
    for body in sent:
        expected[str(len(body.encode()))] = expected.get(str(len(body.encode())), 0) + 1
    assert pool.sent_sizes() == expected


def test_pools_report_by_request_name_and_fixed_bodies_are_left_out() -> None:
    pooled, fixed = _spec(bodies=({"x": 1},), name="drawn"), _spec(json={"y": 2}, name="fixed")
    pools = BodyPools([pooled, fixed])
    for _ in range(4):
        pools.kwargs_for(pooled)
        pools.kwargs_for(fixed)
    pools.kwargs_for(pooled, measured=False)
    assert pools.sent_sizes() == {"drawn": {str(len(json.dumps({"x": 1}))): 4}}


def _final(worker: str, sizes: dict) -> Final:
    return Final(100.0, 0.0, 5.0, 5.5, (), {}, ["drawn"], None, "duration reached",
                 worker=worker, body_sizes=sizes)  # fmt: skip


def test_the_final_line_carries_the_sizes_and_workers_add_theirs() -> None:
    line = encode(_final("w1", {"drawn": {"8": 3, "12": 1}}))
    decoded = decode(line)
    assert isinstance(decoded, Final) and decoded.body_sizes == {"drawn": {"8": 3, "12": 1}}
    record = LoadRecord(0.0, 10.0, 1.0)
    record.finish(decoded)
    record.finish(_final("w2", {"drawn": {"8": 2, "40": 5}}))
    assert record.final is not None
    assert record.final.body_sizes == {"drawn": {"8": 5, "12": 1, "40": 5}}


def test_the_report_plots_sent_sizes_and_skips_what_is_missing_or_malformed() -> None:
    sent = sent_summary({"16": 3, "120": 9, "900": 2})
    png = body_sizes({"series": {"load": {"bodies": {"POST /p": {"sent": sent}}}}})
    assert png is not None and png.startswith(b"\x89PNG")
    for bodies in ({}, {"POST /p": {"bodies": 3}}, {"POST /p": {"sent": {"histogram": "x"}}}):
        assert body_sizes({"series": {"load": {"bodies": bodies}}}) is None
