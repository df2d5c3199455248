"""Finding the files a command works on: scenario files under paths, and the active config."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

DEFAULT_ENV = "local"
SCENARIO_SUFFIXES = (".yaml", ".yml")


class UsageError(Exception):
    """A command-line mistake (missing path, unknown environment): exit code 2."""


def config_path(env: str | None, config: str | None, root: Path | None = None) -> Path:
    """`--config FILE` wins; otherwise ``configs/<env>.yaml`` (env defaults to 'local')."""
    if env and config:
        raise UsageError("give either --env or --config, not both")
    if config:
        path = Path(config)
        if not path.is_file():
            raise UsageError(f"config file not found: {config}")
        return path
    folder = (root or Path.cwd()) / "configs"
    name = env or DEFAULT_ENV
    path = folder / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []
        listed = f" (environments here: {', '.join(known)})" if known else ""
        raise UsageError(f"no config for environment '{name}': {path} not found{listed}")
    return path


def scenario_files(paths: Sequence[str]) -> list[Path]:
    """Files as given, and every *.yaml / *.yml below each directory, sorted, each once."""
    found: list[Path] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            found += sorted(
                p for p in path.rglob("*") if p.suffix in SCENARIO_SUFFIXES and p.is_file()
            )
        elif path.is_file():
            found.append(path)
        else:
            raise UsageError(f"no such file or directory: {text}")
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())
