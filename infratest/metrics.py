"""The metric catalogue: every name an `expect` may use, its dimension, and which workloads
produce it. Validation, verdicts and reports all read this one table."""

from __future__ import annotations

from dataclasses import dataclass

from infratest.units import Dimension

WORKLOADS = (
    "load",
    "replay",
    "llm",
    "observe",
    "sweep",
    "capacity",
    "cold_start",
    "disk",
    "s3",
    "network",
    "fuzz",
)
# Workloads that are a load run (the same recorder, metrics and verdicts), whatever they send.
LOAD_LIKE = ("load", "replay", "llm")

D = Dimension


@dataclass(frozen=True)
class Metric:
    """One measurable figure."""

    name: str
    dimension: Dimension
    source: str  # a workload name, "probe" (any workload with a probe), or "network:<kind>"
    help: str


_LOAD = [
    ("latency.p50", D.DURATION, "median response time"),
    ("latency.p90", D.DURATION, "90th percentile response time"),
    ("latency.p95", D.DURATION, "95th percentile response time"),
    ("latency.p99", D.DURATION, "99th percentile response time"),
    ("latency.p999", D.DURATION, "99.9th percentile response time"),
    ("latency.max", D.DURATION, "slowest response"),
    ("latency.mean", D.DURATION, "mean response time"),
    ("throughput", D.RATE, "successful requests per second"),
    ("errors.rate", D.RATIO, "failed requests / all requests"),
    ("errors.count", D.COUNT, "failed requests"),
    ("requests", D.COUNT, "requests sent in the measured window"),
    ("generator.cpu.peak", D.CORES, "the load generator's own CPU (cores)"),
    ("requests.rate", D.RATE, "requests actually sent per second in the measured window"),
    ("arrival.lag.p50", D.DURATION, "rate mode: median lateness of the arrival scheduler"),
    ("arrival.lag.p99", D.DURATION, "rate mode: 99th percentile lateness of the scheduler"),
    ("arrival.lag.max", D.DURATION, "rate mode: the scheduler's largest lateness"),
]
# Metrics only an open-model (`rate`) load produces.
OPEN_MODEL_METRICS = frozenset({"arrival.lag.p50", "arrival.lag.p99", "arrival.lag.max"})
_LLM = [
    *(
        (f"llm.ttft.{p}", D.DURATION, f"{p} time from send to the first content token")
        for p in ("p50", "p95", "p99")
    ),
    *(
        (f"llm.itl.{p}", D.DURATION, f"{p} gap between content chunks after the first")
        for p in ("p50", "p95", "p99")
    ),
    *(
        (f"llm.e2e.{p}", D.DURATION, f"{p} time from send to the answer's end (= latency.{p})")
        for p in ("p50", "p95", "p99")
    ),
    ("llm.output_tokens.rate", D.RATE, "tokens generated per second (usage, else chunks)"),
    ("llm.goodput", D.RATE, "answered requests per second meeting every slo: condition"),
]
_PROBE = [
    ("process.rss.peak", D.BYTES, "largest resident memory of the probed process tree"),
    ("process.rss.growth", D.BYTE_RATE, "memory growth over the steady window (slope)"),
    ("process.rss.per_request", D.BYTES, "memory growth per request (needs load)"),
    ("process.cpu.mean", D.CORES, "mean CPU of the probed process tree (cores)"),
    ("process.cpu.peak", D.CORES, "peak CPU of the probed process tree (cores)"),
    ("process.threads.peak", D.COUNT, "most threads"),
    ("process.fds.peak", D.COUNT, "most open file descriptors"),
    ("gpu.memory.used.peak", D.BYTES, "largest GPU memory in use, summed over the GPUs"),
    ("gpu.utilization.mean", D.RATIO, "mean GPU utilisation, averaged over the GPUs (gpu probe)"),
    ("gpu.power.mean", D.POWER, "mean power draw, summed over the GPUs (gpu probe)"),
    ("host.memory.available.min", D.BYTES, "lowest available memory of the host"),
    ("host.cpu.mean", D.RATIO, "mean CPU use of the whole host (0..100%)"),
]
_COMPARE = [
    ("predictions.agreement", D.RATIO, "compare: share of inputs both targets answer the same"),
    ("predictions.max_abs_diff", D.NUMBER, "compare: largest numeric difference of the answers"),
    ("predictions.compared", D.COUNT, "compare: inputs sent to both targets"),
]
_SWEEP = [
    (
        "scaling.efficiency",
        D.RATIO,
        "throughput gain ÷ user (or offered rate) gain, largest vs smallest step",
    ),
    ("throughput.peak", D.RATE, "highest throughput of any step"),
    ("usl.peak_users", D.COUNT, "users at the peak of the fitted Universal Scalability Law"),
    ("usl.peak_throughput", D.RATE, "throughput at that peak"),
]
_CAPACITY = [
    ("capacity.throughput", D.RATE, "throughput at the largest load meeting every SLO"),
    ("capacity.users", D.COUNT, "the largest number of users meeting every SLO"),
    ("capacity.rate", D.RATE, "the largest arrival rate meeting every SLO (rate search)"),
]
# Metrics only steps over users make (the USL models concurrency), and only steps over rates.
USER_STEP_METRICS = frozenset({"capacity.users", "usl.peak_users", "usl.peak_throughput"})
RATE_STEP_METRICS = frozenset({"capacity.rate"})
_FUZZ = [
    ("fuzz.server_errors", D.COUNT, "fuzz: bodies answered 5xx, reset or hung past the timeout"),
    ("fuzz.examples", D.COUNT, "fuzz: bodies sent"),
]
_COLD_START = [
    ("cold_start.ready", D.DURATION, "launch until the readiness check passes"),
    ("cold_start.first_response", D.DURATION, "launch until the first successful answer"),
    ("cold_start.rss", D.BYTES, "resident memory when ready"),
]
_DISK = [
    ("disk.write.throughput", D.BYTE_RATE, "sequential write speed"),
    ("disk.read.throughput", D.BYTE_RATE, "sequential read speed, page cache evicted"),
    ("disk.fsync.p99", D.DURATION, "99th percentile fsync latency"),
    ("disk.free", D.BYTES, "free space on the file system"),
]
_S3 = [
    ("s3.upload.throughput", D.BYTE_RATE, "upload speed (scratch object)"),
    ("s3.download.throughput", D.BYTE_RATE, "download speed"),
    ("s3.first_byte.p99", D.DURATION, "99th percentile time to first byte of small ranged GETs"),
]
_NETWORK = [
    ("tcp.connect.p50", D.DURATION, "median TCP connect time", "network:tcp"),
    ("tcp.connect.p99", D.DURATION, "99th percentile TCP connect time", "network:tcp"),
    ("dns.resolve.p99", D.DURATION, "99th percentile name resolution time", "network:dns"),
    ("http.ttfb.p99", D.DURATION, "99th percentile time to first byte", "network:http"),
    ("http.download.throughput", D.BYTE_RATE, "HTTP body download speed", "network:http"),
]


