"""The `observe` workload: no load, only the probes, for an idle baseline or a batch job."""

from __future__ import annotations

import threading
import time

from infratest.measurements import Measurements
from infratest.workloads.context import WorkloadContext

POLL_S = 0.5


def run_observe_workload(ctx: WorkloadContext) -> Measurements:
    """Wait out the observation window while the probe samples; stop early if the managed
    target dies (the runner then reports it), so a dead target never costs the full window."""
    spec = ctx.assumption.observe
    assert spec is not None
    deadline = time.monotonic() + spec.duration
    pause = threading.Event()
    while (left := deadline - time.monotonic()) > 0:
        if ctx.target is not None and ctx.target.process and not ctx.target.process.alive():
            break
        pause.wait(min(POLL_S, left))
    found = Measurements()
    found.notes.append(f"observed for {spec.duration:g} s without load")
    return found
