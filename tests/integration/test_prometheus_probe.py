"""Prometheus scrape probes against real loopback servers: the behaviour server's own
exporter (its ballast is the ground truth, psutil the referee), and a server whose answers
the test sets (404, garbage, a missing metric, failing scrapes mid-run)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import psutil
import pytest

from infratest.execution import Runner
from infratest.measurements import MeasurementError
from infratest.probes import probe_measurements
from infratest.probes.prom_query import QuerySampler
from infratest.probes.prom_scrape import ScrapeSampler
from infratest.spec.prom_names import MIB, Selector
from infratest.verdict import Verdict
from tests.support.assumptions import behaviour_config, run_assumption
from tests.support.exposition_server import ExpositionServer

pytestmark = pytest.mark.usefixtures("no_leftover_processes")

GOOD = """\
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 1.5e8
# TYPE DCGM_FI_DEV_FB_USED gauge
DCGM_FI_DEV_FB_USED{gpu="0"} 100
DCGM_FI_DEV_FB_USED{gpu="1"} 50
"""


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `condition` with a deadline."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)  # poll interval


def test_scraped_rss_of_a_ballasted_server_matches_psutil(tmp_path: Path) -> None:
    config = behaviour_config(tmp_path, "--metrics", "--ballast-mib", "200")
    runner = Runner(config)
    try:
        result = run_assumption(
            tmp_path,
            config,
            """\
            observe: {duration: 1.5s}
            probe: {prometheus: /metrics, interval: 100ms}
            expect: {process.rss.peak: < 1GiB, process.fds.peak: < 1000, process.cpu.mean: < 2}
            """,
            runner=runner,
        )
        target = runner.pool.get("svc")
        assert target.process is not None
        psutil_rss = psutil.Process(target.process.pid).memory_info().rss
    finally:
        runner.close()
    assert result.outcome.verdict == Verdict.PASS, result.outcome.reason
    values = result.measurements.values
    assert abs(values["process.rss.peak"].value - psutil_rss) <= 0.10 * psutil_rss
    assert values["process.rss.peak"].value >= 200 * MIB
    assert values["process.rss.peak"].n >= 3  # scraped all along (about 15 times)
    assert not any(name.startswith("host.") for name in values)  # not this machine's
    probe = result.measurements.series["probe"]
    assert probe["source"].endswith("/metrics") and probe["pid"] is None


@pytest.mark.parametrize(
    ("status", "body", "expect", "said"),
    [
        (404, "not found", "process.rss.peak: < 1GiB", "answered 404"),
        (302, GOOD, "process.rss.peak: < 1GiB", "answered 302"),  # never followed elsewhere
        (200, "<html><body>login</body></html>", "process.rss.peak: < 1GiB", "Prometheus text"),
        (200, "up 1\n", "process.rss.peak: < 1GiB", "has no process_resident_memory_bytes"),
        (200, GOOD, "process.fds.peak: < 100", "has no process_open_fds"),
    ],
)
def test_a_bad_endpoint_is_an_error_verdict_naming_it(
    tmp_path: Path, status: int, body: str, expect: str, said: str
) -> None:
    with ExpositionServer(body, status) as server:
        config = behaviour_config(tmp_path, url=server.url)
        result = run_assumption(
            tmp_path,
            config,
            f"""\
            observe: {{duration: 0.2s}}
            probe: {{prometheus: /metrics}}
            expect: {{{expect}}}
            """,
        )
    assert result.outcome.verdict == Verdict.ERROR
    assert f"{server.url}/metrics" in result.outcome.reason
    assert said in result.outcome.reason
    assert not result.measurements.values  # never a zero standing in for a reading


def test_gpus_are_summed_and_dcgm_mib_become_bytes() -> None:
    with ExpositionServer(GOOD) as server:
        wanted = {"gpu.memory.used": (Selector("DCGM_FI_DEV_FB_USED"),)}
        sampler = ScrapeSampler(server.url, wanted, {"gpu.memory.used"}, 0.05).start()
        wait_until(lambda: sampler.samples >= 3, 10, "scrapes")
        series = sampler.stop()
    measured = probe_measurements(series, 0.95)
    assert measured.values["gpu.memory.used.peak"].value == 150 * MIB
    assert "gpu.memory.used: 2 series match DCGM_FI_DEV_FB_USED; summed" in measured.notes


def test_scrapes_failing_mid_run_cost_samples_not_the_run() -> None:
    with ExpositionServer(GOOD) as server:
        wanted = {"process.rss": (Selector("process_resident_memory_bytes"),)}
        sampler = ScrapeSampler(server.url, wanted, {"process.rss"}, 0.05).start()
        wait_until(lambda: sampler.samples >= 2, 10, "scrapes")
        server.set(status=503)
        failing_from = server.hits
        wait_until(lambda: server.hits >= failing_from + 3, 10, "failed scrapes")
        server.set(body="up 1\n", status=200)  # answers, but without the metric
        before = sampler.samples
        wait_until(lambda: sampler.samples >= before + 2, 10, "scrapes without the metric")
        server.set(body=GOOD)
        before = sampler.samples
        wait_until(lambda: sampler.samples >= before + 2, 10, "scrapes again")
        series = sampler.stop()
    assert series.t.size == sampler.samples
    assert series.t.size < server.hits  # the failed scrapes left no rows
    failed = [n for n in series.notes if "failed and gave no sample" in n]
    assert failed and "answered 503" in failed[0], series.notes
    finite = series.rss[np.isfinite(series.rss)]
    assert set(finite.tolist()) == {1.5e8}  # never a zero for a missing reading
    missing = series.rss.size - finite.size
    assert missing >= 2, series.rss
    assert f"process.rss: process_resident_memory_bytes was missing from {missing} scrape(s)" in (
        series.notes
    )


def test_an_endpoint_down_at_start_raises_naming_it() -> None:
    with ExpositionServer(GOOD) as server:
        url = server.url
    wanted = {"process.rss": (Selector("process_resident_memory_bytes"),)}
    with pytest.raises(MeasurementError, match=f"cannot scrape {url}"):
        ScrapeSampler(url, wanted, {"process.rss"}, 0.1).start()


def test_a_query_probe_on_something_not_prometheus_raises_naming_it() -> None:
    with ExpositionServer(GOOD) as server, pytest.raises(MeasurementError, match="JSON body"):
        QuerySampler(server.url, {"process.rss": "up"}, 1.0).start()
