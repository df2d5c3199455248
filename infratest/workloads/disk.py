"""The disk workload: sequential write (with fsync latency) and read of a scratch file, plus the
free space of the file system behind a directory.

The written figure includes the final fsync, so a fast page cache cannot pass for a fast disk,
and the file is evicted from the page cache before it is read back.
"""

from __future__ import annotations

import contextlib
import math
import os
import secrets
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psutil
from scipy import stats as sps

from infratest.measurements import MeasurementError, Measurements
from infratest.spec.resource_sections import DiskSpec
from infratest.stats import Interval, exact, quantile_interval
from infratest.units import Dimension, format_quantity

__all__ = ["SCRATCH_PREFIX", "chunk_throughput_interval", "fsync_interval_blocks", "run_disk"]

SCRATCH_PREFIX = ".infratest-"
FREE_MARGIN = 0.05  # the file system must keep 5% of `size` spare beyond the scratch file
CHUNKS = 16  # timing groups per pass: enough for a t interval, big enough to time well
FSYNC_EVERY_MAX = 8
FSYNC_MIN_SAMPLES = 30
MEMORY_FS = frozenset({"tmpfs", "ramfs", "devtmpfs"})

_EVICTED = "read after fsync + POSIX_FADV_DONTNEED: page cache evicted"
_NOT_EVICTED = (
    "read after fsync, but POSIX_FADV_DONTNEED is unavailable here: "
    "the read may be served from the page cache"
)


@dataclass
class _Pass:
    """Per-chunk bytes and seconds of one sequential pass, plus any fsync latencies."""

    chunk_bytes: list[int] = field(default_factory=list)
    chunk_seconds: list[float] = field(default_factory=list)
    fsync_s: list[float] = field(default_factory=list)

    def end_chunk(self, nbytes: int, started: float) -> float:
        """Record a finished chunk; returns the time the next one starts."""
        now = time.perf_counter()
        self.chunk_bytes.append(nbytes)
        self.chunk_seconds.append(now - started)
        return now

    def rates(self) -> list[float | None]:
        """Per-chunk bytes/s for plots; None where a chunk was too fast for the clock."""
        pairs = zip(self.chunk_bytes, self.chunk_seconds, strict=True)
        return [b / s if s > 0 else None for b, s in pairs]


# --- pure helpers ------------------------------------------------------------------------------


