"""`validate`: an answer with a status outside the accepted ones, or a body that does not
match the answer schema, is a failed request, classified by what was wrong (`status: 201`,
`schema: outputs.0.label: type`), with the body (truncated) as the example. Compiled once per
request kind inside the Locust process."""

from __future__ import annotations

import json
from typing import Any

from jsonschema import validators

from infratest.workloads.load_plan import RequestSpec
from infratest.workloads.trace_context import traced

SHOWN_BODY_CHARS = 200


class AnswerRejected(Exception):
    """A response that arrived but is not an acceptable answer."""

    def __init__(self, key: str, body: bytes) -> None:
        self.key = key
        self.example = f"{key}; body: {body[:SHOWN_BODY_CHARS].decode('utf-8', 'replace')}"
        super().__init__(self.example)


def _path(parts: Any) -> str:
    return ".".join(str(p) for p in parts) or "(root)"


class AnswerCheck:
    """What one kind of request accepts as an answer."""

    def __init__(self, spec: RequestSpec) -> None:
        self.statuses = frozenset(spec.accept_status)
        schema = spec.answer_schema
        self.validator = validators.validator_for(schema)(schema) if schema is not None else None

    @property
    def active(self) -> bool:
        return bool(self.statuses) or self.validator is not None

    def problem(self, status: int, body: bytes) -> AnswerRejected | None:
        """Why this answer is not acceptable, or None."""
        if self.statuses and status not in self.statuses:
            return AnswerRejected(f"status: {status}", body)
        if self.validator is None:
            return None
        try:
            document = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return AnswerRejected("schema: (root): not JSON", body)
        error = next(iter(self.validator.iter_errors(document)), None)
        if error is None:
            return None
        return AnswerRejected(f"schema: {_path(error.absolute_path)}: {error.validator}", body)


def send_checked(
    client: Any, method: str, url: str, check: AnswerCheck, *, trace: bool = True, **kwargs: Any
) -> None:
    """One request whose answer `check` judges (a connection error stays what it was), with
    its own trace context unless `trace` is off."""
    if trace:
        traced(kwargs)
    if not check.active:
        client.request(method, url, **kwargs)
        return
    with client.request(method, url, catch_response=True, **kwargs) as response:
        status = int(getattr(response, "status_code", 0) or 0)
        if status == 0:
            return
        problem = check.problem(status, response.content or b"")
        if problem is not None:
            response.failure(problem)
        else:
            response.success()
