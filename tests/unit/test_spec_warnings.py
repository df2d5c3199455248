"""Warnings for checks their fixed sample count dooms: the minimum matches the order-statistic
interval the verdicts use, the counts match the workloads, and the warnings are located."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infratest import load_config
from infratest.spec.loader import validate_scenario
from infratest.spec.warnings import (
    COLD_START_DISTRIBUTION_FREE_MIN,
    fsync_count,
    min_samples,
    quantile_of,
)
from infratest.stats import quantile_interval
from infratest.workloads import cold_start, disk

ROOT = Path(__file__).parent.parent.parent
QUANTILES = [0.5, 0.9, 0.95, 0.99, 0.999]
CONFIDENCES = [0.6, 0.8, 0.9, 0.95, 0.975, 0.99]


def test_the_documented_minimums() -> None:
    assert min_samples(0.99, 0.95, "<") == 299
    assert min_samples(0.95, 0.95, "<") == 59
    assert min_samples(0.5, 0.95, "<") == 5
    assert min_samples(0.99, 0.95, ">") == 1  # a lower bound of a p99 comes at once


@given(st.sampled_from(QUANTILES), st.sampled_from(CONFIDENCES), st.sampled_from(["<", ">="]))
def test_the_minimum_is_where_the_interval_gets_the_bound_it_needs(
    q: float, confidence: float, op: str
) -> None:
    n = min_samples(q, confidence, op)
    end = "high" if op == "<" else "low"

    def bounded(count: int) -> bool:
        interval = quantile_interval([float(i) for i in range(count)], q, confidence)
        return math.isfinite(getattr(interval, end))

    assert bounded(n)
    assert n == 1 or not bounded(n - 1)


def test_percentile_names() -> None:
    assert quantile_of("tcp.connect.p99") == pytest.approx(0.99)
    assert quantile_of("tcp.connect.p50") == pytest.approx(0.5)
    assert quantile_of("latency.p999") == pytest.approx(0.999)
    assert quantile_of("cold_start.ready") == 0.5
    assert quantile_of("disk.free") is None


@pytest.mark.parametrize("blocks", [1, 7, 8, 29, 30, 64, 239, 240, 241, 256, 1000, 4096])
def test_fsync_count_is_the_disk_workloads(blocks: int) -> None:
    every = disk.fsync_interval_blocks(blocks)
    timed = sum(1 for i in range(blocks) if (i + 1) % every == 0)  # as its write pass does
    assert fsync_count(blocks * 1e6, 1e6) == timed


def test_the_cold_start_threshold_is_the_workloads() -> None:
    assert COLD_START_DISTRIBUTION_FREE_MIN == cold_start.DISTRIBUTION_FREE_MIN


SCENARIO = """\
target: demo
assumptions:
  - name: port
    network: {target: demo, samples: 50}
    expect:
      tcp.connect.p99: < 5ms
      tcp.connect.p50: < 5ms
  - name: first-byte
    s3: {target: s3, bucket: models, size: 1MB, samples: 100}
    expect: {s3.first_byte.p99: < 100ms}
  - name: fsyncs
    disk: {path: /tmp, size: 64MB, block: 1MB}
    expect: {disk.fsync.p99: < 10ms, disk.free: "> 1MB"}
  - name: no-fsync
    disk: {path: /tmp, size: 64MB, block: 1MB, fsync: false}
    expect: {disk.fsync.p99: < 10ms}
  - name: few-launches
    cold_start: {repeat: 3}
    expect: {cold_start.ready: < 10s}
  - name: enough
    network: {target: demo}
    expect: {tcp.connect.p99: < 5ms}
"""


@pytest.fixture(scope="module")
def config():
    return load_config(ROOT / "configs" / "local.yaml")


def test_each_doomed_check_is_warned_at_its_line(tmp_path: Path, config) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(SCENARIO)
    checked = validate_scenario(path, config)
    texts = [str(w) for w in checked.warnings]
    assert [w.line for w in checked.warnings] == [6, 10, 13, 16, 19], texts
    assert texts[0].endswith(
        ": warning: assumptions[0].expect.tcp.connect.p99: tcp.connect.p99 can never pass "
        "with samples: 50: a p99 at 95% confidence needs at least 299 samples"
    )
    assert "s3.first_byte.p99 can never pass with samples: 100" in texts[1]
    assert "(32 timed fsyncs): a p99 at 95% confidence needs at least 299 fsyncs" in texts[2]
    assert "not measured with fsync: false" in texts[3]
    assert "repeat: 3 gets a t interval" in texts[4]
    assert all(t.startswith(f"{checked.scenario.path}:") for t in texts)


def test_confidence_changes_the_minimum(tmp_path: Path, config) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(
        textwrap.dedent("""\
        target: demo
        confidence: 99%
        assumptions:
          - name: launches
            cold_start: {repeat: 5}
            expect: {cold_start.ready: < 10s}
        """)
    )
    (warning,) = validate_scenario(path, config).warnings
    assert "a median at 99% confidence needs at least 7 launches" in str(warning)


def test_the_bundled_scenarios_have_no_warnings(config) -> None:
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        assert validate_scenario(path, config).warnings == ()
