"""infratest: write down the infrastructure assumptions of an ML system and check them.

Scenario files (YAML) state what must hold for a target environment; the pytest plugin
turns each assumption into a test item whose verdict comes with the measured value,
its confidence interval and the reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # pragma: no cover
    from infratest.spec.config import Config
    from infratest.spec.scenario import Scenario

__all__ = ["__version__", "load_config", "load_scenario"]


def load_scenario(path: Any, config: Any = None) -> Scenario:
    """Load, validate and cross-check one scenario file against a config (path or model)."""
    from infratest.spec.loader import load_scenario as _load

    return _load(path, config)


def load_config(path: Any) -> Config:
    """Load and validate one environment config file."""
    from infratest.spec.loader import load_config as _load

    return _load(path)
