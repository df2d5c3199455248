"""Plots for the reports, drawn only from the results document: a report rendered later, on
another machine, must show exactly what the run measured. Each function takes one assumption
entry and returns PNG bytes, or None when its data is missing (series are optional and may be
partial, so every key is read defensively). ``Figure`` is used directly, not pyplot: no global
state, no GUI backend, safe in threads and CI."""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from infratest.units import Dimension, QuantityError, format_quantity, parse_condition

Entry = dict[str, Any]
PlotFunction = Callable[[Entry], bytes | None]

PERCENTILE_STYLE = (("p50", "#4c72b0"), ("p95", "#dd8452"), ("p99", "#c44e52"))
STEP_KEYS = {
    "latency.p50": "p50",
    "latency.p95": "p95",
    "latency.p99": "p99",
    "errors.rate": "errors_rate",
    "throughput": "throughput",
}
GREY = "#7f7f7f"


def number(value: Any) -> float:
    """A finite-or-nan float from a JSON value (null, strings and booleans become nan)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    return float(value)


def _column(rows: Sequence[Any], key: str, scale: float = 1.0) -> np.ndarray:
    values = [number(row.get(key)) if isinstance(row, dict) else math.nan for row in rows]
    return np.asarray(values, dtype=float) * scale


def _array(values: Any, scale: float = 1.0) -> np.ndarray:
    items = values if isinstance(values, list) else []
    return np.asarray([number(v) for v in items], dtype=float) * scale


def metric_value(entry: Entry, name: str) -> float:
    """A metric's point value from the document, nan when it was not measured."""
    found = (entry.get("metrics") or {}).get(name)
    return number(found.get("value")) if isinstance(found, dict) else math.nan


def _any(values: np.ndarray) -> bool:
    return bool(np.isfinite(values).any())


def series(entry: Entry, name: str) -> dict[str, Any]:
    """One named series of an assumption, or {} when absent or malformed."""
    table = entry.get("series")
    found = table.get(name) if isinstance(table, dict) else None
    return found if isinstance(found, dict) else {}


def _rows(value: Any) -> list[dict[str, Any]]:
    return [row for row in value if isinstance(row, dict)] if isinstance(value, list) else []


def new_figure(title: str) -> tuple[Figure, Axes]:
    """One titled, gridded plot of the reports' size."""
    fig = Figure(figsize=(7.5, 3.4), dpi=100, layout="constrained")
    ax = fig.subplots()
    ax.set_title(title, fontsize=11)
    ax.grid(True, alpha=0.3)
    return fig, ax


