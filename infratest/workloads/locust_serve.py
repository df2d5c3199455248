"""A warm Locust child: imports Locust once, then runs plan after plan on its parent's word.

Importing Locust and gevent costs about 1.4 s of CPU; a sweep, a capacity search or a
session of load assumptions starts a run every few seconds, so paying it once per session
instead of once per run is most of the time between their measured windows. Each run is a
fresh :class:`~infratest.workloads.locust_child.ChildRun` (its own Locust environment,
event hooks, users and connections), so nothing of one run reaches the next.

    python -m infratest.workloads.locust_serve

Commands arrive as JSON lines on stdin (:class:`~infratest.workloads.wire.RunCommand`,
:class:`~infratest.workloads.wire.StopCommand`); a run streams the one-shot child's lines
on stdout and then a `done` mark. The child ends when stdin closes (its parent is gone or
done with it) or on SIGTERM/SIGINT, which also end a run in progress as they would a
one-shot child's.
"""

import infratest.workloads.locust_child as one_shot  # noqa: I001  (imports Locust first)

import contextlib
import json
import logging
import signal
import sys
import traceback
from pathlib import Path

import gevent
import gevent.queue
from gevent.fileobject import FileObjectPosix
from locust.event import Events

from infratest.workloads.load_plan import LoadPlan
from infratest.workloads.run_recording import flush_and_exit, print_line
from infratest.workloads.wire import RUN_DONE, RunCommand, StopCommand, decode_command

EXIT_RUN_FAILED = 1


class WarmChild:
    """Reads commands cooperatively while the main greenlet runs one plan at a time."""

    def __init__(self) -> None:
        self.pending: gevent.queue.Queue[RunCommand | None] = gevent.queue.Queue()
        self.current: one_shot.ChildRun | None = None
        self.current_id: int | None = None
        self.closing = False

    def read_commands(self) -> None:
        """Stdin, line by line, without blocking the runs; EOF ends the child."""
        stdin = FileObjectPosix(sys.stdin.fileno(), "rb", close=False)
        for line in stdin:
            command = decode_command(line)
            if isinstance(command, RunCommand):
                self.pending.put(command)
            elif isinstance(command, StopCommand) and command.run == self.current_id:
                self._stop_current(signal.SIGUSR2 if command.hurry else signal.SIGUSR1)
        self._close(signal.SIGTERM)

    def on_signal(self, sig: signal.Signals) -> None:
        """SIGTERM/SIGINT end the child (a run in progress ends as a one-shot child's
        would); SIGUSR1/SIGUSR2 stop the run in progress, and mean nothing between runs."""
        if sig in (signal.SIGUSR1, signal.SIGUSR2):
            self._stop_current(sig)
        else:
            self._close(sig)

    def _stop_current(self, sig: signal.Signals) -> None:
        if self.current is not None:
            self.current.request_stop(sig)

    def _close(self, sig: signal.Signals) -> None:
        self.closing = True
        self._stop_current(sig)
        self.pending.put(None)

    def serve(self) -> int:
        gevent.spawn(self.read_commands)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGUSR2):
            gevent.signal_handler(sig, self.on_signal, sig)
        while True:
            command = self.pending.get()
            if command is None or self.closing:
                return 0
            code = self._run(command)
            print_line(json.dumps({"event": RUN_DONE, "run": command.run, "code": code}))

    def _run(self, command: RunCommand) -> int:
        """One plan, start to `Final`; a run that could not start is told by its exit code
        (the traceback goes to stderr, whose tail the parent reports)."""
        try:
            plan = LoadPlan.from_json(Path(command.plan_path).read_text())
            run = one_shot.ChildRun(plan, events=Events())
        except Exception:
            traceback.print_exc()
            return EXIT_RUN_FAILED
        run.serving = True
        self.current, self.current_id = run, command.run
        try:
            return run.execute(own_signals=False)
        except Exception:
            traceback.print_exc()
            with contextlib.suppress(Exception):
                run.finish()  # what was measured still reaches the parent
            return EXIT_RUN_FAILED
        finally:
            self.current, self.current_id = None, None


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    # Exit hard: greenlets of a killed runner must not keep the interpreter alive.
    flush_and_exit(WarmChild().serve())
