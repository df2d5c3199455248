"""Finding the process a probe section selects: the managed target, a pid, the listener on a
port, or the one process matching a name or command line. Done once, before the run."""

from __future__ import annotations

import re
from typing import Any

import psutil

from infratest.measurements import MeasurementError
from infratest.spec.resource_sections import ProbeSpec

SHOWN_CANDIDATES = 8


def resolve_process(spec: ProbeSpec, target_pid: int | None) -> psutil.Process | None:
    """The process a probe section selects, or None when only the host is watched.

    Raises MeasurementError naming the selector when nothing (or more than one unrelated
    process) matches, or when the process cannot be read.
    """
    if not spec.enabled or not spec.selects_process:
        return None
    if spec.target:
        if target_pid is None:
            raise MeasurementError("probe: target needs a managed target, and none is running")
        return _by_pid(target_pid, f"target pid {target_pid}")
    if spec.pid is not None:
        return _by_pid(spec.pid, f"pid {spec.pid}")
    if spec.port is not None:
        return _by_port(spec.port)
    if spec.name is not None:
        return _by_name(spec.name)
    assert spec.cmdline is not None  # selects_process guarantees one selector
    return _by_cmdline(spec.cmdline)


def _by_pid(pid: int, label: str) -> psutil.Process:
    try:
        proc = psutil.Process(pid)
    except psutil.NoSuchProcess:
        raise MeasurementError(f"{label} does not exist") from None
    except psutil.AccessDenied:
        raise MeasurementError(f"{label}: access denied") from None
    return _readable(proc, label)


def _readable(proc: psutil.Process, label: str) -> psutil.Process:
    """Fail now, with the selector in the message, rather than mid-run in the sampler."""
    try:
        with proc.oneshot():
            if proc.status() == psutil.STATUS_ZOMBIE:
                raise MeasurementError(f"{label} has exited (zombie process {proc.pid})")
            proc.memory_info()
            proc.cpu_times()
    except psutil.NoSuchProcess:
        raise MeasurementError(f"{label} has exited (process {proc.pid})") from None
    except psutil.AccessDenied:
        raise MeasurementError(
            f"{label}: access denied reading process {proc.pid} (run as its user or root)"
        ) from None
    return proc


def _by_port(port: int) -> psutil.Process:
    pids = _listening_pids(port)
    if not pids:
        raise MeasurementError(f"no process listens on port {port}")
    procs = [p for p in (_existing(pid) for pid in sorted(pids)) if p is not None]
    proc = _only_one(procs, f"no process listens on port {port}", f"listen on port {port}")
    return _readable(proc, f"the process listening on port {port}")


def _listening_pids(port: int) -> set[int]:
    """Pids with a LISTEN socket on `port`: one system-wide table, a per-process scan only
    when that table is denied to us or hides a listener's owner."""
    try:
        conns = psutil.net_connections(kind="tcp")
    except psutil.AccessDenied:
        return _scan_listeners(port)
    found = {c.pid for c in conns if _listens(c, port)}
    if None not in found:
        return {pid for pid in found if pid is not None}
    pids = {pid for pid in found if pid is not None} | _scan_listeners(port)
    if not pids:
        raise MeasurementError(
            f"port {port}: something listens there, but its process is not visible to us "
            "(access denied; run as its user or root)"
        )
    return pids


def _listens(conn: Any, port: int) -> bool:
    return conn.status == psutil.CONN_LISTEN and bool(conn.laddr) and conn.laddr.port == port


def _scan_listeners(port: int) -> set[int]:
    pids: set[int] = set()
    for proc in psutil.process_iter():
        try:
            if any(_listens(c, port) for c in proc.net_connections(kind="tcp")):
                pids.add(proc.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return pids


def _existing(pid: int) -> psutil.Process | None:
    try:
        return psutil.Process(pid)
    except psutil.NoSuchProcess:
        return None


def _by_name(name: str) -> psutil.Process:
    mine = _self_and_ancestors()
    procs = [
        p
        for p in psutil.process_iter(["name", "status"])
        if p.info["name"] == name and p.pid not in mine and p.info["status"] != psutil.STATUS_ZOMBIE
    ]
    proc = _only_one(procs, f'no process is named "{name}"', f'are named "{name}"')
    return _readable(proc, f'the process named "{name}"')


def _by_cmdline(pattern: str) -> psutil.Process:
    regex, mine = re.compile(pattern), _self_and_ancestors()
    procs = [
        p
        for p in psutil.process_iter(["cmdline"])
        if p.pid not in mine and p.info["cmdline"] and regex.search(" ".join(p.info["cmdline"]))
    ]
    none = f'no process command line matches "{pattern}"'
    proc = _only_one(procs, none, f'have command lines matching "{pattern}"')
    return _readable(proc, f'the process matching cmdline "{pattern}"')


def _self_and_ancestors() -> set[int]:
    """Our own command line (or a wrapping shell's) may contain the pattern: never match it."""
    me = psutil.Process()
    return {me.pid} | {p.pid for p in me.parents()}


def _only_one(procs: list[psutil.Process], none: str, many: str) -> psutil.Process:
    """The single match; matches inside another match's tree (pre-fork workers sharing a
    listening socket, say) are covered by tree sampling, so only tree roots count."""
    roots = _tree_roots(procs)
    if not roots:
        raise MeasurementError(none)
    if len(roots) > 1:
        shown = ", ".join(_describe(p) for p in roots[:SHOWN_CANDIDATES])
        more = f" and {len(roots) - SHOWN_CANDIDATES} more" if len(roots) > SHOWN_CANDIDATES else ""
        raise MeasurementError(
            f"{len(roots)} processes {many}: {shown}{more}; select one by pid, port or cmdline"
        )
    return roots[0]


def _tree_roots(procs: list[psutil.Process]) -> list[psutil.Process]:
    pids = {p.pid for p in procs}
    roots = []
    for proc in procs:
        try:
            ancestors = {a.pid for a in proc.parents()}
        except psutil.Error:
            ancestors = set()
        if not ancestors & pids:
            roots.append(proc)
    return roots


def _describe(proc: psutil.Process) -> str:
    try:
        text = " ".join(proc.cmdline()) or proc.name()
    except psutil.Error:
        text = "?"
    return f"pid {proc.pid} ({text[:60]}{'…' if len(text) > 60 else ''})"