def png_bytes(fig: Figure) -> bytes:
    """The figure as PNG."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def legend(ax: Axes, *others: Axes) -> None:
    """One legend for an axis and its twins, when anything is labelled."""
    handles, labels = ax.get_legend_handles_labels()
    for other in others:
        more = other.get_legend_handles_labels()
        handles, labels = handles + more[0], labels + more[1]
    if handles:
        ax.legend(handles, labels, fontsize=8, loc="best")


def latency_over_time(entry: Entry) -> bytes | None:
    """p50/p95/p99 per second with the users line: shows warm-up effects and stalls."""
    rows = _rows(series(entry, "load").get("per_second"))
    columns = {key: _column(rows, key, 1e3) for key, _ in PERCENTILE_STYLE}
    if not any(_any(values) for values in columns.values()):
        return None
    t = _column(rows, "t")
    fig, ax = new_figure("Latency per second")
    for key, color in PERCENTILE_STYLE:
        ax.plot(t, columns[key], color=color, label=key, linewidth=1.4)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("latency (ms)")
    ax.set_ylim(bottom=0)
    users = _column(rows, "users")
    if _any(users):
        twin = ax.twinx()
        twin.step(t, users, where="post", color=GREY, linestyle="--", label="users")
        twin.set_ylabel("users")
        twin.set_ylim(bottom=0)
        legend(ax, twin)
    else:
        legend(ax)
    return png_bytes(fig)


@dataclass(frozen=True)
class StepAxis:
    """What a sweep's or capacity search's steps stepped over: users, or arrival rate."""

    key: str  # the rows' key: "users" or "rate"
    title: str

    def text(self, amount: float) -> str:
        """`8 users` or `50/s`."""
        if self.key == "rate":
            return format_quantity(amount, Dimension.RATE)
        return f"{amount:g} users"


USERS_AXIS = StepAxis("users", "users")
RATE_AXIS = StepAxis("rate", "offered rate (1/s)")


def step_axis(steps: Sequence[dict[str, Any]]) -> StepAxis:
    """Rate when the rows carry one (an open-model sweep or search), else users."""
    return RATE_AXIS if any("rate" in s for s in steps) else USERS_AXIS


def load_steps(entry: Entry) -> tuple[str, list[dict[str, Any]]]:
    """The steps of a capacity search or a sweep (capacity first), sorted by users or rate."""
    for name in ("capacity", "sweep"):
        steps = _rows(series(entry, name).get("steps"))
        if steps:
            key = step_axis(steps).key
            return name, sorted(steps, key=lambda s: number(s.get(key)))
    return "", []


def slo_bound(entry: Entry, metric: str) -> float | None:
    """The SLO bound on `metric` (SI): the capacity search's SLO, else the assumption's check."""
    slo = series(entry, "capacity").get("slo")
    text = slo.get(metric) if isinstance(slo, dict) else None
    if isinstance(text, str):
        try:
            return parse_condition(text).bound
        except QuantityError:
            pass
    for check in _rows(entry.get("checks")):
        if check.get("metric") == metric and math.isfinite(number(check.get("bound"))):
            return float(check["bound"])
    return None


def _mark_slo(ax: Axes, steps: list[dict[str, Any]], x: np.ndarray, y: np.ndarray) -> None:
    meets = [s.get("meets_slo") for s in steps]
    for flag, color, label in ((True, "#2ca02c", "meets SLO"), (False, "#d62728", "misses SLO")):
        mask = np.array([m is flag for m in meets])
        if mask.any():
            ax.scatter(x[mask], y[mask], color=color, zorder=3, label=label, s=30)


def latency_vs_load(entry: Entry) -> bytes | None:
    """Latency against users (or offered rate) per step: where the knee is, and where the SLO
    bound cuts it."""
    kind, steps = load_steps(entry)
    columns = {key: _column(steps, key, 1e3) for key, _ in PERCENTILE_STYLE}
    if not _any(columns["p95"]):
        return None
    axis = step_axis(steps)
    users = _column(steps, axis.key)
    fig, ax = new_figure(f"Latency against load ({kind})")
    for key, color in PERCENTILE_STYLE:
        if _any(columns[key]):
            ax.plot(users, columns[key], marker="o", color=color, label=key, markersize=3)
    _mark_slo(ax, steps, users, columns["p95"])
    bound = slo_bound(entry, "latency.p95")
    if bound is not None:
        label = f"SLO p95 {format_quantity(bound, Dimension.DURATION)}"
        ax.axhline(bound * 1e3, color="#d62728", linestyle=":", label=label)
    ax.set_xlabel(axis.title)
    ax.set_ylabel("latency (ms)")
    ax.set_ylim(bottom=0)
    legend(ax)
    return png_bytes(fig)


def usl_curve(usl: Any, users: np.ndarray) -> np.ndarray | None:
    """X(N) = lam*N / (1 + sigma*(N-1) + kappa*N*(N-1)), when the fit is usable."""
    if not isinstance(usl, dict) or not usl.get("ok"):
        return None
    lam, sigma, kappa = (number(usl.get(k)) for k in ("lam", "sigma", "kappa"))
    if not all(math.isfinite(v) for v in (lam, sigma, kappa)):
        return None
    return lam * users / (1 + sigma * (users - 1) + kappa * users * (users - 1))


def capacity_level(entry: Entry) -> float | None:
    """The largest load meeting the SLO (users, or req/s for a rate search): the metric, else
    the largest step that met it."""
    _, steps = load_steps(entry)
    axis = step_axis(steps)
    value = metric_value(entry, "capacity.rate" if axis is RATE_AXIS else "capacity.users")
    if math.isfinite(value):
        return value
    met = [number(s.get(axis.key)) for s in steps if s.get("meets_slo") is True]
    met = [u for u in met if math.isfinite(u)]
    return max(met) if met else None


def _error_bars(steps: list[dict[str, Any]], y: np.ndarray) -> np.ndarray:
    low, high = _column(steps, "throughput_low"), _column(steps, "throughput_high")
    below = np.where(np.isfinite(low), y - low, 0.0)
    above = np.where(np.isfinite(high), high - y, 0.0)
    return np.clip(np.vstack([below, above]), 0.0, None)


def throughput_vs_load(entry: Entry) -> bytes | None:
    """Throughput per step with its interval, the USL fit (user steps), and the capacity
    under the SLO."""
    kind, steps = load_steps(entry)
    axis = step_axis(steps)
    users, y = _column(steps, axis.key), _column(steps, "throughput")
    if not _any(y):
        return None
    fig, ax = new_figure(f"Throughput against {axis.title} ({kind})")
    ax.errorbar(users, y, yerr=_error_bars(steps, y), fmt="o", capsize=3, label="measured")
    _mark_slo(ax, steps, users, y)
    usl = series(entry, "sweep").get("usl")
    grid = np.linspace(1.0, max(2.0, float(np.nanmax(users)) * 1.15), 200)
    curve = usl_curve(usl, grid) if axis is USERS_AXIS else None
    if curve is not None:
        ax.plot(grid, curve, color="#8172b2", label="USL fit")
    limit = capacity_level(entry) if kind == "capacity" else None
    if limit is not None:
        ax.axvline(limit, color="#2ca02c", linestyle="--", label=f"capacity {axis.text(limit)}")
    ax.set_xlabel(axis.title)
    ax.set_ylabel("throughput (1/s)")
    ax.set_ylim(bottom=0)
    legend(ax)
    return png_bytes(fig)


def _steady(probe: dict[str, Any], t: np.ndarray) -> np.ndarray:
    """Samples after the probe's warm-up (all of them when the document does not say)."""
    warmup = number(probe.get("warmup_s"))
    return t >= warmup if math.isfinite(warmup) else np.isfinite(t)


