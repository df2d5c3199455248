"""The typed contract between the Locust child and the parent: JSON lines on the child's stdout.

The child streams what it measured once a second (a :class:`Tick`), so the parent can decide
checks while the load runs and the child keeps nothing that grows with the run's length; a
:class:`Final` line closes the run. Latencies travel as HdrHistogram encodings (the standard,
compact wire form; microseconds, 3 significant digits), grouped in 1-second windows by the
second each request *started* in, counted from the start of the measured window.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

# HdrHistogram range: 1 us .. 1 h at 3 significant digits, so every value is within 0.1%.
HISTOGRAM_LOWEST_US = 1
HISTOGRAM_HIGHEST_US = 3_600_000_000
HISTOGRAM_DIGITS = 3


@dataclass(frozen=True)
class WindowDelta:
    """What finished since the last tick among requests that started in one window."""

    window: int
    ok_histogram: str | None  # HdrHistogram of successful latencies (us)
    failed_histogram: str | None  # HdrHistogram of failed requests' time to fail (us)
    ok: int
    failed: int
    timeouts: int
    kinds: dict[str, int] = field(default_factory=dict)  # failures by kind ("HTTP 500", ...)
    names: dict[str, int] = field(default_factory=dict)  # finished requests by request name
    # llm: HdrHistograms of successful requests' token timings ("llm.ttft", "llm.itl"), and
    # counts ("llm.tokens", "llm.good", "llm.usage": requests whose tokens the server counted)
    extra: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ArrivalWindow:
    """Open-model (rate) load: what became of one window's scheduled arrivals since the last
    tick. `capped` ones were sent late because `max_in_flight` was full (or the scheduler was
    still catching up after such a wait); `unsent` ones were due before the run stopped but
    never sent (counted once, at the end)."""

    window: int
    scheduled: int = 0
    sent: int = 0
    capped: int = 0
    unsent: int = 0


@dataclass(frozen=True)
class ArrivalsDelta:
    """The scheduler's news since the last tick: per-window counts and an HdrHistogram of how
    late it sent the arrivals it had a slot for (us), measured window only."""

    windows: tuple[ArrivalWindow, ...] = ()
    lag_histogram: str | None = None


@dataclass(frozen=True)
class Tick:
    """Once a second: the deltas, the requests still in flight, and the generator's lag."""

    t: float  # seconds since the run started
    users: int
    windows: tuple[WindowDelta, ...]
    in_flight: tuple[float, ...]  # start times (s since run start) of measured requests in flight
    lag_s: tuple[float, ...]  # scheduling-lag samples of the event loop since the last tick
    warmup_requests: int
    worker: str | None = None  # the Locust worker that measured it (distributed runs)
    cpu_cores: float | None = None  # that worker's own CPU over the last second, in cores
    arrivals: ArrivalsDelta | None = None  # rate mode only


@dataclass(frozen=True)
class Final:
    """The run's end: its measured window, what never finished, examples of failures, and
    the sizes of the pooled bodies it sent."""

    started_at: float  # epoch seconds
    measure_start: float  # s since run start
    measure_end: float  # s since run start
    ended_at: float  # s since run start, when unfinished requests were given up on
    unfinished: tuple[float, ...]  # start times (s since run start) of requests never finished
    examples: dict[str, list[str]]
    request_names: list[str]
    signalled: str | None  # the signal that ended the run early, if any
    reason: str
    worker: str | None = None  # the Locust worker whose run this ends (distributed runs)
    traces: dict[str, Any] = field(default_factory=dict)  # TraceLists.to_dict()
    # pooled requests: measured sends by body size, {name: {bytes (as text): sends}}
    body_sizes: dict[str, dict[str, int]] = field(default_factory=dict)
    # exceptions a user class raised outside a request (its task or on_start cut short)
    user_errors: int = 0
    first_user_error: str = ""


USER_CLASS_ERROR = "user_class_error"  # mark: the scenario's user class could not be loaded


def encode(message: Tick | Final) -> str:
    """One JSON line for the parent."""
    kind = "tick" if isinstance(message, Tick) else "final"
    return json.dumps({"event": kind, **asdict(message)}, separators=(",", ":"))


def decode(line: str) -> Tick | Final | dict[str, Any] | None:
    """A child line as its message; other JSON objects are returned as they are (marks);
    anything else (a stray print) is None."""
    try:
        data = json.loads(line)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    event = data.pop("event", None)
    if event == "tick":
        windows = tuple(WindowDelta(**w) for w in data.pop("windows"))
        arrivals = data.pop("arrivals", None)
        return Tick(
            arrivals=_arrivals(arrivals),
            windows=windows,
            in_flight=tuple(data.pop("in_flight")),
            lag_s=tuple(data.pop("lag_s")),
            **data,
        )
    if event == "final":
        return Final(unfinished=tuple(data.pop("unfinished")), **data)
    return {"event": event, **data}


def _arrivals(data: dict[str, Any] | None) -> ArrivalsDelta | None:
    if data is None:
        return None
    windows = tuple(ArrivalWindow(**w) for w in data.get("windows", ()))
    return ArrivalsDelta(windows=windows, lag_histogram=data.get("lag_histogram"))


# --- a warm child's commands (parent -> child, JSON lines on the child's stdin) -------------

RUN_DONE = "done"  # mark: a warm child finished one run ({"event": "done", "run", "code"})


@dataclass(frozen=True)
class RunCommand:
    """Run the plan in this file; its lines end with a `done` mark carrying the same number."""

    run: int
    plan_path: str


@dataclass(frozen=True)
class StopCommand:
    """End run `run` early: let requests in flight finish (decided), or not (`hurry`: failed)."""

    run: int
    hurry: bool


def encode_command(command: RunCommand | StopCommand) -> str:
    kind = "run" if isinstance(command, RunCommand) else "stop"
    return json.dumps({"command": kind, **asdict(command)}, separators=(",", ":"))


def decode_command(line: str | bytes) -> RunCommand | StopCommand | None:
    """A command line as its command; anything else is None (the child ignores it)."""
    try:
        data = json.loads(line)
        kind = data.pop("command")
        if kind == "run":
            return RunCommand(**data)
        return StopCommand(**data) if kind == "stop" else None
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
