"""The custom Locust messages between the infratest master and its workers (over Locust's
own ZeroMQ channel), and the marks the master prints for the parent besides Tick/Final lines.

worker -> master: READY {name} once its handlers are in place; ACCEPT / REFUSE {name, reason}
answering PLAN; TICK / FINAL {line}: a wire.py line, printed by the master as it is.
master -> worker: PLAN {plan, index, workers}; STOP {hurry, reason}.
"""

from __future__ import annotations

import json
from typing import Any

READY = "infratest_ready"
PLAN = "infratest_plan"
ACCEPT = "infratest_accept"
REFUSE = "infratest_refuse"
TICK = "infratest_tick"
FINAL = "infratest_final"
STOP = "infratest_stop"

# Marks on the master's stdout (JSON objects with an "event" key).
JOINED = "worker_joined"
LOST = "worker_lost"
FAILED = "fleet_error"


def mark(event: str, **fields: Any) -> str:
    """One JSON line for the parent."""
    return json.dumps({"event": event, **fields}, separators=(",", ":"))
