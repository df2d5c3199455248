"""The generator's CPU sampler on real processes: an idle child reads near zero however
its readings fall against the clock ticks, a busy one reads most of a core."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import numpy as np
import pytest

from infratest.workloads.cpu_sampler import MIN_READING_S, CpuSampler

IDLE = "import time\nwhile True: time.sleep(0.003)"  # wakes often, uses almost nothing
BUSY = "while True: pass"


@pytest.fixture
def child(request: pytest.FixtureRequest) -> Iterator[subprocess.Popen]:
    proc = subprocess.Popen([sys.executable, "-c", request.param])
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait(10)


def _readings(proc: subprocess.Popen, count: int) -> np.ndarray:
    sampler = CpuSampler(proc.pid)
    sampler.start()
    try:
        sampler.mark_start()
        deadline = time.monotonic() + 30
        while len(sampler.samples) < count and time.monotonic() < deadline:
            sampler.join(0.05)  # polls the sampler's progress, bounded by the deadline
        assert len(sampler.samples) >= count, "the sampler took no readings in 30 s"
        sampler.mark_end()
        return np.asarray(sampler.samples, dtype=float)
    finally:
        sampler.halt()


@pytest.mark.parametrize("child", [IDLE], indirect=True)
def test_an_idle_child_reads_near_zero_and_no_reading_is_a_sliver(
    child: subprocess.Popen,
) -> None:
    samples = _readings(child, 15)
    starts = np.concatenate([[0.0], samples[:-1, 0]])
    assert np.all(samples[:, 0] - starts >= MIN_READING_S - 1e-6)  # each covers >= 0.1 s
    assert float(samples[:, 1].max()) < 0.3  # one 10 ms tick over 0.1 s at most, plus noise


@pytest.mark.parametrize("child", [BUSY], indirect=True)
def test_a_busy_child_reads_most_of_a_core(child: subprocess.Popen) -> None:
    samples = _readings(child, 10)
    assert 0.4 < float(np.median(samples[:, 1])) < 1.3