def _catalogue() -> dict[str, Metric]:
    table: dict[str, Metric] = {}
    groups = [
        ("load", _LOAD),
        ("llm", _LLM),
        ("probe", _PROBE),
        ("compare", _COMPARE),
        ("sweep", _SWEEP),
        ("capacity", _CAPACITY),
        ("cold_start", _COLD_START),
        ("fuzz", _FUZZ),
        ("disk", _DISK),
        ("s3", _S3),
    ]
    for source, rows in groups:
        for name, dimension, text in rows:
            table[name] = Metric(name, dimension, source, text)
    for name, dimension, text, source in _NETWORK:
        table[name] = Metric(name, dimension, source, text)
    return table


METRICS: dict[str, Metric] = _catalogue()

# Metrics only a compare with `predictions` produces, and those a signed bound may use.
PREDICTION_METRICS = frozenset(name for name, _, _ in _COMPARE)
# Load metrics a compare measures the change of (infratest.deltas computes them).
LOAD_CHANGE_METRICS = (
    "latency.p50",
    "latency.p90",
    "latency.p95",
    "latency.p99",
    "latency.mean",
    "throughput",
    "errors.rate",
)
CHANGE_METRICS = frozenset(
    {*LOAD_CHANGE_METRICS, *(name for name, _, _ in _PROBE if name.startswith("process."))}
)

# Sweeps and capacity searches also run the load generator; their verdicts need its CPU.
_ALSO_GENERATOR = {"sweep", "capacity"}


def produced_by(workload: str, network_kind: str | None = None, probed: bool = False) -> list[str]:
    """Names of the metrics a workload produces, in catalogue order."""
    names = [
        metric.name
        for metric in METRICS.values()
        if _produces(metric, workload, network_kind, probed)
    ]
    if probed and workload not in LOAD_LIKE:
        names = [n for n in names if n != "process.rss.per_request"]
    return names


def _produces(metric: Metric, workload: str, network_kind: str | None, probed: bool) -> bool:
    if metric.source == workload or (metric.source == "load" and workload in LOAD_LIKE):
        return True
    if metric.source == "probe":
        return probed
    if metric.source.startswith("network:"):
        return workload == "network" and metric.source == f"network:{network_kind}"
    return metric.name == "generator.cpu.peak" and workload in _ALSO_GENERATOR


def dimension_of(name: str) -> Dimension:
    """The dimension of a known metric (KeyError for unknown names)."""
    return METRICS[name].dimension
