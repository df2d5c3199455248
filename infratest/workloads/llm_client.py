"""The `llm` load's client: each request is one OpenAI-compatible completion, its answer
streamed and read line by line as it arrives (FastHttpUser's geventhttpclient response,
`readline`, so a token is timed when its line lands, not when a read buffer fills).

Locust's request event still fires once per request, with the whole answer's time (e2e), so
the recorder, the errors and the early stop see an llm request like any other; the token
timings ride along in the request's context for the recorder. Imported only inside a Locust
process (after `locust` has patched it), never by the parent."""

from __future__ import annotations

import functools
import itertools
import json
import math
import time
from typing import Any

from infratest.workloads.answer_check import AnswerCheck
from infratest.workloads.llm_plan import LlmPlan, LlmSample
from infratest.workloads.load_plan import LoadPlan
from infratest.workloads.locust_open import SCHEDULED_KEY
from infratest.workloads.sse import (
    CHARS_PER_TOKEN_ESTIMATE,
    StreamError,
    StreamTally,
    content_of,
    usage_tokens,
)
from infratest.workloads.trace_context import traced

LLM_KEY = "infratest_llm"  # request context: the request's LlmSample, for the recorder


def _abandon(raw: Any) -> None:
    """A stream left mid-way: close its connection rather than return it to the pool with
    unread bytes (geventhttpclient's pool response keeps both as private attributes)."""
    sock, pool = getattr(raw, "_sock", None), getattr(raw, "_pool", None)
    if sock is not None and pool is not None:
        pool.release_socket(sock)
    if hasattr(raw, "_sock"):
        raw._sock, raw._pool = None, None


def _failed_sample(meta: dict[str, Any], context: dict[str, Any], ttft_s: float) -> None:
    """A failed streamed request's time to first token: when its first token came, or, when
    none did, its time to fail (so it is over any TTFT bound below that: `latency_of: all`)."""
    context[LLM_KEY] = LlmSample(ttft_s=ttft_s, gaps_s=(), tokens=0, from_usage=False, good=False)
    meta["context"] = context


class LlmSender:
    """Sends the plan's llm requests (prompts round and round); called like `send_checked`."""

    def __init__(self, plan: LoadPlan) -> None:
        assert plan.llm is not None
        self.llm: LlmPlan = plan.llm
        self.timeout_s = plan.timeout_s
        self.trace = plan.trace_headers
        self.prompt = itertools.count()

    def __call__(
        self, client: Any, method: str, url: str, check: AnswerCheck, **kwargs: Any
    ) -> None:
        if self.trace:
            traced(kwargs)
        headers = dict(kwargs.pop("headers", None) or {})
        headers.setdefault("Content-Type", "application/json")
        headers.setdefault("Accept", "text/event-stream" if self.llm.stream else "application/json")
        kwargs["data"] = self.llm.body(next(self.prompt))
        stream = self.llm.stream
        with client.request(
            method, url, catch_response=True, stream=stream, headers=headers, **kwargs
        ) as response:
            meta = response.request_meta
            started = float(meta["start_time"])
            context = meta.get("context") or {}
            origin = float(context.get(SCHEDULED_KEY, started))
            if meta.get("exception") is not None:
                if stream:
                    _abandon(getattr(response, "_response", None))
                    _failed_sample(meta, context, time.time() - origin)
                return  # refused, HTTP error or no connection: reported as it is
            try:
                if stream:
                    sample = self._read(response, started, origin)
                else:
                    sample = self._whole(response, origin)
            except StreamError as exc:
                meta["response_time"] = (time.time() - started) * 1000.0
                if stream:
                    _failed_sample(meta, context, exc.first_token_s or time.time() - origin)
                response.failure(exc)
                return
            meta["response_time"] = (time.time() - started) * 1000.0
            context[LLM_KEY] = sample
            meta["context"] = context
            response.success()

    def _read(self, response: Any, started: float, origin: float) -> LlmSample:
        """Read the SSE stream to its end; token times are from `origin` (the scheduled send
        time in rate mode, else the send)."""
        raw = response._response
        tally = StreamTally()
        deadline = started + self.timeout_s
        try:
            while True:
                line = raw.readline(b"\n")
                now = time.time()
                if not line:
                    break
                tally.feed(line, now - origin)
                if now > deadline:
                    raise StreamError("timeout", f"the answer took over {self.timeout_s:g} s")
        except StreamError as exc:
            _abandon(raw)
            exc.first_token_s = tally.first_token_s
            raise
        except Exception as exc:  # a reset or cut connection mid-stream, or a silent one
            _abandon(raw)
            timed_out = isinstance(exc, TimeoutError) or "timed out" in str(exc).lower()
            key = "timeout" if timed_out else "stream ended early"
            error = StreamError(key, f"{type(exc).__name__}: {exc}")
            error.first_token_s = tally.first_token_s
            raise error from None
        try:
            tally.check_complete()
        except StreamError as exc:
            exc.first_token_s = tally.first_token_s
            raise
        return self._sample(tally, time.time() - origin)

    def _sample(self, tally: StreamTally, e2e_s: float) -> LlmSample:
        gaps = tuple(tally.gaps_s)
        mean_itl = sum(gaps) / len(gaps) if gaps else None
        return LlmSample(
            ttft_s=tally.first_token_s,
            gaps_s=gaps,
            tokens=tally.tokens,
            from_usage=tally.usage is not None,
            good=self.llm.meets_slo(tally.first_token_s, mean_itl, e2e_s),
        )

    def _whole(self, response: Any, origin: float) -> LlmSample:
        """A non-streamed answer: e2e only; tokens from `usage`, else estimated by length."""
        try:
            answer = json.loads(response.content or b"")
        except ValueError:
            raise StreamError("bad answer", "not JSON") from None
        if not isinstance(answer, dict):
            raise StreamError("bad answer", "not a JSON object")
        e2e = time.time() - origin
        usage = usage_tokens(answer)
        tokens = usage
        if tokens is None:
            tokens = math.ceil(len(content_of(answer)) / CHARS_PER_TOKEN_ESTIMATE)
        good = self.llm.meets_slo(None, None, e2e)  # ttft bounds need stream (validated)
        return LlmSample(None, (), tokens, usage is not None, good)


def sender_for(plan: LoadPlan) -> Any:
    """How this plan's requests are sent: the llm client, or `send_checked`."""
    from infratest.workloads.answer_check import send_checked

    if plan.llm is not None:
        return LlmSender(plan)
    return functools.partial(send_checked, trace=plan.trace_headers)
