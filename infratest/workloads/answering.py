"""A target that answered and then hung: every request sent after some second failed without
an answer (timed out, reset, refused). Its figures are not the target's steady behaviour, and
with all the failures in its last seconds the error-rate interval is honestly too wide to
fail on; so the run is an error that says where the answers stopped."""

from __future__ import annotations

from infratest.workloads.load_record import OutcomeCounts

# Seconds (1 s send windows) with failed requests and no answer at all, after the last
# answer, before a run counts as "stopped answering": one such second is a stall.
SILENT_WINDOWS = 2


def is_answer(kind: str) -> bool:
    """Whether a failure kind is still an answer from the target (a 500 is; a timeout,
    reset or refusal is not)."""
    return kind.startswith("HTTP ")


def ever_answered(outcomes: OutcomeCounts) -> bool:
    """Whether any request got an HTTP answer: a target that never did is down or hung."""
    return outcomes.total_ok > 0 or any(is_answer(k) for k in outcomes.kinds)


def _answered(outcomes: OutcomeCounts, window: int) -> int:
    """Requests sent in `window` that got an HTTP answer."""
    kinds = outcomes.kinds_at.get(window, {})
    return outcomes.ok.get(window, 0) + sum(n for k, n in kinds.items() if is_answer(k))


def stopped_answering_reason(outcomes: OutcomeCounts) -> str | None:
    """Why the run cannot stand, when the target answered and then stopped; else None.
    Requests merely unanswered when the run ended are not counted: a slow target's last
    requests are still in flight, not lost."""
    if not ever_answered(outcomes):
        return None  # never answered at all: the no-answer reason says how
    last = max(w for w in outcomes.ok.keys() | outcomes.kinds_at.keys() if _answered(outcomes, w))
    silent = sorted(w for w, n in outcomes.failed.items() if w > last and n > 0)
    if len(silent) < SILENT_WINDOWS:
        return None
    kinds: dict[str, int] = {}
    for w in silent:
        for kind, n in outcomes.kinds_at.get(w, {}).items():
            kinds[kind] = kinds.get(kind, 0) + n
    lost = sum(outcomes.failed[w] for w in silent)
    shown = ", ".join(f"{k} ×{n}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1]))
    return (
        f"the target stopped answering: no request sent in the {silent[-1] - last} s after "
        f"second {last + 1} of the run got an answer ({lost} failed: {shown})"
    )
