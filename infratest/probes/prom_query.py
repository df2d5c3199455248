"""Reading a Prometheus server's ``query_range`` over the run afterwards: each mapped series
a PromQL expression, evaluated every `interval` from the probe's start to its stop (wall-clock
epoch seconds, the clock the load window is given in), then turned into the same ProbeSeries
a scrape gives.

``start()`` only checks that the server answers and each expression parses (an instant
query); whether the expressions have data is known once the run is over.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import requests

from infratest.measurements import MeasurementError
from infratest.probes.prom_series import build_series
from infratest.probes.sampler import ProbeSeries
from infratest.spec.prom_names import SCALE

TIMEOUT_S = 10.0
MAX_POINTS = 10_000  # Prometheus refuses more than 11,000 points per series


def api_get(session: requests.Session, server: str, api: str, params: dict[str, Any]) -> Any:
    """The `data` of one API call; MeasurementError naming the server and the query."""
    url = f"{server.rstrip('/')}/api/v1/{api}"
    where = f"prometheus probe: {url} (query {params['query']!r})"
    try:
        response = session.get(url, params=params, timeout=TIMEOUT_S, allow_redirects=False)
    except requests.RequestException as exc:
        raise MeasurementError(f"{where}: {exc}") from None
    try:
        body = response.json()
    except ValueError:  # requests' JSONDecodeError included
        raise MeasurementError(
            f"{where}: answered {response.status_code} without a JSON body "
            "(is this a Prometheus server?)"
        ) from None
    if not isinstance(body, dict) or body.get("status") != "success":
        error = body.get("error", body) if isinstance(body, dict) else body
        raise MeasurementError(f"{where}: {error}")
    return body.get("data", {})


def merge_matrix(result: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray, bool, int]:
    """(epoch times, summed values, counter?, series) of a range query's matrix: several
    series are summed per timestamp; a raw selector of a `_total` metric is a counter."""
    totals: dict[float, float] = {}
    counter = bool(result)
    for series in result:
        name = series.get("metric", {}).get("__name__", "")
        counter = counter and name.endswith("_total")
        scale = SCALE.get(name, 1.0)
        for ts, value in series.get("values", []):
            key = round(float(ts), 3)
            totals[key] = totals.get(key, 0.0) + float(value) * scale
    times = np.array(sorted(totals), dtype=float)
    return times, np.array([totals[t] for t in times], dtype=float), counter, len(result)


class QuerySampler:
    """Probe that reads a Prometheus server after the run; no thread."""

    def __init__(self, server: str, queries: Mapping[str, str], interval: float) -> None:
        self.server, self._queries, self._interval = server, dict(queries), float(interval)
        self._session = requests.Session()
        self._t0 = 0.0
        self._series: ProbeSeries | None = None

    process_gone_at = None
    samples = 0

    def start(self, t0_epoch: float | None = None) -> QuerySampler:
        """Note the start (epoch seconds) and check each expression with an instant query."""
        self._t0 = time.time() if t0_epoch is None else t0_epoch
        try:
            for expression in self._queries.values():
                api_get(self._session, self.server, "query", {"query": expression})
        except MeasurementError:
            self._session.close()
            raise
        return self

    def abandon(self) -> None:
        """Give up without querying (the workload failed)."""
        self._session.close()

    def stop(self) -> ProbeSeries:
        """Read every expression over the run so far; MeasurementError when one has no data."""
        if self._series is None:
            try:
                self._series = self._read(time.time())
            finally:
                self._session.close()
        return self._series

    def _read(self, end: float) -> ProbeSeries:
        step = max(self._interval, (end - self._t0) / MAX_POINTS)
        params = {"start": f"{self._t0:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"}
        columns: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        counters: set[str] = set()
        notes = [f"prometheus probe: queried {self.server} every {step:g} s over the run"]
        for base, expression in self._queries.items():
            data = api_get(
                self._session, self.server, "query_range", {"query": expression, **params}
            )
            times, values, counter, count = merge_matrix(data.get("result", []))
            if times.size == 0:
                raise MeasurementError(
                    f"prometheus probe: {self.server} has no data for {base} "
                    f"(query {expression!r}) during the run"
                )
            if counter:
                counters.add(base)
            if count > 1:
                notes.append(f"{base}: {count} series match {expression!r}; summed")
            columns[base] = (times, values)
        grid = np.array(sorted({t for times, _ in columns.values() for t in times}), dtype=float)
        readings = {
            base: _on_grid(grid, times, values) for base, (times, values) in columns.items()
        }
        return build_series(grid - self._t0, readings, counters, self.server, notes)


def _on_grid(grid: np.ndarray, times: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Values at the shared timestamps (NaN where this expression had no point)."""
    out = np.full(grid.shape, np.nan)
    out[np.searchsorted(grid, times)] = values
    return out
