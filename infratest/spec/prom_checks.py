"""Validation of a probe's Prometheus fields (``prometheus``, ``metrics``, ``query``), kept
apart from the section model so its rules read in one place."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from infratest.spec.problems import Path
from infratest.spec.prom_names import (
    BASES,
    STANDARD,
    Selector,
    base_of,
    bases_needed,
    parse_selector,
    unknown_keys,
)


def check_prometheus(spec: Any, selectors: list[str]) -> None:
    """Raise ValueError naming the field when the Prometheus fields do not fit together."""
    if spec.prometheus is None:
        given = "metrics" if spec.metrics is not None else "query"
        raise ValueError(f"{given} needs prometheus: the endpoint (or server) to read")
    if selectors or spec.target:
        chosen = ", ".join(selectors) if selectors else "target"
        raise ValueError(
            f"prometheus reads the process from its exporter: give no {chosen} beside it"
        )
    if spec.query is not None and spec.metrics is not None:
        raise ValueError("give metrics (scraping) or query (a Prometheus server), not both")
    if spec.query is not None and spec.on_target:
        raise ValueError(
            "query needs the Prometheus server's URL (http://host:9090), not a path on the target"
        )
    for field in ("metrics", "query"):
        _check_mapping(field, getattr(spec, field))


def _check_mapping(field: str, mapping: dict[str, str] | None) -> None:
    if mapping is None:
        return
    if not mapping:
        raise ValueError(f"{field} is empty: map at least one series")
    unknown = unknown_keys(mapping)
    if unknown:
        raise ValueError(
            f"{field}: unknown series {', '.join(repr(k) for k in unknown)}; "
            f"known: {', '.join(BASES)}"
        )
    for key, text in mapping.items():
        if not text.strip():
            raise ValueError(f"{field}.{key} is empty")
        if field == "metrics":
            try:
                parse_selector(text)
            except ValueError as exc:
                raise ValueError(f"metrics.{key}: {exc}") from None


def scrape_plan(
    spec: Any, expected: Iterable[str]
) -> tuple[dict[str, tuple[Selector, ...]], set[str]]:
    """What a scrape looks for (the standard names, and `metrics:` in their place) and which
    of those must be there: the mapped ones, and those the expected metrics need."""
    mapped = {k: parse_selector(v) for k, v in (spec.metrics or {}).items()}
    wanted = {base: tuple(Selector(name) for name in names) for base, names in STANDARD.items()}
    wanted.update({base: (selector,) for base, selector in mapped.items()})
    return wanted, set(mapped) | (bases_needed(expected) & set(wanted))


def prometheus_findings(
    spec: Any, expected: Iterable[str], base: Path
) -> Iterator[tuple[Path, str]]:
    """Expected metrics a Prometheus probe cannot read: no standard exporter name and no
    `metrics:` entry, or (querying a server) no `query:` entry."""
    if spec is None or spec.prometheus is None:
        return
    field = "query" if spec.query is not None else "metrics"
    readable = set(spec.query) if spec.query is not None else set(scrape_plan(spec, ())[0])
    for metric in expected:
        series = base_of(metric)
        if series is not None and series not in readable:
            how = "no standard exporter name; " if field == "metrics" else ""
            yield (
                (*base, "expect", metric),
                f"the prometheus probe reads no {series} ({how}"
                f"map one with probe.{field}: {{{series}: ...}})",
            )
