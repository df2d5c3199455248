"""The GPU probe for real, through the runner: on a machine without the NVIDIA driver (this
one) the assumption is an `error` saying so, with no figure at all; where NVML loads, the
figures are read from the driver."""

from __future__ import annotations

import ctypes
from pathlib import Path

import pytest

from infratest.measurements import MeasurementError
from infratest.probes.gpu_sampler import GpuSampler
from infratest.verdict import Verdict
from tests.support.assumptions import behaviour_config, run_assumption


def nvml_loads() -> bool:
    """Whether the driver's NVML library is on this machine (found independently of pynvml)."""
    try:
        ctypes.CDLL("libnvidia-ml.so.1")
    except OSError:
        return False
    return True


def test_gpu_probe_without_a_driver_is_an_error_never_a_zero(tmp_path: Path) -> None:
    config = behaviour_config(tmp_path, url="http://127.0.0.1:9")  # no target is contacted
    result = run_assumption(
        tmp_path,
        config,
        """\
        observe: {duration: 0.3s}
        probe: {gpu: all, interval: 0.05s}
        expect: {gpu.memory.used.peak: < 80GiB, gpu.utilization.mean: "<= 100%"}
        """,
    )
    if nvml_loads():  # a GPU machine: real readings
        assert result.outcome.verdict == Verdict.PASS, result.outcome.reason
        assert result.measurements.values["gpu.memory.used.peak"].value > 0
        return
    assert result.outcome.verdict == Verdict.ERROR
    assert "gpu probe: no NVIDIA driver" in result.outcome.reason
    assert not result.measurements.values  # never a zero standing in for a reading


def test_a_missing_device_is_named() -> None:
    said = "no GPU 255 on this machine" if nvml_loads() else "gpu probe: no NVIDIA driver"
    with pytest.raises(MeasurementError, match=said):
        GpuSampler(255, 0.1).start()
