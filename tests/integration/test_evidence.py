"""`infratest run --evidence DIR` end to end against a behaviour server whose version answer
carries a secret from the environment: every part is in the bundle, `infratest verify`
passes, fails on one flipped byte naming the file, and the secret's bytes are in no file."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from infratest import cli

SERVER = Path(__file__).parent.parent / "support" / "behaviour_server.py"
pytestmark = pytest.mark.usefixtures("no_leftover_processes")
SECRET = "tok-7f3a9c1e-DO-NOT-LEAK"
KEY = "key-4b8d2e6f-DO-NOT-LEAK"

CONFIG = f"""\
targets:
  svc:
    url: http://127.0.0.1:{{port}}
    launch: ["{{python}}", "{SERVER}", --port, "{{port}}", --record-requests, requests.jsonl,
             --version-body, '{{"model": "m-1", "key": "${{MODEL_KEY}}"}}']
    ready: /healthz
    ready_timeout: 20s
    env: {{MODEL_KEY: "${{MODEL_KEY}}"}}
    version: /version
    artifact: ../model.bin
allow:
  hosts: [127.0.0.1]
"""

SCENARIO = """\
scenario: api
target: svc
assumptions:
  - name: answers
    load:
      users: 1
      duration: 1s
      requests: [GET /predict]
      headers: {Authorization: "Bearer ${API_TOKEN}"}
    expect:
      errors.rate: < 50%
"""

PARTS = {
    "results.json",
    "report.html",
    "summary.md",
    "junit.xml",
    "environment.json",
    "lineage.json",
    "inputs.json",
    "files/configs/local.yaml",
    "files/scenarios/api.yaml",
    "SHA256SUMS",
}


def _run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "local.yaml").write_text(CONFIG)
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "api.yaml").write_text(SCENARIO)
    (tmp_path / "model.bin").write_bytes(b"weights v1")
    monkeypatch.setenv("API_TOKEN", SECRET)
    monkeypatch.setenv("MODEL_KEY", KEY)
    command = [sys.executable, "-m", "infratest.cli", "run", "--evidence", "out/ev"]
    done = subprocess.run(
        [*command, "--", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "evidence bundle: " in done.stdout
    return tmp_path / "out" / "ev"


def test_a_bundle_holds_every_part_verifies_and_keeps_secrets_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = _run(tmp_path, monkeypatch)
    files = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()}
    assert files == PARTS
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["ev"]  # no staging left behind
    sent = [json.loads(line) for line in (tmp_path / "requests.jsonl").read_text().splitlines()]
    assert sent and all("authorization" in r["headers"] for r in sent)  # the secret was used
    for path in bundle.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
            assert KEY.encode() not in path.read_bytes(), path

    lineage = json.loads((bundle / "lineage.json").read_text())["targets"]["svc"]
    assert lineage["version"]["json"] == {"model": "m-1", "key": "${MODEL_KEY}"}  # redacted
    assert lineage["artifact"]["sha256"] == hashlib.sha256(b"weights v1").hexdigest()
    junit = ET.parse(bundle / "junit.xml")
    assert [case.get("name") for case in junit.iter("testcase")] == ["answers"]
    assert json.loads((bundle / "results.json").read_text())["summary"] == {"pass": 1}
    assert (bundle / "files/scenarios/api.yaml").read_text() == SCENARIO
    environment = json.loads((bundle / "environment.json").read_text())
    assert environment["dependencies"]["locust"] and "--evidence" in environment["command"]

    assert cli.main(["verify", str(bundle)]) == 0
    copy = bundle / "files/configs/local.yaml"
    data = bytearray(copy.read_bytes())
    data[10] ^= 0x20
    copy.write_bytes(bytes(data))
    capsys.readouterr()
    assert cli.main(["verify", str(bundle)]) == 1
    assert "changed: files/configs/local.yaml" in capsys.readouterr().err
