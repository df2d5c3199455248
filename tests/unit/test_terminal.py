"""The live progress line: opens below pytest's line, redraws in place, leaves a record."""

from __future__ import annotations

from infratest.stats import Interval
from infratest.terminal import ProgressLine, check_summary
from infratest.units import parse_condition
from infratest.verdict import Check, Verdict
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


def _change_check() -> Check:
    condition = parse_condition("<= +10%")
    interval = Interval(0.16, 0.12, 0.239, 0.95, 1377, "window-bootstrap")
    return Check("latency.p95", condition, interval, Verdict.FAIL, "why", baseline=0.0241)


def test_check_summary_formats_a_change_as_a_change() -> None:
    assert check_summary(_change_check()) == (
        "fail: +16% (95% CI +12%..+23.9%) vs baseline 24.1ms <= +10%"
    )
    points = Check(
        "errors.rate",
        parse_condition("<= +1pp"),
        Interval(0.019, -0.0025, 0.041, 0.95, 1377, "bonferroni-windows"),
        Verdict.INCONCLUSIVE,
        "why",
        baseline=0.0,
    )
    assert check_summary(points) == (
        "inconclusive: +1.9pp (95% CI -0.25pp..+4.1pp) vs baseline 0% <= +1pp"
    )


def test_check_summary_of_an_own_value_is_unchanged() -> None:
    interval = Interval(0.0412, 0.0398, 0.0431, 0.95, 5400, "anytime-beta-mixture")
    check = Check("latency.p95", parse_condition("< 200ms"), interval, Verdict.PASS, "why")
    assert check_summary(check) == "pass: 41.2ms (95% CI 39.8ms..43.1ms) < 200ms"