def fsync_interval_blocks(n_blocks: int) -> int:
    """Blocks between timed fsyncs: every 8th, more often when that would give < ~30 samples."""
    return max(1, min(FSYNC_EVERY_MAX, n_blocks // FSYNC_MIN_SAMPLES))


def chunk_throughput_interval(
    nbytes: Sequence[float], seconds: Sequence[float], confidence: float
) -> Interval:
    """Total bytes / total seconds, bounds from a ratio estimator over the chunks.

    Why not the mean of per-chunk rates: the final fsync lands in the last chunk, and a mean
    of rates would let fast page-cache chunks outvote it. The ratio keeps the point value at
    size / total time while the chunk residuals still give an honest spread.
    """
    b = np.asarray(nbytes, dtype=float)
    t = np.asarray(seconds, dtype=float)
    k = int(b.size)
    if k == 0 or t.sum() <= 0:
        return Interval(math.nan, -math.inf, math.inf, confidence, k, "chunk-ratio-t")
    value = float(b.sum() / t.sum())
    if k < 2:
        return Interval(value, 0.0, math.inf, confidence, k, "chunk-ratio-t")
    resid = b - value * t
    se = math.sqrt(float(np.sum(resid**2)) / (k * (k - 1))) / float(np.mean(t))
    half = float(sps.t.ppf(confidence, k - 1)) * se
    low = max(0.0, min(value - half, value))
    return Interval(value, low, max(value + half, value), confidence, k, "chunk-ratio-t")


# --- checks before writing ---------------------------------------------------------------------


def _human(nbytes: float) -> str:
    return format_quantity(nbytes, Dimension.BYTES)


def _check_directory(path: Path) -> None:
    """Reasons a person can act on, before a scratch file is even attempted."""
    if not path.exists():
        parent = next((p for p in path.parents if p.exists()), None)
        if parent is not None and not parent.is_dir():
            raise MeasurementError(f"path {path} is not a directory ({parent} is a file)")
        raise MeasurementError(f"path {path} does not exist")
    if not path.is_dir():
        raise MeasurementError(f"path {path} is not a directory")
    if not os.access(path, os.W_OK | os.X_OK):
        raise MeasurementError(f"path {path} is not writable")


def _free_bytes(path: Path) -> int:
    try:
        return int(shutil.disk_usage(path).free)
    except OSError as exc:
        raise MeasurementError(f"cannot read free space of {path}: {exc.strerror}") from None


def _check_free(path: Path, free: int, size: int) -> None:
    need = size * (1.0 + FREE_MARGIN)
    if free < need:
        raise MeasurementError(
            f"only {_human(free)} free on {path}, need {_human(need)} "
            f"({_human(size)} scratch file + {FREE_MARGIN:.0%} margin)"
        )


def _fs_type(path: Path) -> str | None:
    """File system type of the mount holding `path` (longest mount point that contains it)."""
    resolved = str(path.resolve())
    best, fstype = "", None
    with contextlib.suppress(OSError, RuntimeError):
        for part in psutil.disk_partitions(all=True):
            mount = part.mountpoint.rstrip("/") or "/"
            inside = resolved == mount or resolved.startswith(mount.rstrip("/") + "/")
            if inside and len(mount) >= len(best):
                best, fstype = mount, part.fstype
    return fstype


# --- the passes --------------------------------------------------------------------------------


class _Clock:
    """The run's time bound; checked once per block so a slow disk cannot run forever."""

    def __init__(self, deadline_s: float, path: Path) -> None:
        self.limit_s = deadline_s
        self.end = time.monotonic() + deadline_s
        self.path = path

    def check(self, stage: str, done: int, total: int) -> None:
        if time.monotonic() > self.end:
            raise MeasurementError(
                f"disk workload on {self.path} exceeded its {self.limit_s:g} s time bound "
                f"while {stage} ({_human(done)} of {_human(total)})"
            )


def _write_all(fd: int, data: memoryview) -> None:
    """os.write may write less than asked; each round writes > 0 bytes, so this ends."""
    while data:
        n = os.write(fd, data)
        if n <= 0:
            raise OSError(f"write returned {n}")
        data = data[n:]


def _timed_fsync(fd: int) -> float:
    start = time.perf_counter()
    os.fsync(fd)
    return time.perf_counter() - start


def _chunk_blocks(n_blocks: int) -> int:
    return max(1, math.ceil(n_blocks / CHUNKS))


def _write_pass(fd: int, size: int, block: int, fsync_every: int, clock: _Clock) -> _Pass:
    """Sequential write of one reused random buffer; the final fsync counts in the last chunk."""
    buf = memoryview(os.urandom(block))
    n_blocks, per_chunk = math.ceil(size / block), _chunk_blocks(math.ceil(size / block))
    result, written, chunk_bytes = _Pass(), 0, 0
    chunk_start = time.perf_counter()
    for i in range(n_blocks):
        n = min(block, size - written)
        _write_all(fd, buf[:n])
        written, chunk_bytes = written + n, chunk_bytes + n
        if fsync_every and (i + 1) % fsync_every == 0:
            result.fsync_s.append(_timed_fsync(fd))
        if (i + 1) % per_chunk == 0 or i == n_blocks - 1:
            if i == n_blocks - 1:
                os.fsync(fd)  # the honest end of a write: data on the device
            chunk_start, chunk_bytes = result.end_chunk(chunk_bytes, chunk_start), 0
        clock.check("writing", written, size)
    return result


def _evict(fd: int) -> bool:
    """Drop the (clean, fsynced) pages so the read pass reaches the device."""
    if not hasattr(os, "posix_fadvise"):
        return False
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    except OSError:
        return False
    return True


def _read_exact(fd: int, view: memoryview, offset: int) -> None:
    while view:
        n = os.preadv(fd, [view], offset)
        if n <= 0:
            raise MeasurementError(f"short read at byte {offset}: the scratch file shrank")
        view, offset = view[n:], offset + n


def _read_pass(fd: int, size: int, block: int, clock: _Clock) -> _Pass:
    """Sequential read with `block`-sized reads into one reused buffer."""
    view = memoryview(bytearray(block))
    n_blocks = math.ceil(size / block)
    per_chunk = _chunk_blocks(n_blocks)
    result, offset, chunk_bytes = _Pass(), 0, 0
    chunk_start = time.perf_counter()
    for i in range(n_blocks):
        n = min(block, size - offset)
        _read_exact(fd, view[:n], offset)
        offset, chunk_bytes = offset + n, chunk_bytes + n
        if (i + 1) % per_chunk == 0 or i == n_blocks - 1:
            chunk_start, chunk_bytes = result.end_chunk(chunk_bytes, chunk_start), 0
        clock.check("reading", offset, size)
    return result


# --- the workload ------------------------------------------------------------------------------


def _scratch_name(path: Path) -> Path:
    return path / f"{SCRATCH_PREFIX}{secrets.token_hex(8)}.tmp"


def _open_scratch(name: Path) -> int:
    """The real test of writability (root passes os.access, read-only mounts do not)."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        return os.open(name, flags, 0o600)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise MeasurementError(f"cannot create a scratch file in {name.parent}: {reason}") from None


def _measure(
    fd: int, spec: DiskSpec, size: int, block: int, clock: _Clock
) -> tuple[_Pass, _Pass, bool, int]:
    every = fsync_interval_blocks(math.ceil(size / block)) if spec.fsync else 0
    try:
        write = _write_pass(fd, size, block, every, clock)
        evicted = _evict(fd)
        read = _read_pass(fd, size, block, clock)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise MeasurementError(f"disk I/O on {spec.path} failed: {reason}") from None
    return write, read, evicted, every


def run_disk(spec: DiskSpec, confidence: float, deadline_s: float = 300) -> Measurements:
    """Write, fsync, evict and read back `size` bytes in `path`; the scratch file never stays."""
    path = Path(spec.path).expanduser()
    size, block = int(spec.size), int(spec.block)
    clock = _Clock(deadline_s, path)
    _check_directory(path)
    free = _free_bytes(path)
    _check_free(path, free, size)
    name = _scratch_name(path)
    fd = -1
    try:
        fd = _open_scratch(name)
        write, read, evicted, every = _measure(fd, spec, size, block, clock)
    finally:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            name.unlink()
    out = Measurements()
    out.add("disk.free", exact(free, confidence))
    _record(out, write, read, confidence)
    out.notes += _notes(path, evicted, every, len(write.fsync_s))
    out.series["disk"] = _series(spec, size, block, write, read)
    return out


def _record(out: Measurements, write: _Pass, read: _Pass, confidence: float) -> None:
    out.add(
        "disk.write.throughput",
        chunk_throughput_interval(write.chunk_bytes, write.chunk_seconds, confidence),
    )
    out.add(
        "disk.read.throughput",
        chunk_throughput_interval(read.chunk_bytes, read.chunk_seconds, confidence),
    )
    if write.fsync_s:
        out.add("disk.fsync.p99", quantile_interval(write.fsync_s, 0.99, confidence))


def _notes(path: Path, evicted: bool, every: int, n_fsync: int) -> list[str]:
    notes = [_EVICTED if evicted else _NOT_EVICTED]
    if every:
        notes.append(f"fsync timed after every {every} block(s): {n_fsync} samples")
    notes.append("write throughput includes the final fsync (size / total time)")
    fstype = _fs_type(path)
    if fstype in MEMORY_FS:
        notes.append(f"{path} is on {fstype}: memory-backed, so these are RAM speeds")
    return notes


def _series(spec: DiskSpec, size: int, block: int, write: _Pass, read: _Pass) -> dict:
    return {
        "path": str(spec.path),
        "size": size,
        "block": block,
        "fsync": spec.fsync,
        "write_chunk_Bps": write.rates(),
        "read_chunk_Bps": read.rates(),
        "fsync_s": write.fsync_s,
    }
