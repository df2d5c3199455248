"""The live progress line: opens below pytest's line, redraws in place, leaves a record."""

from __future__ import annotations

from infratest.terminal import ProgressLine
from infratest.verdict import Verdict
from infratest.workloads.live import LiveCheck, LiveStatus


def _status(t: float, errors: int, checks: tuple[LiveCheck, ...] = ()) -> LiveStatus:
    return LiveStatus(t=t, total_s=15.0, users=20, rps=391.6, errors=errors, checks=checks)


def test_progress_line_redraws_and_resumes_pytest_line() -> None:
    written: list[str] = []
    line = ProgressLine(written.append, "p95-at-20", 15.0, resume="scenarios/a.yaml ")
    check = LiveCheck("latency.p95", "< 200ms", "7.4ms (95% CI 6.9ms..8ms)", Verdict.PASS)
    line(_status(1.0, 0, (check,)))
    line(_status(2.0, 3))
    line.clear()
    line.clear()  # idempotent
    assert written[0] == (
        "\np95-at-20: 1/15 s, 20 users, 392 req/s, 0 errors"
        " | latency.p95 7.4ms (95% CI 6.9ms..8ms) pass"
    )
    assert written[1] == "\r\x1b[2Kp95-at-20: 2/15 s, 20 users, 392 req/s, 3 errors"
    assert written[2:] == ["\nscenarios/a.yaml "]


def test_progress_line_is_cut_to_the_terminal_width() -> None:
    written: list[str] = []
    line = ProgressLine(written.append, "x" * 100, 15.0, width=60)
    line(_status(1.0, 0))
    assert len(written[0]) == 61 and written[0].endswith("…")
