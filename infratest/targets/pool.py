"""The session's resolved targets: each managed target starts once and is shared, remote ones
pass the allow-list, and closing the pool stops everything it launched."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from infratest.evidence.lineage import fetch_version
from infratest.hosts import HostNotAllowed, check_allowed
from infratest.processes import describe_exit
from infratest.targets.managed import ManagedProcess
from infratest.targets.spec import TargetError, TargetSpec


@dataclass
class Target:
    """What workloads talk to: a resolved URL, and for managed targets the running process."""

    name: str
    url: str
    spec: TargetSpec
    process: ManagedProcess | None = None
    version: dict[str, Any] | None = None  # what `version:` answered when it became ready

    def check_alive(self) -> None:
        """Raise TargetError when a managed target has died since it became ready."""
        if self.process is None or self.process.alive():
            return
        reason = f"died ({describe_exit(self.process.returncode)})"
        raise TargetError(reason, self.process.output_tail(), target=self.name)


class TargetPool:
    """Starts each managed target once per session, shares it, and stops them all at the end."""

    def __init__(self, specs: Mapping[str, TargetSpec], allow_hosts: Sequence[str]) -> None:
        self.specs = dict(specs)
        self.allow_hosts = tuple(allow_hosts)
        self._targets: dict[str, Target] = {}
        self._errors: dict[str, Exception] = {}
        self._processes: list[ManagedProcess] = []
        self._fresh: set[str] = set()
        self._lock = threading.Lock()
        self._closed = False

    def get(self, name: str) -> Target:
        """The shared target; a failed start is remembered and re-raised, never retried."""
        with self._lock:
            if self._closed:
                raise RuntimeError("target pool is closed")
            if name in self._targets:
                return self._targets[name]
            if name in self._errors:
                raise self._errors[name].with_traceback(None)
            try:
                target = self._resolve(name)
            except (TargetError, HostNotAllowed) as exc:
                self._errors[name] = exc
                raise
            if target.spec.version is not None:
                target.version = fetch_version(target.url, target.spec.version, self.allow_hosts)
            self._targets[name] = target
            return target

    def _resolve(self, name: str) -> Target:
        spec = self._spec(name)
        check_allowed(spec.url, self.allow_hosts)
        if not spec.managed:
            return Target(name, spec.url, spec)
        proc = self._register(ManagedProcess(spec))
        try:
            proc.start()
            proc.wait_ready()
        except TargetError:
            proc.stop()
            raise
        return Target(name, proc.url, spec, proc)

    def launch_fresh(self, name: str) -> ManagedProcess:
        """A new, separate, started (not yet ready) instance; call wait_ready() to time it."""
        with self._lock:
            spec = self._spec(name)
            if not spec.managed:
                raise TargetError("remote target cannot be launched", target=name)
            check_allowed(spec.url, self.allow_hosts)
            proc = self._register(ManagedProcess(spec))
            self._fresh.add(name)
        proc.start()
        return proc

    def used(self) -> dict[str, Target | None]:
        """Targets this session started or reached: the shared instance, or None for one
        only launched fresh (cold starts), whose version nobody asked."""
        with self._lock:
            used: dict[str, Target | None] = dict.fromkeys(self._fresh)
            used.update(self._targets)
            return used

    def _spec(self, name: str) -> TargetSpec:
        if self._closed:
            raise RuntimeError("target pool is closed")
        if name not in self.specs:
            known = ", ".join(sorted(self.specs)) or "(none)"
            raise KeyError(f"unknown target {name!r}; known targets: {known}")
        return self.specs[name]

    def _register(self, proc: ManagedProcess) -> ManagedProcess:
        self._processes.append(proc)
        return proc

    def close(self) -> None:
        """Stop every process this pool launched; idempotent and lock-free (runs in finally)."""
        self._closed = True
        for proc in reversed(list(self._processes)):
            with contextlib.suppress(Exception):
                proc.stop()

    def __enter__(self) -> TargetPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
