"""Load generators kept warm for a session: one Locust child runs plan after plan.

A fresh child per run pays Python's start and Locust's import (about 1.4 s of CPU here)
before its first request; a sweep or a capacity search pays it at every step. A
`GeneratorPool` keeps a finished child and gives it the next plan instead. A child that
timed out, was interrupted, or failed a run is never reused: it is ended and reaped, and
the next run starts a new one. The session that opens a pool closes it (the runner, at
session end, Ctrl-C included); a child whose parent vanished ends when its stdin closes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import IO

import numpy as np

from infratest.workloads.child_process import (
    REAP_TIMEOUT_S,
    signal_child_group,
    spawn_module,
    stderr_tail,
    terminate,
)
from infratest.workloads.child_stream import ChildOutcome, StreamReader, Watcher
from infratest.workloads.cpu_sampler import THREAD_JOIN_S, CpuSampler
from infratest.workloads.load_record import LoadRecord
from infratest.workloads.wire import RunCommand, StopCommand, encode_command

STDIN_CLOSE_GRACE_S = 2.0  # an idle child exits at once; one mid-run writes its last lines


class WarmGenerator:
    """One warm Locust child (`locust_serve`): runs one plan at a time, told on its stdin."""

    def __init__(self, proc: subprocess.Popen[str], stderr: IO[bytes], folder: Path) -> None:
        self.proc, self._stderr, self._folder = proc, stderr, folder
        self._runs = 0
        self._write_lock = threading.Lock()
        self.reusable = True

    @classmethod
    def start(cls) -> WarmGenerator:
        folder = Path(tempfile.mkdtemp(prefix="infratest-generator-"))
        stderr = open(folder / "stderr.txt", "w+b")  # noqa: SIM115 (closed by close())
        proc = spawn_module("infratest.workloads.locust_serve", [], folder, stderr, subprocess.PIPE)
        return cls(proc, stderr, folder)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def _send(self, command: RunCommand | StopCommand) -> None:
        assert self.proc.stdin is not None
        with self._write_lock, contextlib.suppress(OSError, ValueError):  # a dead child
            self.proc.stdin.write(encode_command(command) + "\n")
            self.proc.stdin.flush()

    def run(
        self, plan_json: str, limit_s: float, record: LoadRecord, watcher: Watcher | None
    ) -> ChildOutcome:
        """Run one plan: stream it into `record` until its `done` mark, the child's end, or
        `limit_s` (then the child is ended). Ctrl-C ends the child too."""
        self._runs += 1
        run_id = self._runs
        plan_path = self._folder / f"plan-{run_id}.json"
        plan_path.write_text(plan_json)
        stderr_from = self._stderr.seek(0, os.SEEK_END)
        sampler = CpuSampler(self.proc.pid)
        assert self.proc.stdout is not None

        def send_stop(hurry: bool) -> None:
            self._send(StopCommand(run_id, hurry))

        reader = StreamReader(self.proc.stdout, sampler, record, watcher, send_stop, run_id=run_id)
        timed_out = False
        try:
            sampler.start()
            reader.start()
            self._send(RunCommand(run_id, str(plan_path)))
            reader.join(limit_s)
            timed_out = reader.is_alive()
        except BaseException:  # KeyboardInterrupt included: never leave the child behind
            self._end()
            raise
        finally:
            if timed_out:
                self._end()  # what it streamed until now is kept
            if reader.ident is not None:
                reader.join(THREAD_JOIN_S)
            sampler.halt()
            plan_path.unlink(missing_ok=True)
            if reader.done_code != 0:
                self.reusable = False  # hung, died, or failed a run: never given another
        code = reader.done_code
        if code is None:
            code = self.proc.returncode if self.proc.returncode is not None else -1
        cpu = np.asarray(sampler.samples, dtype=np.float64).reshape(-1, 2)
        tail = stderr_tail(self._stderr, since=stderr_from)
        return ChildOutcome(code, cpu, timed_out, reader.stop, tail)

    def _end(self) -> None:
        """End the child (stdin closed: it finishes a run in progress and exits; then
        SIGTERM, then SIGKILL) and reap it with any stray descendants."""
        self.reusable = False
        if self.proc.returncode is None:
            with contextlib.suppress(OSError, ValueError):
                if self.proc.stdin is not None:
                    self.proc.stdin.close()
            try:
                self.proc.wait(STDIN_CLOSE_GRACE_S)
            except subprocess.TimeoutExpired:
                terminate(self.proc)
        with contextlib.suppress(ProcessLookupError, PermissionError, subprocess.TimeoutExpired):
            signal_child_group(self.proc, signal.SIGKILL)  # the group id is not reused yet
            self.proc.wait(REAP_TIMEOUT_S)

    def close(self) -> None:
        """End and reap the child, then drop its streams and folder (no run is reading)."""
        self._end()
        for stream in (self.proc.stdout, self._stderr):
            with contextlib.suppress(OSError, ValueError):
                if stream is not None:
                    stream.close()
        shutil.rmtree(self._folder, ignore_errors=True)


class GeneratorPool:
    """The session's warm generators: a run takes an idle one (or starts one) and gives it
    back when it ended cleanly. Safe to share between threads; closing it reaps them all."""

    def __init__(self) -> None:
        self._idle: list[WarmGenerator] = []
        self._busy: set[WarmGenerator] = set()
        self._lock = threading.Lock()
        self._closed = False

    def run(
        self, plan_json: str, limit_s: float, record: LoadRecord, watcher: Watcher | None
    ) -> ChildOutcome:
        generator = self._take()
        try:
            return generator.run(plan_json, limit_s, record, watcher)
        finally:
            self._give_back(generator)

    def _take(self) -> WarmGenerator:
        with self._lock:
            if self._closed:
                raise RuntimeError("the session's load generators are closed")
            while self._idle:
                generator = self._idle.pop()
                if generator.alive:
                    break
                generator.close()
            else:
                generator = WarmGenerator.start()
            self._busy.add(generator)
            return generator

    def _give_back(self, generator: WarmGenerator) -> None:
        with self._lock:
            self._busy.discard(generator)
            keep = not self._closed and generator.reusable and generator.alive
            if keep:
                self._idle.append(generator)
        if not keep:
            generator.close()

    @property
    def pids(self) -> list[int]:
        """Pids of the generators this pool holds (idle or running a plan)."""
        with self._lock:
            return [g.proc.pid for g in [*self._idle, *self._busy] if g.alive]

    def close(self) -> None:
        """End and reap every generator, idle or busy (a busy one's run then ends)."""
        with self._lock:
            self._closed = True
            generators = [*self._idle, *self._busy]
            self._idle.clear()
        for generator in generators:
            generator.close()
