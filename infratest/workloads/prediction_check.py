"""Do the baseline and the candidate answer the same inputs the same way? Each input body
is sent to both (a few inputs at a time, after the load so it does not disturb the timing),
and the answers at the dot path are compared. An input either side failed to answer counts
as a disagreement: "answers the same" is what a rollout needs, and a failure is not that."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from infratest.spec.compare_section import CompareSpec
from infratest.workloads.answers import MISSING, abs_diff, agree, answer_at
from infratest.workloads.load_plan import RequestSpec

PARALLEL_INPUTS = 4
SHOWN_DISAGREEMENTS = 20
SHOWN_CHARS = 300


@dataclass(frozen=True)
class Answer:
    """One side's answer to one input: the value at the path, or why there is none."""

    value: Any = MISSING
    problem: str | None = None

    def shown(self) -> str:
        return self.problem if self.problem else _short(self.value)


@dataclass(frozen=True)
class Disagreement:
    """An input the two answered differently, with both answers (truncated)."""

    index: int
    input: str
    baseline: str
    candidate: str

    def to_dict(self) -> dict[str, object]:
        return self.__dict__.copy()


@dataclass
class PredictionComparison:
    """What the inputs showed: how many were compared and agreed, and the first
    disagreements."""

    compared: int = 0
    agreed: int = 0
    max_abs_diff: float | None = None
    problems: dict[str, int] = field(default_factory=dict)
    disagreements: list[Disagreement] = field(default_factory=list)
    skipped: int = 0  # inputs left unsent when the time budget ran out

    def to_dict(self) -> dict[str, object]:
        return {
            "compared": self.compared,
            "agreed": self.agreed,
            "max_abs_diff": self.max_abs_diff,
            "problems": dict(self.problems),
            "skipped": self.skipped,
            "disagreements": [d.to_dict() for d in self.disagreements],
        }


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


_sessions = threading.local()
# Only a connection that never opened is retried: the input was not sent, so nothing is
# counted twice; a request that was sent and failed stays a failure.
CONNECT_RETRIES = Retry(total=None, connect=3, read=0, status=0, other=0, backoff_factor=0.05)


def _session() -> requests.Session:
    """One keep-alive session per sending thread (a connection per input would run a small
    server's listen queue over)."""
    session = getattr(_sessions, "session", None)
    if session is None:
        session = requests.Session()
        session.mount("http://", HTTPAdapter(max_retries=CONNECT_RETRIES))
        session.mount("https://", HTTPAdapter(max_retries=CONNECT_RETRIES))
        _sessions.session = session
    return session


def ask(url: str, request: RequestSpec, body: Any, path: str, timeout_s: float) -> Answer:
    """Send one input to one target and read the answer at `path`."""
    headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
    headers.setdefault("Content-Type", "application/json")
    try:
        response = _session().request(
            request.method,
            url + request.path,
            data=json.dumps(body),
            headers=headers,
            timeout=timeout_s,
        )
        raw = response.content
    except requests.RequestException as exc:
        return Answer(problem=f"no answer: {type(exc).__name__}")
    if response.status_code >= 400:
        return Answer(problem=f"HTTP {response.status_code}")
    try:
        document = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return Answer(problem="answer is not JSON")
    value = answer_at(document, path)
    if value is MISSING:
        return Answer(problem=f"answer has no {path}")
    return Answer(value)


class _Tally:
    """Folds each input's pair of answers into the comparison."""

    def __init__(self, spec: CompareSpec) -> None:
        self.spec = spec
        self.result = PredictionComparison()

    def add(self, index: int, body: Any, baseline: Answer, candidate: Answer) -> None:
        result, spec = self.result, self.spec
        result.compared += 1
        for side, answer in (("baseline", baseline), ("candidate", candidate)):
            if answer.problem:
                key = f"{side}: {answer.problem}"
                result.problems[key] = result.problems.get(key, 0) + 1
        both = baseline.problem is None and candidate.problem is None
        if both and agree(baseline.value, candidate.value, spec.tolerance, spec.agree_on):
            result.agreed += 1
        elif len(result.disagreements) < SHOWN_DISAGREEMENTS:
            shown = Disagreement(index, _short(body), baseline.shown(), candidate.shown())
            result.disagreements.append(shown)
        if both:
            diff = abs_diff(baseline.value, candidate.value)
            if diff is not None:
                result.max_abs_diff = max(diff, result.max_abs_diff or 0.0)


def compare_predictions(
    urls: tuple[str, str],
    request: RequestSpec,
    bodies: list[Any],
    spec: CompareSpec,
    timeout_s: float,
    budget_s: float,
) -> PredictionComparison:
    """Every input to both targets, a few at a time, until done or `budget_s` has passed."""
    assert spec.predictions is not None
    tally, deadline = _Tally(spec), time.monotonic() + budget_s
    path = spec.predictions

    def pair(body: Any) -> tuple[Answer, Answer]:
        if time.monotonic() > deadline:
            return Answer(problem="skipped"), Answer(problem="skipped")
        return tuple(ask(url, request, body, path, timeout_s) for url in urls)  # type: ignore[return-value]

    pool = ThreadPoolExecutor(max_workers=PARALLEL_INPUTS, thread_name_prefix="predict")
    try:
        for index, (body, (a, b)) in enumerate(zip(bodies, pool.map(pair, bodies), strict=True)):
            if a.problem == "skipped":
                tally.result.skipped += 1
                continue
            tally.add(index, body, a, b)
    finally:  # on Ctrl-C too: what is queued is dropped, what is in flight ends by its timeout
        pool.shutdown(wait=True, cancel_futures=True)
    return tally.result
