"""Sampling this machine's NVIDIA GPUs through NVML (``nvidia-ml-py``) on a daemon thread:
memory in use, utilisation and power of each selected device, and the GPU memory of each
process NVML lists.

``start()`` initialises NVML and takes the first reading, so a machine without the driver
(or without the asked-for device) fails the assumption before any load, saying so, rather
than reporting zeros. NVML is shut down on every way out.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

import numpy as np

from infratest.measurements import MeasurementError
from infratest.probes.gpu_metrics import GpuSeries
from infratest.probes.sampler import JOIN_TIMEOUT_S, _next_tick

Row = tuple[float, list[float], list[float], list[float]]  # t, memory, utilisation, power


def _nvml() -> Any:
    try:
        import pynvml
    except ImportError as exc:  # a broken install: the dependency is declared
        raise MeasurementError(f"gpu probe: cannot import pynvml (nvidia-ml-py): {exc}") from None
    return pynvml


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


class GpuSampler:
    """Reads the selected GPUs every ``interval`` seconds; ``stop()`` returns the GpuSeries."""

    def __init__(self, gpu: str | int, interval: float) -> None:
        self._gpu, self._interval = gpu, float(interval)
        self._nvml: Any = None
        self._handles: list[tuple[int, Any]] = []
        self._devices: tuple[str, ...] = ()
        self._rows: list[Row] = []
        self._processes: dict[tuple[int, int], int] = {}
        self._notes: list[str] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="infratest-gpu", daemon=True)
        self._t0 = 0.0
        self._series: GpuSeries | None = None

    @property
    def samples(self) -> int:
        """Readings recorded so far (tests poll this instead of sleeping)."""
        with self._lock:
            return len(self._rows)

    def start(self) -> GpuSampler:
        """Initialise NVML and read once (MeasurementError if either fails), then sample."""
        nvml = _nvml()
        try:
            nvml.nvmlInit()
        except nvml.NVMLError as exc:
            raise MeasurementError(
                f"gpu probe: no NVIDIA driver: NVML cannot start ({_text(exc)}); "
                "a remote GPU's exporter can be read with `probe: {prometheus: URL}`"
            ) from None
        self._nvml = nvml
        try:
            self._handles = self._select(nvml)
            self._devices = tuple(
                f"{i}: {_text(nvml.nvmlDeviceGetName(h))}" for i, h in self._handles
            )
            self._t0 = time.monotonic()
            self._rows.append(self._read(0.0))
        except nvml.NVMLError as exc:
            nvml.nvmlShutdown()
            raise MeasurementError(f"gpu probe: NVML cannot read the GPUs: {_text(exc)}") from None
        except MeasurementError:
            nvml.nvmlShutdown()
            raise
        self._thread.start()
        return self

    def _select(self, nvml: Any) -> list[tuple[int, Any]]:
        count = int(nvml.nvmlDeviceGetCount())
        if count == 0:
            raise MeasurementError("gpu probe: NVML sees no GPU on this machine")
        wanted = range(count) if self._gpu == "all" else [int(self._gpu)]
        if any(i >= count for i in wanted):
            raise MeasurementError(
                f"gpu probe: no GPU {self._gpu} on this machine (NVML sees {count}: 0..{count - 1})"
            )
        return [(i, nvml.nvmlDeviceGetHandleByIndex(i)) for i in wanted]

    def stop(self) -> GpuSeries:
        """Stop, join the thread (bounded), shut NVML down, and return the series."""
        if self._series is None:
            self._stopping.set()
            if self._thread.is_alive():
                self._thread.join(timeout=JOIN_TIMEOUT_S + self._interval)
            if self._nvml is not None and not self._thread.is_alive():
                self._nvml.nvmlShutdown()
            with self._lock:
                self._series = self._build()
        return self._series

    def _run(self) -> None:
        next_at = time.monotonic() + self._interval
        while not self._stopping.wait(max(next_at - time.monotonic(), 0.0)):
            try:
                row = self._read(time.monotonic() - self._t0)
            except self._nvml.NVMLError as exc:
                self._note(f"a GPU reading failed and gave no sample: {_text(exc)}")
            else:
                with self._lock:
                    self._rows.append(row)
            next_at = _next_tick(next_at, time.monotonic(), self._interval)

    def _read(self, at: float) -> Row:
        memory, utilization, power = [], [], []
        for index, handle in self._handles:
            memory.append(self._field(index, "memory", self._memory, handle))
            utilization.append(self._field(index, "utilization", self._utilization, handle))
            power.append(self._field(index, "power", self._power, handle))
            self._read_processes(index, handle)
        return at, memory, utilization, power

    def _field(self, index: int, what: str, read: Any, handle: Any) -> float:
        """One reading; NaN (with a note, once) where this device does not support it."""
        try:
            return float(read(handle))
        except self._nvml.NVMLError_NotSupported:
            self._note(f"GPU {index}: NVML does not report {what} on this device")
            return math.nan

    def _memory(self, handle: Any) -> float:
        return float(self._nvml.nvmlDeviceGetMemoryInfo(handle).used)  # bytes

    def _utilization(self, handle: Any) -> float:
        return self._nvml.nvmlDeviceGetUtilizationRates(handle).gpu / 100.0

    def _power(self, handle: Any) -> float:
        return self._nvml.nvmlDeviceGetPowerUsage(handle) / 1000.0  # milliwatts

    def _read_processes(self, index: int, handle: Any) -> None:
        """Peak GPU memory per process, where NVML gives it (not on every driver or in
        every container: then a note says so)."""
        try:
            running = self._nvml.nvmlDeviceGetComputeRunningProcesses(handle)
        except self._nvml.NVMLError as exc:
            self._note(f"GPU {index}: no per-process memory ({_text(exc)})")
            return
        for proc in running:
            used = getattr(proc, "usedGpuMemory", None)
            if used is None:  # NVML_VALUE_NOT_AVAILABLE, e.g. without permission
                continue
            key = (index, int(proc.pid))
            with self._lock:
                self._processes[key] = max(self._processes.get(key, 0), int(used))

    def _note(self, text: str) -> None:
        with self._lock:
            if text not in self._notes:
                self._notes.append(text)

    def _build(self) -> GpuSeries:
        d = len(self._handles)
        t = np.array([row[0] for row in self._rows], dtype=float)
        columns = [
            np.array([row[k] for row in self._rows], dtype=float).reshape(len(self._rows), d)
            for k in (1, 2, 3)
        ]
        notes = [f"gpu probe: NVML read {d} GPU(s) {len(self._rows)} times", *self._notes]
        return GpuSeries(t, self._devices, *columns, dict(self._processes), notes)
