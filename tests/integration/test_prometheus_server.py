"""A probe that queries a real Prometheus server's query_range over a load's window: the
server scrapes a behaviour server every second, and what the probe reads back must agree
with a direct scrape of the same process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from infratest.measurements import MeasurementError
from infratest.probes.prom_query import QuerySampler
from infratest.spec.prom_names import MIB
from infratest.verdict import Verdict
from tests.support.assumptions import behaviour_config, run_assumption
from tests.support.prometheus_server import prometheus, wait_for_sample
from tests.support.servers import RunningServer, start_server

pytestmark = [pytest.mark.load, pytest.mark.usefixtures("no_leftover_processes")]

RSS = 'process_resident_memory_bytes{job="svc"}'
CPU = 'process_cpu_seconds_total{job="svc"}'


def scraped_rss(server: RunningServer) -> float:
    text = requests.get(f"{server.url}/metrics", timeout=5).text
    return next(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "process_resident_memory_bytes"
    )


@pytest.fixture(scope="module")
def scraped() -> Iterator[tuple[RunningServer, str]]:
    """A ballasted behaviour server and a Prometheus that has scraped it at least once."""
    with (
        start_server(["--metrics", "--ballast-mib", "100"]) as server,
        prometheus({"svc": f"{server.host}:{server.port}"}) as url,
    ):
        wait_for_sample(url, RSS)  # before any load: the window must have data in it
        yield server, url


def test_query_range_over_the_load_window_agrees_with_a_direct_scrape(
    tmp_path: Path, scraped: tuple[RunningServer, str]
) -> None:
    server, url = scraped
    result = run_assumption(
        tmp_path,
        behaviour_config(tmp_path, url=server.url),
        f"""\
        load: {{users: 2, duration: 3s, wait: 10ms, requests: [GET /x]}}
        probe:
          prometheus: {url}
          interval: 1s
          query: {{process.rss: '{RSS}', process.cpu: '{CPU}'}}
        expect: {{process.rss.peak: < 1GiB}}
        """,
    )
    direct = scraped_rss(server)
    assert result.outcome.verdict == Verdict.PASS, result.outcome.reason
    peak = result.measurements.values["process.rss.peak"].value
    assert abs(peak - direct) <= 0.10 * direct, (peak, direct)
    assert peak >= 100 * MIB
    probe = result.measurements.series["probe"]
    assert probe["source"] == url and len(probe["t"]) >= 3
    cpu = np.array([np.nan if v is None else v for v in probe["cpu"]], dtype=float)
    assert np.isfinite(cpu).any() and np.nanmin(cpu) >= 0  # a counter read back as a rate
    assert "process.cpu.mean" in result.measurements.values


def test_bad_promql_and_a_query_without_data_are_errors_naming_them(
    scraped: tuple[RunningServer, str],
) -> None:
    _, url = scraped
    with pytest.raises(MeasurementError, match=r"/api/v1/query \(query 'rate\(x\['\)"):
        QuerySampler(url, {"process.rss": "rate(x["}, 1.0).start()
    empty = QuerySampler(url, {"process.rss": 'no_such_metric{job="svc"}'}, 1.0).start()
    with pytest.raises(MeasurementError, match=f"{url} has no data for process.rss"):
        empty.stop()
