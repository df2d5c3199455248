"""Does the disk workload report the speeds fio reports for the same job?

    python benchmarks/storage_vs_fio.py [--path /tmp] [--size 256MB] [--block 1MB]
                                        [--no-fsync] [--rounds 3]

Both sides write `size` bytes sequentially in `block`-sized psync writes to a fresh file in
the same directory, fsync every N blocks when fsync is on (N from the disk workload itself,
passed to fio as --fsync=N), fsync at the end, then drop the file from the page cache and
read it back sequentially. Rounds alternate infratest and fio, so drift hits both alike; the
medians are compared against the goal |infratest / fio - 1| <= 20%.

It is a measurement, not a test: it exits 0 whether or not the goal is met (2 without fio).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from infratest.spec.resource_sections import DiskSpec  # noqa: E402
from infratest.units import Dimension, format_quantity  # noqa: E402
from infratest.workloads.disk import fsync_interval_blocks, run_disk  # noqa: E402

GOAL = 0.20
FIO_TIMEOUT_S = 600.0
CONFIDENCE = 0.95


def _rate(bps: float) -> str:
    return format_quantity(bps, Dimension.BYTE_RATE)


def _fio_job(fio: str, spec: DiskSpec, path: Path, rw: str, out: Path) -> list[str]:
    """One fio job matching the disk workload; no fallocate, since run_disk does not either."""
    size, block = int(spec.size), int(spec.block)
    args = [
        fio,
        f"--name={rw}",
        f"--rw={rw}",
        f"--filename={path}",
        f"--size={size}",
        f"--bs={block}",
        "--ioengine=psync",
        "--fallocate=none",
        "--invalidate=1",  # POSIX_FADV_DONTNEED before the job, as run_disk does before reading
        "--output-format=json",
        f"--output={out}",
    ]
    if rw == "write":
        args.append("--end_fsync=1")
        if spec.fsync:
            args.append(f"--fsync={fsync_interval_blocks(math.ceil(size / block))}")
    return args


def _fio_bandwidth(args: list[str], out: Path, rw: str) -> float:
    """Bytes per second from fio's JSON: io_bytes over job runtime (which holds end_fsync)."""
    subprocess.run(args, check=True, timeout=FIO_TIMEOUT_S, capture_output=True)
    job = json.loads(out.read_text())["jobs"][0]
    return job[rw]["io_bytes"] / (job["job_runtime"] / 1000.0)


def run_fio(fio: str, spec: DiskSpec, workdir: Path) -> tuple[float, float]:
    """(write, read) bytes/s of fio on a fresh file in `workdir`; the file is always removed."""
    data = workdir / f".infratest-fio-{secrets.token_hex(8)}.tmp"
    out = workdir / "fio.json"
    try:
        write = _fio_bandwidth(_fio_job(fio, spec, data, "write", out), out, "write")
        read = _fio_bandwidth(_fio_job(fio, spec, data, "read", out), out, "read")
    finally:
        for leftover in (data, out):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
    return write, read


def run_infratest(spec: DiskSpec) -> tuple[float, float]:
    m = run_disk(spec, CONFIDENCE)
    return m.values["disk.write.throughput"].value, m.values["disk.read.throughput"].value


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--path", default=tempfile.gettempdir(), help="directory to test")
    parser.add_argument("--size", default="256MB")
    parser.add_argument("--block", default="1MB")
    parser.add_argument("--no-fsync", action="store_true", help="only the final fsync")
    parser.add_argument("--rounds", type=int, default=3)
    return parser.parse_args()


def _verdict(name: str, ours: list[float], theirs: list[float]) -> bool:
    a, b = statistics.median(ours), statistics.median(theirs)
    ratio = a / b if b > 0 else math.inf
    ok = abs(ratio - 1.0) <= GOAL
    print(
        f"{name:5s} median infratest {_rate(a):>10s}  fio {_rate(b):>10s}  "
        f"ratio {ratio:.3f}  {'within' if ok else 'OUTSIDE'} {GOAL:.0%}"
    )
    return ok


def main() -> int:
    opts = _args()
    fio = shutil.which("fio")
    if fio is None:
        print("fio not found on PATH: install it (e.g. `apt-get install -y fio`) and rerun")
        return 2
    with tempfile.TemporaryDirectory(prefix="infratest-vs-fio-", dir=opts.path) as tmp:
        workdir = Path(tmp)
        spec = DiskSpec(
            path=str(workdir), size=opts.size, block=opts.block, fsync=not opts.no_fsync
        )
        print(f"{workdir}: size {opts.size}, block {opts.block}, fsync {spec.fsync}")
        results: dict[str, list[float]] = {k: [] for k in ("iw", "ir", "fw", "fr")}
        for i in range(max(1, opts.rounds)):
            iw, ir = run_infratest(spec)
            fw, fr = run_fio(fio, spec, workdir)
            for key, value in zip(results, (iw, ir, fw, fr), strict=True):
                results[key].append(value)
            print(
                f"round {i + 1}: write infratest {_rate(iw)} fio {_rate(fw)} | "
                f"read infratest {_rate(ir)} fio {_rate(fr)}"
            )
        _verdict("write", results["iw"], results["fw"])
        _verdict("read", results["ir"], results["fr"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
