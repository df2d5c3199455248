"""The child's streaming recorder: per-window latency histograms and outcome counts, handed
to the parent once a second and then forgotten, so memory stays flat however long a run is.

Windows are keyed by the second a request *started* in (counted from the start of the
measured window): a request belongs to the load that was offered when it was sent, however
long it then took. Only windows that saw a completion since the last flush are alive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from hdrh.histogram import HdrHistogram

from infratest.workloads.llm_plan import LlmSample
from infratest.workloads.wire import (
    HISTOGRAM_DIGITS,
    HISTOGRAM_HIGHEST_US,
    HISTOGRAM_LOWEST_US,
    WindowDelta,
)

EXAMPLES_PER_KIND = 3
EXAMPLE_CHARS = 200


def _histogram() -> HdrHistogram:
    return HdrHistogram(HISTOGRAM_LOWEST_US, HISTOGRAM_HIGHEST_US, HISTOGRAM_DIGITS)


def to_us(seconds: float) -> int:
    """A latency as the histogram records it: whole microseconds, within its range."""
    return min(max(round(seconds * 1e6), HISTOGRAM_LOWEST_US), HISTOGRAM_HIGHEST_US)


@dataclass
class _Window:
    """What finished so far (since the last flush) among one window's requests."""

    ok_histogram: HdrHistogram | None = None
    failed_histogram: HdrHistogram | None = None
    ok: int = 0
    failed: int = 0
    timeouts: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    names: dict[str, int] = field(default_factory=dict)
    extra: dict[str, HdrHistogram] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def add_llm(self, sample: LlmSample) -> None:
        """A successful llm request's token timings (each inter-token gap is a sample)."""
        if sample.ttft_s is not None:
            self.extra_histogram("llm.ttft").record_value(to_us(sample.ttft_s))
        if sample.gaps_s:
            itl = self.extra_histogram("llm.itl")
            for gap in sample.gaps_s:
                itl.record_value(to_us(gap))
        for key, n in (
            ("llm.tokens", sample.tokens),
            ("llm.good", int(sample.good)),
            ("llm.usage", int(sample.from_usage)),
            ("llm.answers", 1),
        ):
            self.counts[key] = self.counts.get(key, 0) + n

    def extra_histogram(self, name: str) -> HdrHistogram:
        histogram = self.extra.get(name)
        if histogram is None:
            histogram = self.extra[name] = _histogram()
        return histogram

    def delta(self, window: int) -> WindowDelta:
        return WindowDelta(
            window=window,
            ok_histogram=_encoded(self.ok_histogram),
            failed_histogram=_encoded(self.failed_histogram),
            ok=self.ok,
            failed=self.failed,
            timeouts=self.timeouts,
            kinds=self.kinds,
            names=self.names,
            extra={k: h.encode().decode("ascii") for k, h in self.extra.items()},
            counts=self.counts,
        )


def _encoded(histogram: HdrHistogram | None) -> str | None:
    return histogram.encode().decode("ascii") if histogram is not None else None


class WindowRecorder:
    """Records finished requests into their start window; `flush` hands over the deltas."""

    def __init__(self, measure_start_s: float) -> None:
        self.measure_start_s = measure_start_s
        self._windows: dict[int, _Window] = {}
        self.warmup_requests = 0
        self.examples: dict[str, list[str]] = {}
        self.first_error = ""

    def window_of(self, start_s: float) -> int:
        """The measured window a request started in (negative during warm-up and ramp)."""
        return math.floor(start_s - self.measure_start_s)

    def record(
        self,
        start_s: float,
        latency_s: float,
        failure: str | None,
        example: str,
        name: str = "",
        llm: LlmSample | None = None,
    ) -> None:
        """One finished request: `failure` is its kind ("HTTP 500", "timeout", ...) or None;
        `name` is the request's name in the mix; `llm` its token timings (llm load)."""
        if failure is not None:
            self.first_error = self.first_error or example
            self._remember(failure, example)
        index = self.window_of(start_s)
        if index < 0:
            self.warmup_requests += 1
            return
        window = self._windows.get(index)
        if window is None:
            window = self._windows[index] = _Window()
        window.names[name] = window.names.get(name, 0) + 1
        if failure is None:
            window.ok += 1
            if window.ok_histogram is None:
                window.ok_histogram = _histogram()
            window.ok_histogram.record_value(to_us(latency_s))
            if llm is not None:
                window.add_llm(llm)
            return
        if llm is not None and llm.ttft_s is not None:  # a failed answer's (time to) first token
            window.extra_histogram("llm.ttft.failed").record_value(to_us(llm.ttft_s))
        window.failed += 1
        window.timeouts += failure == "timeout"
        window.kinds[failure] = window.kinds.get(failure, 0) + 1
        if window.failed_histogram is None:
            window.failed_histogram = _histogram()
        window.failed_histogram.record_value(to_us(latency_s))

    def _remember(self, kind: str, example: str) -> None:
        kept = self.examples.setdefault(kind, [])
        if len(kept) < EXAMPLES_PER_KIND and example not in kept:
            kept.append(example[:EXAMPLE_CHARS])

    def flush(self) -> tuple[WindowDelta, ...]:
        """Every window's news since the last flush; the recorder then holds nothing."""
        deltas = tuple(w.delta(i) for i, w in sorted(self._windows.items()))
        self._windows = {}
        return deltas