def _shade_warmup(ax: Axes, probe: dict[str, Any], t: np.ndarray) -> None:
    warmup = number(probe.get("warmup_s"))
    if math.isfinite(warmup) and warmup > 0 and _any(t):
        ax.axvspan(float(np.nanmin(t)), warmup, color=GREY, alpha=0.12, label="warm-up")


def _growth_line(entry: Entry, steady: np.ndarray, t: np.ndarray, rss: np.ndarray) -> Any:
    """The fitted slope over the steady window, offset by least squares for that slope (the
    document keeps the slope, not the intercept)."""
    slope = metric_value(entry, "process.rss.growth")
    ok = steady & np.isfinite(t) & np.isfinite(rss)
    if not math.isfinite(slope) or not ok.any():
        return None
    offset = float(np.mean(rss[ok] - slope * t[ok]))
    return t[ok], offset + slope * t[ok]


def rss_over_time(entry: Entry) -> bytes | None:
    """Resident memory of the probed process tree, with the growth fit: a leak is a slope."""
    probe = series(entry, "probe")
    t, rss = _array(probe.get("t")), _array(probe.get("rss"))
    if t.size == 0 or t.size != rss.size or not _any(rss):
        return None
    fig, ax = new_figure("Resident memory (RSS)")
    _shade_warmup(ax, probe, t)
    ax.plot(t, rss / 1e6, color="#4c72b0", label="RSS", linewidth=1.2)
    line = _growth_line(entry, _steady(probe, t), t, rss)
    if line is not None:
        slope = metric_value(entry, "process.rss.growth")
        label = f"growth fit {format_quantity(slope, Dimension.BYTE_RATE)}"
        ax.plot(line[0], line[1] / 1e6, color="#c44e52", linestyle="--", label=label)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("RSS (MB)")
    legend(ax)
    return png_bytes(fig)


