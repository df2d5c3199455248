"""The live progress line: opens below pytest's line, redraws in place, leaves a record."""

from __future__ import annotations

from infratest.terminal import ProgressLine


def test_progress_line_redraws_and_resumes_pytest_line() -> None:
    written: list[str] = []
    line = ProgressLine(written.append, "p95-at-20", 15.0, resume="scenarios/a.yaml ")
    line({"event": "start"})  # not a progress update: ignored
    line({"t": 1.0, "users": 20, "rps": 391.6, "p95": 0.0074, "errors": 0})
    line({"t": 2.0, "users": 20, "rps": 388.0, "p95": None, "errors": 3})
    line.clear()
    line.clear()  # idempotent
    assert written[0] == "\np95-at-20: 1/15 s, 20 users, 392 req/s, p95 7.4ms, 0 errors"
    assert written[1] == "\r\x1b[2Kp95-at-20: 2/15 s, 20 users, 388 req/s, p95 n/a, 3 errors"
    assert written[2:] == ["\nscenarios/a.yaml "]
