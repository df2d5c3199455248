"""Running one assumption through the real runner from a test (or a benchmark): a config whose
managed target `svc` is a behaviour server, a one-assumption scenario, a runner that is always
closed. Kept in one place so every test builds them the same way."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from infratest import load_config, load_scenario
from infratest.execution import AssumptionResult, Runner
from infratest.spec.config import Config

SERVER = Path(__file__).parent / "behaviour_server.py"


def behaviour_launch(*flags: str) -> list[str]:
    """The launch command of a behaviour server with these flags."""
    return ["{python}", str(SERVER), "--port", "{port}", *flags]


def behaviour_config(
    folder: Path,
    *flags: str,
    url: str | None = None,
    launch: Sequence[str] | None = None,
    hosts: Sequence[str] = ("127.0.0.1",),
    extra: Mapping[str, Any] | None = None,
) -> Config:
    """A config with one target `svc`: a managed behaviour server, or a remote `url`;
    `extra` adds top-level sections (such as `generators`)."""
    if url is not None:
        target = {"url": url}
    else:
        command = list(launch) if launch is not None else behaviour_launch(*flags)
        target = {
            "url": "http://127.0.0.1:{port}",
            "launch": command,
            "ready": "/healthz",
            "ready_timeout": "20s",
        }
    document = {"targets": {"svc": target}, "allow": {"hosts": list(hosts)}, **(extra or {})}
    path = folder / "config.yaml"
    path.write_text(json.dumps(document, indent=2))  # JSON is YAML
    return load_config(path)


def _managed(flags: Sequence[str]) -> dict[str, Any]:
    return {
        "url": "http://127.0.0.1:{port}",
        "launch": behaviour_launch(*flags),
        "ready": "/healthz",
        "ready_timeout": "20s",
    }


def behaviour_config_text(*flags: str) -> str:
    """The text of a config whose one managed target `svc` is a behaviour server with these
    flags (JSON, which is YAML), for runs that read the config from a file themselves."""
    document = {"targets": {"svc": _managed(flags)}, "allow": {"hosts": ["127.0.0.1"]}}
    return json.dumps(document, indent=2)


def pair_config(
    folder: Path,
    baseline: Sequence[str],
    candidate: Sequence[str],
    others: Mapping[str, Sequence[str]] | None = None,
) -> Config:
    """A config with managed behaviour servers: `svc` (the baseline), `cand`, and `others`
    by name (more candidates)."""
    targets = {"svc": _managed(baseline), "cand": _managed(candidate)}
    targets.update({name: _managed(flags) for name, flags in (others or {}).items()})
    document = {"targets": targets, "allow": {"hosts": ["127.0.0.1"]}}
    path = folder / "config.yaml"
    path.write_text(json.dumps(document, indent=2))
    return load_config(path)


def run_assumption(
    folder: Path,
    config: Config,
    assumption: str,
    *,
    header: str = "target: svc",
    validate: bool = True,
    runner: Runner | None = None,
) -> AssumptionResult:
    """Write a scenario holding this one assumption (YAML, without the leading `- `), and
    run it; a runner made here is closed again, whatever happens."""
    body = textwrap.indent(textwrap.dedent(assumption), "    ")
    path = folder / "scenario.yaml"
    path.write_text(f"{header}\nassumptions:\n  - name: a\n{body}\n")
    scenario = load_scenario(path, config if validate else None)
    own = runner is None
    runner = runner or Runner(config)
    try:
        return runner.run(scenario, scenario.assumptions[0], "scenario.yaml::a")
    finally:
        if own:
            runner.close()
