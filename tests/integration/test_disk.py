"""The disk workload against real files in temp directories."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from infratest.measurements import MeasurementError
from infratest.spec.resource_sections import DiskSpec
from infratest.workloads.disk import SCRATCH_PREFIX, run_disk

CONF = 0.95


def _leftovers(path: Path) -> list[Path]:
    return list(path.glob(f"{SCRATCH_PREFIX}*"))


def _spec(path: Path | str, size: str = "32MB", fsync: bool = True) -> DiskSpec:
    return DiskSpec(path=str(path), size=size, block="1MB", fsync=fsync)


def test_write_read_fsync_and_free(tmp_path: Path) -> None:
    m = run_disk(_spec(tmp_path), CONF)
    write, read = m.values["disk.write.throughput"], m.values["disk.read.throughput"]
    assert write.value > 0 and read.value > 0
    assert write.n == read.n == 16
    assert 0 <= write.low <= write.value <= write.high
    assert m.values["disk.free"].value > 0
    fsync = m.values["disk.fsync.p99"]
    assert fsync.n >= 30 and fsync.value > 0
    assert any("page cache" in note for note in m.notes)
    assert len(m.series["disk"]["fsync_s"]) == fsync.n
    assert _leftovers(tmp_path) == []


def test_no_fsync_metric_without_fsync(tmp_path: Path) -> None:
    m = run_disk(_spec(tmp_path, size="8MB", fsync=False), CONF)
    assert "disk.fsync.p99" not in m.values
    assert m.values["disk.write.throughput"].value > 0
    assert m.series["disk"]["fsync_s"] == []
    assert _leftovers(tmp_path) == []


def test_partial_last_block(tmp_path: Path) -> None:
    spec = DiskSpec(path=str(tmp_path), size="3.5MB", block="1MB", fsync=False)
    m = run_disk(spec, CONF)
    assert m.values["disk.read.throughput"].value > 0
    assert _leftovers(tmp_path) == []


def test_deadline_passing_mid_run_is_an_error_and_removes_the_file(tmp_path: Path) -> None:
    with pytest.raises(MeasurementError, match="time bound"):
        run_disk(_spec(tmp_path, size="8MB"), CONF, deadline_s=1e-9)
    assert _leftovers(tmp_path) == []


def test_missing_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(MeasurementError, match=f"path {missing} does not exist"):
        run_disk(_spec(missing), CONF)


def test_path_is_a_file(tmp_path: Path) -> None:
    plain = tmp_path / "file"
    plain.write_bytes(b"x")
    with pytest.raises(MeasurementError, match="is not a directory"):
        run_disk(_spec(plain), CONF)
    with pytest.raises(MeasurementError, match="is not a directory"):
        run_disk(_spec(plain / "sub"), CONF)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_not_enough_free_space(tmp_path: Path) -> None:
    with pytest.raises(
        MeasurementError,
        match=r"only .* free on .*, need 10500TB \(10000TB scratch file \+ 5% margin\)",
    ):
        run_disk(_spec(tmp_path, size="10000TB"), CONF)
    assert _leftovers(tmp_path) == []


@pytest.mark.skipif(not os.path.isdir("/sys"), reason="needs sysfs")
def test_unwritable_directory_is_caught_by_the_real_open() -> None:
    # sysfs refuses new files even to root, who passes os.access; its free space is 0, so a
    # zero-size request is needed to reach the open.
    spec = DiskSpec.model_construct(path="/sys", size=0.0, block=1e6, fsync=False)
    with pytest.raises(MeasurementError, match="cannot create a scratch file in /sys"):
        run_disk(spec, CONF)
