"""Targets: the systems a scenario talks to, either remote URLs or processes infratest manages.

A managed target is launched in its own process group with its output in a temp file, polled
until ready, and always stopped again (pool close, atexit, SIGTERM handler), so a test run never
leaves servers behind. Remote targets are never started; they only pass the host allow-list.

The modules, one job each: `spec` (what the config states, and the error), `readiness` (the
tcp/http probes), `managed` (one launched process), `signals` (the stop-all safety net) and
`pool` (the session's resolved targets).
"""

from infratest.targets.pool import Target, TargetPool
from infratest.targets.spec import TargetError, TargetSpec

__all__ = ["Target", "TargetError", "TargetPool", "TargetSpec"]
