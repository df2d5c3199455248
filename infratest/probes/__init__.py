"""Watch a process tree and the host with psutil while a workload runs, and turn the readings
into the process.* and host.* metrics.

`resolve_process` finds the process a probe section selects (once, before the run),
`ProbeSampler` samples it and its descendants on a daemon thread, and `probe_measurements`
turns the resulting `ProbeSeries` into interval estimates.
"""

from infratest.probes.metrics import probe_measurements
from infratest.probes.sampler import DEFAULT_INTERVAL_S, ProbeSampler, ProbeSeries
from infratest.probes.selection import resolve_process

__all__ = [
    "DEFAULT_INTERVAL_S",
    "ProbeSampler",
    "ProbeSeries",
    "probe_measurements",
    "resolve_process",
]
