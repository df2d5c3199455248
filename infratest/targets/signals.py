"""The safety net: every live managed process is registered here, so atexit and SIGTERM can
stop them all even when the code that started them never reaches its `finally`."""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any, Protocol


class Stoppable(Protocol):
    """A launched process the safety net can stop; `pid` tells recycled pids apart."""

    pid: int

    def stop(self) -> int | None: ...


# Plain dict, no lock: stop_all() runs from signal handlers, where a held lock would deadlock.
_LIVE: dict[int, Stoppable] = {}


def register_live(proc: Stoppable) -> None:
    """Remember a process that has been launched and not yet reaped."""
    _LIVE[id(proc)] = proc


def forget_live(proc: Stoppable) -> None:
    """Drop a process once it is reaped; unknown processes are ignored."""
    _LIVE.pop(id(proc), None)


def live_processes() -> list[Stoppable]:
    """A snapshot of the registered processes (safe to iterate while they unregister)."""
    return list(_LIVE.values())


def stop_all() -> None:
    """Stop every live managed process; used by atexit and the SIGTERM handler."""
    for proc in live_processes():
        with contextlib.suppress(Exception):
            proc.stop()


atexit.register(stop_all)


def install_signal_handlers(signals: Sequence[int] = (signal.SIGTERM,)) -> None:
    """On SIGTERM stop all managed processes first, then behave as before (default: die)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in signals:
        previous = signal.getsignal(signum)
        if previous == signal.SIG_IGN or getattr(previous, "_infratest", False):
            continue
        signal.signal(signum, _make_handler(previous))


def _make_handler(previous: Any) -> Any:
    def handler(signum: int, frame: FrameType | None) -> None:
        stop_all()
        if callable(previous):
            previous(signum, frame)
            return
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    handler._infratest = True  # type: ignore[attr-defined]
    return handler
