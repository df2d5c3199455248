"""Scraping a Prometheus exposition endpoint every `interval` on a daemon thread, like the
psutil sampler, into the same ProbeSeries: an exporter's own figures of its process (or GPU),
wherever it runs.

The first scrape happens in ``start()``: an endpoint that is down, answers 404, is not
Prometheus text or lacks a metric the checks need fails the assumption before any load,
naming the URL and the metric. Later failed scrapes only cost samples (and a note).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import requests
from prometheus_client.parser import text_string_to_metric_families

from infratest.measurements import MeasurementError
from infratest.probes.prom_series import build_series
from infratest.probes.sampler import JOIN_TIMEOUT_S, ProbeSeries, _next_tick
from infratest.spec.prom_names import Selector

MAX_TIMEOUT_S = 5.0
MAX_BODY_NOTE = 80


@dataclass(frozen=True)
class Reading:
    """One series' value in one scrape: the sum over the matching samples."""

    value: float
    counter: bool
    matched: int
    selector: Selector


def fetch(session: requests.Session, url: str, timeout: float) -> str:
    """The endpoint's text; MeasurementError naming the URL when it cannot be had."""
    try:
        # no redirects: the allow-list checked this URL's host, not wherever it points
        response = session.get(
            url, timeout=timeout, headers={"Accept": "text/plain"}, allow_redirects=False
        )
    except requests.RequestException as exc:
        raise MeasurementError(f"prometheus probe: cannot scrape {url}: {exc}") from None
    if response.status_code != 200:
        raise MeasurementError(
            f"prometheus probe: {url} answered {response.status_code}, not 200 "
            "(is this the exposition endpoint?)"
        )
    return response.text


def parse(text: str, url: str) -> list[tuple[str, str, dict[str, str], float]]:
    """(sample name, family type, labels, value) of every sample in exposition text."""
    try:
        return [
            (s.name, family.type, dict(s.labels), float(s.value))
            for family in text_string_to_metric_families(text)
            for s in family.samples
        ]
    except (ValueError, TypeError, IndexError) as exc:
        head = " ".join(text.split())[:MAX_BODY_NOTE]
        raise MeasurementError(
            f"prometheus probe: {url} did not answer Prometheus text ({exc}); it began: {head!r}"
        ) from None


def _is_counter(name: str, family_type: str) -> bool:
    if name.endswith("_created"):
        return False
    if family_type in ("histogram", "summary"):
        return name.endswith(("_count", "_sum"))
    return family_type == "counter" or name.endswith("_total")


def pick(
    samples: list[tuple[str, str, dict[str, str], float]],
    wanted: Mapping[str, tuple[Selector, ...]],
) -> dict[str, Reading]:
    """Each wanted series' reading: the first of its selectors with matching samples,
    summed over them (several processes, GPUs or label sets)."""
    found: dict[str, Reading] = {}
    for base, selectors in wanted.items():
        for selector in selectors:
            rows = [row for row in samples if selector.matches(row[0], row[2])]
            if rows:
                total = sum(row[3] for row in rows) * selector.scale
                counter = _is_counter(rows[0][0], rows[0][1])
                found[base] = Reading(total, counter, len(rows), selector)
                break
    return found


def missing_error(url: str, base: str, selectors: Iterable[Selector]) -> MeasurementError:
    """The error for a needed series the endpoint does not expose."""
    names = " or ".join(str(s) for s in selectors)
    return MeasurementError(
        f"prometheus probe: {url} has no {names} (for {base}); "
        f"map another metric with probe.metrics.{base}"
    )


class ScrapeSampler:
    """Scrapes one endpoint on a daemon thread; ``stop()`` returns the ProbeSeries."""

    def __init__(
        self,
        url: str,
        wanted: Mapping[str, tuple[Selector, ...]],
        required: set[str],
        interval: float,
    ) -> None:
        self.url, self._wanted, self._required = url, dict(wanted), set(required)
        self._interval = float(interval)
        self._timeout = min(max(self._interval, 1.0), MAX_TIMEOUT_S)
        self._session = requests.Session()
        self._rows: list[tuple[float, dict[str, Reading]]] = []
        self._failures: list[str] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="infratest-scrape", daemon=True)
        self._t0 = 0.0
        self._series: ProbeSeries | None = None

    process_gone_at = None

    @property
    def samples(self) -> int:
        """Scrapes recorded so far (tests poll this instead of sleeping)."""
        with self._lock:
            return len(self._rows)

    def start(self) -> ScrapeSampler:
        """Scrape once now (raising MeasurementError if that fails), then keep scraping."""
        self._t0 = time.monotonic()
        first = pick(parse(fetch(self._session, self.url, self._timeout), self.url), self._wanted)
        for base in sorted(self._required - set(first)):
            self._session.close()
            raise missing_error(self.url, base, self._wanted[base])
        self._wanted = {base: (first[base].selector,) for base in first}  # keep what was there
        self._rows.append((time.monotonic() - self._t0, first))
        self._thread.start()
        return self

    def stop(self) -> ProbeSeries:
        """Stop, join the thread (bounded), and return the series."""
        if self._series is None:
            self._stopping.set()
            if self._thread.is_alive():
                self._thread.join(timeout=JOIN_TIMEOUT_S + self._timeout)
            self._session.close()
            with self._lock:
                self._series = self._build(list(self._rows), list(self._failures))
        return self._series

    def _run(self) -> None:
        next_at = time.monotonic() + self._interval
        while not self._stopping.wait(max(next_at - time.monotonic(), 0.0)):
            self._tick()
            next_at = _next_tick(next_at, time.monotonic(), self._interval)

    def _tick(self) -> None:
        at = time.monotonic() - self._t0
        try:
            found = pick(
                parse(fetch(self._session, self.url, self._timeout), self.url), self._wanted
            )
        except MeasurementError as exc:
            with self._lock:
                self._failures.append(str(exc))
            return
        with self._lock:
            self._rows.append((at, found))

    def _build(
        self, rows: list[tuple[float, dict[str, Reading]]], failed: list[str]
    ) -> ProbeSeries:
        notes = [f"prometheus probe: scraped {self.url} {len(rows)} times"]
        if failed:
            notes.append(
                f"{len(failed)} scrape(s) of {self.url} failed and gave no sample "
                f"(first: {failed[0].removeprefix('prometheus probe: ')})"
            )
        t = np.array([at for at, _ in rows], dtype=float)
        readings, counters = {}, set()
        for base, (selector,) in self._wanted.items():
            column = [found[base].value if base in found else math.nan for _, found in rows]
            readings[base] = np.array(column, dtype=float)
            seen = [found[base] for _, found in rows if base in found]
            if len(seen) < len(rows):
                notes.append(
                    f"{base}: {selector} was missing from {len(rows) - len(seen)} scrape(s)"
                )
            if seen and seen[0].counter:
                counters.add(base)
            if seen and max(r.matched for r in seen) > 1:
                notes.append(
                    f"{base}: {max(r.matched for r in seen)} series match {selector}; summed"
                )
        return build_series(t, readings, counters, self.url, notes)
