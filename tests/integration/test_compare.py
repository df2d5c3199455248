"""Rollout comparison against real loopback servers of known behaviour: a slower candidate
fails its latency change, a same-speed one passes it, a failing one fails its error change,
answers are compared input by input, and interleaving keeps drift out of the deltas."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from infratest.execution import AssumptionResult, Runner
from infratest.hosts import free_port
from infratest.spec.config import Config
from infratest.verdict import Verdict
from tests.support.assumptions import behaviour_config, pair_config, run_assumption

pytestmark = [pytest.mark.load, pytest.mark.usefixtures("no_leftover_processes")]

WORK = "requests: [GET /work]"


def _verdicts(result: AssumptionResult) -> dict[str, Verdict]:
    return {c.metric: c.verdict for c in result.outcome.checks}


def _change(result: AssumptionResult, metric: str, kind: str = "relative") -> dict:
    return result.to_dict()["baseline"]["changes"][metric][kind]


def _compare(
    tmp_path: Path, config: Config, load: str, compare: str, expect: str, runner=None
) -> AssumptionResult:
    text = f"load: {{{load}}}\ncompare: {{{compare}}}\nexpect: {{{expect}}}\n"
    return run_assumption(tmp_path, config, text, runner=runner)


def test_a_slower_candidate_fails_its_latency_change(tmp_path: Path) -> None:
    config = pair_config(tmp_path, ["--delay", "0.05"], ["--delay", "0.06"])
    result = _compare(
        tmp_path,
        config,
        f"users: 4, duration: 16s, {WORK}",
        "candidate: cand",
        "latency.p95: <= +10%, latency.p50: <= +5ms, latency.mean: < 1s",
    )
    assert _verdicts(result) == {
        "latency.p95": Verdict.FAIL,
        "latency.p50": Verdict.FAIL,
        "latency.mean": Verdict.PASS,  # an unsigned bound: the candidate's own value
    }
    p95 = _change(result, "latency.p95")
    assert 0.10 < p95["ci_low"] <= p95["value"] < 0.30  # 60 ms over 50 ms, plus overhead
    p50 = _change(result, "latency.p50", "absolute")
    assert 0.008 < p50["value"] < 0.012
    mean = result.measurements.values["latency.mean"].value
    assert 0.058 < mean < 0.09  # the candidate's own latency, not the baseline's
    blocks = result.measurements.series["compare"]["blocks"]
    assert [b["side"] for b in blocks] == ["baseline", "candidate", "candidate", "baseline"] * 2
    slow = [b["p50_s"] for b in blocks if b["side"] == "candidate"]
    fast = [b["p50_s"] for b in blocks if b["side"] == "baseline"]
    assert min(slow) > max(fast)  # every block went to the side it was meant for
    assert "in 4 rounds of 2s blocks, A B B A A B B A" in " ".join(result.measurements.notes)


def test_same_speed_passes_and_more_errors_fail(tmp_path: Path) -> None:
    # 50 ms of service time: a busy machine's few ms of scheduling jitter stay well inside +15%
    config = pair_config(tmp_path, ["--delay", "0.05"], ["--delay", "0.05", "--error-every", "20"])
    result = _compare(
        tmp_path,
        config,
        f"users: 4, duration: 16s, {WORK}",
        "candidate: cand",
        "latency.p95: <= +15%, errors.rate: <= +1pp",
    )
    assert _verdicts(result) == {"latency.p95": Verdict.PASS, "errors.rate": Verdict.FAIL}, [
        c.reason for c in result.outcome.checks
    ]
    p95 = _change(result, "latency.p95")
    assert -0.15 < p95["ci_low"] <= p95["value"] <= p95["ci_high"] < 0.15  # about no change
    errors = _change(result, "errors.rate", "absolute")
    assert 0.035 < errors["value"] < 0.065
    assert errors["ci_low"] > 0.01
    requests = result.measurements.series["compare"]["requests"]
    assert requests["baseline"]["failed"] == 0
    assert requests["candidate"]["failed"] > 0


def _inputs(folder: Path, count: int) -> Path:
    path = folder / "inputs.jsonl"
    path.write_text("".join(json.dumps({"id": i, "x": [i, i * 0.5]}) + "\n" for i in range(count)))
    return path


def test_predictions_agreement_counts_each_disagreeing_input(tmp_path: Path) -> None:
    answer = ["--answer-json"]
    config = pair_config(
        tmp_path,
        answer,
        [*answer, "--disagree-every", "20"],
        {"close": [*answer, "--disagree-every", "1000"]},
    )
    _inputs(tmp_path, 1000)
    load = "users: 2, duration: 4s, requests: [{method: POST, path: /work, json: {id: 0}}]"
    expect = "predictions.agreement: '>= 99%'"
    shared = "rounds: 1, predictions: prediction, inputs: inputs.jsonl"
    runner = Runner(config)
    try:
        far = _compare(tmp_path, config, load, f"candidate: cand, {shared}", expect, runner)
        near = _compare(tmp_path, config, load, f"candidate: close, {shared}", expect, runner)
    finally:
        runner.close()
    assert _verdicts(far) == {"predictions.agreement": Verdict.FAIL}
    agreement = far.measurements.values["predictions.agreement"]
    assert 0.92 < agreement.value < 0.98 and agreement.method == "clopper-pearson"
    assert far.measurements.values["predictions.compared"].value == 1000
    shown = far.measurements.series["predictions"]["disagreements"]
    assert len(shown) == 20 and shown[0]["baseline"] != shown[0]["candidate"]
    assert json.loads(shown[0]["input"])["id"] == shown[0]["index"]
    assert _verdicts(near) == {"predictions.agreement": Verdict.PASS}, near.measurements.series[
        "predictions"
    ]["problems"]
    assert near.measurements.values["predictions.agreement"].value > 0.995


def test_interleaving_keeps_a_drift_out_of_the_change(tmp_path: Path) -> None:
    """Both targets slow down steadily (a drifting machine). Interleaved, the same-speed
    candidate shows no change beyond its interval; run one after the other, it looks slower."""
    epoch = f"{time.time():.3f}"
    drift = ["--delay", "0.01", "--drift-epoch", epoch, "--drift-per-s", "0.002"]
    config = pair_config(tmp_path, drift, drift)
    runner = Runner(config)
    expect = "latency.p50: <= +50%, latency.mean: <= +50%"
    try:
        abba = _compare(
            tmp_path, config, f"users: 2, duration: 16s, {WORK}", "candidate: cand", expect, runner
        )
        ab = _compare(
            tmp_path,
            config,
            f"users: 2, duration: 16s, {WORK}",
            "candidate: cand, rounds: 1",
            expect,
            runner,
        )
    finally:
        runner.close()
    for metric in ("latency.p50", "latency.mean"):
        change = _change(abba, metric)
        assert change["ci_low"] <= 0.0 <= change["ci_high"], (metric, change)
        assert _change(ab, metric)["ci_low"] > 0.10, (metric, _change(ab, metric))


def test_a_candidate_that_is_down_is_an_error_saying_so(tmp_path: Path) -> None:
    config = behaviour_config(tmp_path, "--delay", "0.01")
    document = json.loads((tmp_path / "config.yaml").read_text())
    document["targets"]["down"] = {"url": f"http://127.0.0.1:{free_port()}"}
    (tmp_path / "config.yaml").write_text(json.dumps(document))
    from infratest import load_config

    config = load_config(tmp_path / "config.yaml")
    started = time.monotonic()
    result = _compare(
        tmp_path,
        config,
        f"users: 2, duration: 4s, timeout: 1s, {WORK}",
        "candidate: down, rounds: 1",
        "latency.p95: <= +10%",
    )
    assert result.outcome.verdict == Verdict.ERROR
    assert "the candidate did not answer" in result.outcome.reason
    assert time.monotonic() - started < 60


@pytest.mark.parametrize(
    "load",
    [
        "rate: 40/s, duration: 8s",  # open model: the scheduled time picks the side
        "users: 2, duration: 8s, workers: 2",  # Locust workers, each on its own clock
    ],
)
def test_every_block_reaches_its_side_in_rate_mode_and_on_workers(
    tmp_path: Path, load: str
) -> None:
    config = pair_config(tmp_path, ["--delay", "0.02"], ["--delay", "0.04"])
    result = _compare(
        tmp_path, config, f"{load}, {WORK}", "candidate: cand, rounds: 2", "latency.p50: <= +50%"
    )
    assert _verdicts(result) == {"latency.p50": Verdict.FAIL}, result.outcome.reason
    blocks = result.measurements.series["compare"]["blocks"]
    assert [b["side"] for b in blocks] == ["baseline", "candidate", "candidate", "baseline"]
    for block in blocks:
        expected = 0.04 if block["side"] == "candidate" else 0.02
        assert expected <= block["p50_s"] < expected + 0.015, blocks


def test_an_input_the_candidate_fails_counts_as_a_disagreement(tmp_path: Path) -> None:
    config = pair_config(tmp_path, ["--answer-json"], ["--answer-json", "--error-every", "4"])
    _inputs(tmp_path, 40)
    result = _compare(
        tmp_path,
        config,
        "users: 1, duration: 4s, requests: [{method: POST, path: /work, json: {id: 0}}]",
        "candidate: cand, rounds: 1, predictions: prediction, inputs: inputs.jsonl",
        "predictions.agreement: '>= 99%'",
    )
    found = result.measurements.series["predictions"]
    failed = found["problems"]["candidate: HTTP 500"]
    assert 4 <= failed <= 16 and found["agreed"] + failed == found["compared"] == 40
    assert any(d["candidate"] == "HTTP 500" for d in found["disagreements"])
    assert _verdicts(result) == {"predictions.agreement": Verdict.FAIL}


def test_a_candidate_that_hangs_is_an_error_within_its_timeouts(tmp_path: Path) -> None:
    config = pair_config(tmp_path, ["--delay", "0.01"], ["--hang-after-requests", "0"])
    started = time.monotonic()
    result = _compare(
        tmp_path,
        config,
        f"users: 2, duration: 4s, timeout: 1s, {WORK}",
        "candidate: cand, rounds: 1",
        "latency.p95: <= +10%",
    )
    assert result.outcome.verdict == Verdict.ERROR
    assert "the candidate did not answer: timeout" in result.outcome.reason
    assert time.monotonic() - started < 60
