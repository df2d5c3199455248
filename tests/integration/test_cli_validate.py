"""`infratest validate` and `infratest schema` as a user runs them: a real subprocess."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent.parent


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "infratest.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_bundled_scenarios_validate() -> None:
    result = run("validate")
    assert result.returncode == 0, result.stderr
    assert "0 invalid" in result.stdout


def test_every_problem_of_every_file_and_exit_1(tmp_path: Path) -> None:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    bad = sorted((ROOT / "tests" / "fixtures" / "invalid").glob("*.yaml"))[20:24]
    for path in bad:
        shutil.copy(path, folder / path.name)
    shutil.copy(ROOT / "scenarios" / "online-inference.yaml", folder / "ok.yaml")
    shutil.copytree(ROOT / "scenarios" / "schemas", folder / "schemas")  # its fuzz schema
    shutil.copytree(ROOT / "scenarios" / "data", folder / "data")  # its recorded traffic
    result = run("validate", str(folder), "--config", str(ROOT / "tests/fixtures/config.yaml"))
    assert result.returncode == 1
    for path in bad:
        assert f"{path.name}:" in result.stderr
    assert "Traceback" not in result.stderr
    assert "5 files checked" in result.stdout and "1 valid, 4 invalid" in result.stdout


def test_unknown_environment_is_a_usage_error() -> None:
    result = run("validate", "--env", "nowhere")
    assert result.returncode == 2
    assert "no config for environment 'nowhere'" in result.stderr
    assert "local" in result.stderr  # lists the environments that exist


def test_invalid_config_is_reported_with_its_line(tmp_path: Path) -> None:
    config = ROOT / "tests" / "fixtures" / "invalid_configs"
    path = sorted(config.glob("*port-without-launch*"))[0]
    result = run("validate", "--config", str(path))
    assert result.returncode == 1
    assert ":4:" in result.stderr and "no launch command" in result.stderr


def test_schema_is_json() -> None:
    result = run("schema")
    assert result.returncode == 0
    assert "assumptions" in json.loads(result.stdout)["properties"]
    assert "targets" in json.loads(run("schema", "--config").stdout)["properties"]


def test_warnings_are_located_and_leave_the_exit_status_alone(tmp_path: Path) -> None:
    path = tmp_path / "doomed.yaml"
    path.write_text(
        "target: demo\nassumptions:\n  - name: port\n    network: {target: demo, samples: 50}\n"
        "    expect:\n      tcp.connect.p99: < 5ms\n"
    )
    result = run("validate", str(path))
    assert result.returncode == 0, result.stderr
    assert (
        f"{path}:6:24: warning: assumptions[0].expect.tcp.connect.p99: tcp.connect.p99 can "
        "never pass with samples: 50: a p99 at 95% confidence needs at least 299 samples"
    ) in result.stderr
    assert "1 valid, 0 invalid, 0 problems, 1 warning" in result.stdout
