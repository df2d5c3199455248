"""The plugin's side of `--infratest-evidence DIR`: a staging folder from configure time on
(pytest's own JUnit XML is written into it when the user asked for none), and at session end
the bundle from what the session ran."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from infratest.evidence.bundle import BundleParts, Input, Staging, write_bundle
from infratest.evidence.environment import environment
from infratest.evidence.inputs import referenced_files
from infratest.evidence.lineage import artifact_digest
from infratest.evidence.redact import secret_values

if TYPE_CHECKING:
    from infratest.spec.config import Config
    from infratest.spec.scenario import Scenario
    from infratest.targets.pool import Target


def target_lineage(config: Config, used: Mapping[str, Target | None]) -> dict[str, Any]:
    """Per used target: its URL, what `version:` answered at start, the artifact's digest."""
    folder = Path(config.path).resolve().parent if config.path else Path.cwd()
    targets: dict[str, Any] = {}
    for name in sorted(used):
        spec, running = config.targets[name], used[name]
        entry: dict[str, Any] = {
            "url": running.url if running is not None else spec.url,
            "managed": spec.managed,
        }
        if spec.version is not None:
            fresh = {"error": "not fetched: only fresh instances of this target were started"}
            entry["version"] = running.version if running and running.version else fresh
        if spec.artifact is not None:
            entry["artifact"] = artifact_digest(folder / spec.artifact, spec.artifact)
        targets[name] = entry
    return {"targets": targets}


def _inputs(scenarios: list[Scenario], config: Config | None) -> list[Input]:
    found = [Input(Path(s.path), "scenario") for s in scenarios]
    if config is not None and config.path:
        found.append(Input(Path(config.path), "config"))
    found += [Input(path, "data") for s in scenarios for path in referenced_files(s)]
    return found


def _texts(inputs: list[Input]) -> list[str]:
    texts = []
    for item in inputs:
        try:
            texts.append(item.source.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            continue
    return texts


class EvidenceSession:
    """One bundle per pytest session; the staging folder exists until it is renamed."""

    def __init__(self, dest: str, pytest_config: pytest.Config) -> None:
        self.staging = Staging(Path(dest))
        self.error: str | None = None
        self.written: Path | None = None
        option = pytest_config.option
        if not getattr(option, "xmlpath", None):
            option.xmlpath = str(self.staging.junit)  # pytest writes it at session finish
        self.junit = Path(option.xmlpath)
        self._own_junit = self.junit == self.staging.junit

    def write(
        self,
        document: dict[str, Any],
        scenarios: list[Scenario],
        config: Config | None,
        used: Mapping[str, Target | None],
    ) -> None:
        """Gather and write the bundle; a failure to write is kept in `error`, not raised."""
        inputs = _inputs(scenarios, config)
        parts = BundleParts(
            document=document,
            junit=self.junit,
            inputs=inputs,
            environment=environment(Path.cwd()),
            lineage=target_lineage(config, used) if config is not None else {"targets": {}},
            secrets=secret_values(_texts(inputs), os.environ),
        )
        try:
            self.written = write_bundle(self.staging, parts, Path.cwd())
        except OSError as exc:
            self.error = f"evidence bundle not written: {exc}"
            self.staging.discard()

    def point_junit_line(self, pytest_config: pytest.Config) -> None:
        """pytest names the JUnit file it wrote; ours now lives in the bundle."""
        if not self._own_junit or self.written is None:
            return
        try:
            from _pytest.junitxml import xml_key
        except ImportError:  # pragma: no cover - pytest moved it; the line is cosmetic
            return
        xml = pytest_config.stash.get(xml_key, None)
        if xml is not None:
            xml.logfile = str(self.written / "junit.xml")

    def discard(self) -> None:
        """Leave no staging folder behind when the session never reached its end."""
        if self.written is None:
            self.staging.discard()