def _probe_column(probe: dict[str, Any], key: str, size: int) -> np.ndarray | None:
    values = _array(probe.get(key))
    return values if values.size == size and _any(values) else None


def cpu_over_time(entry: Entry) -> bytes | None:
    """CPU of the probed processes (100% = one core) and of the whole host."""
    probe = series(entry, "probe")
    t = _array(probe.get("t"))
    process = _probe_column(probe, "cpu", t.size)
    host = _probe_column(probe, "host_cpu", t.size)
    if t.size == 0 or (process is None and host is None):
        return None
    fig, ax = new_figure("CPU")
    _shade_warmup(ax, probe, t)
    if process is not None:
        ax.plot(t, process * 100, color="#dd8452", label="process (% of one core)")
    if host is not None:
        ax.plot(t, host * 100, color=GREY, linestyle="--", label="host (% of all cores)")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("CPU (%)")
    ax.set_ylim(bottom=0)
    legend(ax)
    return png_bytes(fig)


COLD_PHASES = (
    ("port_open_s", "port open", "#4c72b0"),
    ("ready_s", "ready", "#dd8452"),
    ("first_response_s", "first response", "#55a868"),
)


def cold_start_phases(entry: Entry) -> bytes | None:
    """Per launch, time to port open, readiness and first answer: which phase is slow."""
    runs = _rows(series(entry, "cold_start").get("runs"))
    columns = [_column(runs, key) for key, _, _ in COLD_PHASES]
    if not any(_any(c) for c in columns):
        return None
    fig, ax = new_figure("Cold start phases (from launch)")
    x, width = np.arange(len(runs)), 0.8 / len(COLD_PHASES)
    for i, ((_, label, color), values) in enumerate(zip(COLD_PHASES, columns, strict=True)):
        ax.bar(x + (i - 1) * width, np.nan_to_num(values), width, label=label, color=color)
    ax.set_xticks(x, [f"run {i + 1}" for i in x])
    ax.set_ylabel("seconds since launch")
    legend(ax)
    return png_bytes(fig)


SAMPLE_UNITS = (("_s", 1e3, "ms"), ("_Bps", 1e-6, "MB/s"))


def _sample_lists(entry: Entry) -> list[tuple[str, np.ndarray, str]]:
    found = []
    for name in ("disk", "s3", "network"):
        for key, values in series(entry, name).items():
            for suffix, scale, unit in SAMPLE_UNITS:
                if key.endswith(suffix) and isinstance(values, list):
                    data = _array(values, scale)
                    data = data[np.isfinite(data)]
                    if data.size:
                        label = key.removesuffix(suffix).replace("_", " ")
                        found.append((f"{name}: {label}", data, unit))
    return found[:3]


def sample_histograms(entry: Entry) -> bytes | None:
    """Distributions of disk, S3 and network samples (durations in ms, byte rates in MB/s)."""
    found = _sample_lists(entry)
    if not found:
        return None
    fig = Figure(figsize=(7.5, 3.0), dpi=100, layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(found)))
    for ax, (label, data, unit) in zip(axes, found, strict=True):
        ax.hist(data, bins=min(30, max(5, data.size // 3)), color="#4c72b0")
        ax.set_title(label, fontsize=9)
        ax.set_xlabel(unit)
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel("samples")
    return png_bytes(fig)


PLOTS: tuple[tuple[str, PlotFunction], ...] = (
    ("Latency per second", latency_over_time),
    ("Latency against load", latency_vs_load),
    ("Throughput against load", throughput_vs_load),
    ("Resident memory", rss_over_time),
    ("CPU", cpu_over_time),
    ("Cold start phases", cold_start_phases),
    ("Sample distributions", sample_histograms),
)


def plots_for(entry: Entry) -> list[tuple[str, bytes]]:
    """Every plot an assumption has data for, titled, in a fixed order."""
    drawn = ((title, draw(entry)) for title, draw in PLOTS)
    return [(title, png) for title, png in drawn if png is not None]
