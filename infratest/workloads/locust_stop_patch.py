"""Keep Locust's stop from freezing the event loop while requests are still in flight.

`locust.runners.Runner.stop` starts by calling `inspect.stack()` only to log, at debug
level, where it was called from. `inspect.stack()` reads the source of every frame and
walks `sys.modules` for each: 80-120 ms of CPU here, during which no answer is read. Every
request in flight when a run ends (or is stopped early) then measured that much slower:
the top of the last second's latencies, and with it a short run's p95/p99, was the
generator's own pause. Locust already falls back to a plain message when the call
fails, so it is made to fail at once. Imported (which applies it) by every Locust process
of infratest, right after Locust itself.
"""

from __future__ import annotations

import inspect
from typing import Any, NoReturn

import locust.runners


class _InspectWithoutStack:
    """`inspect` as Locust's runners module sees it, minus the slow `stack()`."""

    def __getattr__(self, name: str) -> Any:
        return getattr(inspect, name)

    @staticmethod
    def stack(*args: Any, **kwargs: Any) -> NoReturn:
        raise RuntimeError("no stack walk while requests are in flight")


# Applied on import (like Locust's own patching), inside `locust.runners` only.
locust.runners.inspect = _InspectWithoutStack()  # type: ignore[assignment]
