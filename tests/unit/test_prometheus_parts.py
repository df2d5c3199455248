"""The pure parts of the Prometheus probes: selectors, counters as rates, unit conversion,
summing series, and the series they make going through the same figures as psutil's."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from infratest.probes import probe_measurements
from infratest.probes.prom_query import merge_matrix
from infratest.probes.prom_scrape import parse, pick
from infratest.probes.prom_series import build_series, counter_rate
from infratest.spec.prom_checks import scrape_plan
from infratest.spec.prom_names import MIB, Selector, bases_needed, parse_selector
from infratest.spec.resource_sections import ProbeSpec

# --------------------------------------------------------------------------- selectors


def test_selector_with_labels() -> None:
    selector = parse_selector(' nv_gpu_memory_used_bytes{ gpu_uuid="GPU-1", model = "a\\"b" } ')
    assert selector == Selector("nv_gpu_memory_used_bytes", {"gpu_uuid": "GPU-1", "model": 'a"b'})
    assert selector.matches("nv_gpu_memory_used_bytes", {"gpu_uuid": "GPU-1", "model": 'a"b'})
    assert not selector.matches("nv_gpu_memory_used_bytes", {"gpu_uuid": "GPU-2", "model": 'a"b'})
    assert not selector.matches("other", {"gpu_uuid": "GPU-1", "model": 'a"b'})


@pytest.mark.parametrize(
    "text", ["rate(x_total[1m])", "x{a=b}", 'x{a="b" c="d"}', "", "1x", 'x{a="b"} + y']
)
def test_anything_but_a_selector_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"selector|labels"):
        parse_selector(text)


_FIRST = "abcxyzABCXYZ_:"
_REST = _FIRST + "0123456789"
NAMES = st.builds(str.__add__, st.sampled_from(_FIRST), st.text(_REST, max_size=20))
_LABEL = _REST.replace(":", "")
LABEL_NAMES = st.builds(str.__add__, st.sampled_from(_FIRST[:-1]), st.text(_LABEL, max_size=8))
LABELS = st.dictionaries(LABEL_NAMES, st.text("ab ,={}=é/-", max_size=8), max_size=3)


@given(NAMES, LABELS)
def test_a_selector_reads_back_as_written(name: str, labels: dict[str, str]) -> None:
    selector = Selector(name, labels)
    assert parse_selector(str(selector)) == selector


def test_expected_metrics_name_their_series() -> None:
    needed = bases_needed(["process.rss.growth", "process.cpu.peak", "latency.p99"])
    assert needed == {"process.rss", "process.cpu"}
    assert bases_needed(["gpu.memory.used.peak", "process.rss.per_request"]) == {
        "gpu.memory.used",
        "process.rss",
    }


def test_scrape_plan_requires_what_is_mapped_or_expected() -> None:
    spec = ProbeSpec(prometheus="/metrics", metrics={"process.rss": 'my_rss{pod="a"}'})
    wanted, required = scrape_plan(spec, ["process.cpu.mean"])
    assert wanted["process.rss"] == (Selector("my_rss", {"pod": "a"}),)
    assert wanted["process.cpu"] == (Selector("process_cpu_seconds_total"),)
    assert required == {"process.rss", "process.cpu"}


# --------------------------------------------------------------------------- counters


def test_counter_rate_per_second_with_a_reset() -> None:
    t = np.array([0.0, 0.5, 1.0, 2.0])
    rate = counter_rate(t, np.array([10.0, 11.0, 2.0, 4.0]))  # restarted between 0.5 and 1
    assert math.isnan(rate[0])
    assert rate[1:].tolist() == [2.0, 4.0, 2.0]


@given(
    st.lists(st.floats(0.01, 10), min_size=1, max_size=30),
    st.lists(st.floats(0, 1e6), min_size=1, max_size=30),
)
def test_rates_add_up_to_the_counters_increase(gaps: list[float], rises: list[float]) -> None:
    n = min(len(gaps), len(rises))
    t = np.concatenate([[0.0], np.cumsum(gaps[:n])])
    values = np.concatenate([[5.0], 5.0 + np.cumsum(rises[:n])])
    rate = counter_rate(t, values)
    assert float(np.sum(rate[1:] * np.diff(t))) == pytest.approx(values[-1] - values[0], rel=1e-9)


# --------------------------------------------------------------------------- readings

TEXT = """\
# TYPE DCGM_FI_DEV_FB_USED gauge
DCGM_FI_DEV_FB_USED{gpu="0",Hostname="a"} 1000
DCGM_FI_DEV_FB_USED{gpu="1",Hostname="a"} 24
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 12.5
# TYPE requests counter
requests_total 7
requests_created 1.7e9
"""


def test_dcgm_mib_are_summed_into_bytes_and_counters_are_known() -> None:
    samples = parse(TEXT, "http://x/metrics")
    wanted = {
        "gpu.memory.used": (Selector("nv_gpu_memory_used_bytes"), Selector("DCGM_FI_DEV_FB_USED")),
        "process.cpu": (Selector("process_cpu_seconds_total"),),
        "process.rss": (Selector("process_resident_memory_bytes"),),
    }
    found = pick(samples, wanted)
    assert set(found) == {"gpu.memory.used", "process.cpu"}  # absent ones are left out
    gpu = found["gpu.memory.used"]
    assert (gpu.value, gpu.matched, gpu.counter) == (1024 * MIB, 2, False)
    assert found["process.cpu"].counter and found["process.cpu"].value == 12.5
    only_gpu0 = pick(samples, {"g": (Selector("DCGM_FI_DEV_FB_USED", {"gpu": "0"}),)})
    assert only_gpu0["g"].value == 1000 * MIB
    created = pick(samples, {"c": (Selector("requests_created"),)})
    assert not created["c"].counter  # a counter's creation time is no counter


def test_a_query_matrix_is_summed_per_timestamp_and_scaled() -> None:
    result = [
        {
            "metric": {"__name__": "DCGM_FI_DEV_FB_USED", "gpu": "0"},
            "values": [[10, "1"], [11, "2"]],
        },
        {"metric": {"__name__": "DCGM_FI_DEV_FB_USED", "gpu": "1"}, "values": [[11, "3"]]},
    ]
    times, values, counter, count = merge_matrix(result)
    assert times.tolist() == [10.0, 11.0] and values.tolist() == [MIB, 5 * MIB]
    assert (counter, count) == (False, 2)
    raw = [{"metric": {"__name__": "process_cpu_seconds_total"}, "values": [[1, "1"]]}]
    assert merge_matrix(raw)[2]  # a raw _total selector is a counter, read as a rate
    assert not merge_matrix([{"metric": {}, "values": [[1, "0.5"]]}])[2]  # rate(...) is not


def test_a_prometheus_series_gives_the_psutil_figures_and_gpu_but_no_host() -> None:
    t = np.arange(0.0, 8.0, 0.5)
    series = build_series(
        t,
        {
            "process.rss": 100 * MIB + 1e6 * t,  # 1 MB/s
            "process.cpu": 0.5 * t,  # 0.5 cores
            "gpu.memory.used": np.full(t.shape, 3e9),
        },
        {"process.cpu"},
        "http://x/metrics",
        [],
    )
    measured = probe_measurements(series, 0.95)
    values = measured.values
    assert values["process.rss.growth"].value == pytest.approx(1e6)
    assert values["process.rss.peak"].value == pytest.approx(100 * MIB + 7.5e6)
    assert values["process.cpu.mean"].value == pytest.approx(0.5)
    assert values["gpu.memory.used.peak"].value == 3e9
    assert not any(name.startswith(("host.", "process.fds", "process.threads")) for name in values)
    assert series.to_json()["gpu_memory_used"][0] == 3e9
    assert series.until(2.0).extra["gpu_memory_used"].size == 5
