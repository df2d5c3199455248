"""A real Prometheus server (Debian's /usr/bin/prometheus) on a loopback port, scraping the
given targets every second, started for one test and always killed after it."""

from __future__ import annotations

import contextlib
import json
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import requests

from infratest.hosts import free_port

PROMETHEUS = "/usr/bin/prometheus"
READY_TIMEOUT_S = 60.0


def _config(jobs: dict[str, str]) -> str:
    """Prometheus's YAML config (as JSON, which is YAML): one job per host:port."""
    scrape = [
        {"job_name": job, "scrape_interval": "1s", "static_configs": [{"targets": [address]}]}
        for job, address in jobs.items()
    ]
    return json.dumps({"global": {"scrape_interval": "1s"}, "scrape_configs": scrape})


def wait_for(ok: Callable[[], bool], timeout: float, what: str, log: Path | None = None) -> None:
    """Poll `ok()` until true, with a deadline; the server's log in the failure."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException, ValueError, KeyError):
            if ok():
                return
        time.sleep(0.1)  # poll interval, not a readiness guess
    tail = log.read_text()[-3000:] if log is not None else ""
    raise AssertionError(f"{what} not within {timeout:g} s; log:\n{tail}")


@contextlib.contextmanager
def prometheus(jobs: dict[str, str]) -> Iterator[str]:
    """Run Prometheus scraping `jobs` (job -> host:port); yields its URL once ready."""
    with tempfile.TemporaryDirectory(prefix="infratest-prom-") as folder:
        root = Path(folder)
        (root / "prometheus.yml").write_text(_config(jobs))
        port = free_port()
        log = root / "log.txt"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [
                    PROMETHEUS,
                    f"--config.file={root / 'prometheus.yml'}",
                    f"--storage.tsdb.path={root / 'data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                ],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
            )
        url = f"http://127.0.0.1:{port}"
        try:
            ready = f"{url}/-/ready"
            wait_for(lambda: requests.get(ready, timeout=2).ok, READY_TIMEOUT_S, "ready", log)
            yield url
        finally:
            proc.kill()
            proc.wait(timeout=10)


def wait_for_sample(url: str, query: str, timeout: float = 30.0) -> None:
    """Until Prometheus has at least one sample of `query` (it scrapes every second)."""

    def has_data() -> bool:
        answer = requests.get(f"{url}/api/v1/query", params={"query": query}, timeout=2)
        return bool(answer.json()["data"]["result"])

    wait_for(has_data, timeout, f"a sample of {query}")
