"""Upload throughput is estimated from repeated uploads, never labelled exact."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from infratest.verdict import Verdict, decide
from infratest.workloads.s3 import upload_throughput_interval

seconds = st.lists(st.floats(min_value=1e-3, max_value=100.0), min_size=1, max_size=50)


def test_one_upload_is_unbounded_so_checks_are_inconclusive() -> None:
    iv = upload_throughput_interval(4_000_000, [2.0], 0.95)
    assert iv.value == 2_000_000 and iv.n == 1 and iv.method == "per-upload-t"
    assert iv.low == -math.inf and iv.high == math.inf
    assert decide(iv, ">", 1.0) == Verdict.INCONCLUSIVE


def test_steady_uploads_give_a_tight_interval_around_the_mean_rate() -> None:
    iv = upload_throughput_interval(1_000_000, [1.0, 1.1, 0.9, 1.0, 1.05], 0.95)
    rates = [1e6 / s for s in (1.0, 1.1, 0.9, 1.0, 1.05)]
    assert iv.value == sum(rates) / 5 and iv.n == 5
    assert 0.85e6 < iv.low < iv.value < iv.high < 1.2e6
    assert decide(iv, ">", 0.5e6) == Verdict.PASS


@settings(max_examples=100, deadline=None)
@given(seconds)
def test_upload_interval_is_ordered_and_never_below_zero(s: list[float]) -> None:
    iv = upload_throughput_interval(1_000_000, s, 0.95)
    assert iv.n == len(s)
    assert iv.low <= iv.value <= iv.high
    assert iv.low >= 0.0 or len(s) == 1
