"""The scenario's own Locust user (`user_class: module:Class`), loaded and wrapped in the child.

Imported only inside a Locust process (the user's module imports Locust, which monkey-patches
the process). The class runs as written (its tasks, `on_start`, `wait_time`), in a subclass
that points it at the target, bounds its requests by the load's `timeout`, counts them in
flight, and refuses, before sending, any request to a host that is neither the target nor in
`allow.hosts`. Its requests reach infratest's recorder through Locust's `request` event, like
infratest's own.

Importing in the child, not in a check process of the parent: the module is imported once,
in the process and with the `sys.path` it will run with, and validating a scenario never
starts Locust. A class that cannot run is reported as a `user_class_error` mark (the parent
makes it the assumption's error, with the file and line of `user_class`).
"""

from __future__ import annotations

import importlib
import sys
import time
import traceback
from types import ModuleType
from typing import TYPE_CHECKING, Any

from locust import FastHttpUser, HttpUser, User, between, constant
from locust.exception import RescheduleTask

from infratest.hosts import foreign_host
from infratest.workloads.load_plan import LoadPlan

if TYPE_CHECKING:
    from infratest.workloads.run_recording import RunRecording


class UserClassLoadError(Exception):
    """Why the scenario's user class cannot run, as a sentence for its author."""


class ForeignHost(RescheduleTask):
    """A request to a host that is neither the target nor allowed: never sent, recorded as a
    failure of its own kind, and the task it came from cut short (as Locust's RescheduleTask
    does: no traceback)."""

    def __init__(self, host: str) -> None:
        super().__init__(host)
        self.host = host
        self.key = f"host not allowed: {host}"

    def __str__(self) -> str:
        return f"{self.key} (a user class may send to the target and to allow.hosts only)"


def problem_text(plan: LoadPlan, exc: BaseException) -> str:
    """The error as the user reads it: where `user_class` is written, then what is wrong."""
    where = plan.user_class_at or f"user_class {plan.user_class}"
    return f"{where}: {exc}"


def describe_failure(exc: BaseException) -> str:
    """`Type: message`, and where in the user's code it was raised."""
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, SyntaxError):
        return text  # its message already names the file and line
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        text += f" (at {frames[-1].filename}:{frames[-1].lineno})"
    return text


def _import(name: str, paths: tuple[str, ...]) -> ModuleType:
    for folder in paths:  # after sys.path: a locustfile never shadows an installed module
        if folder not in sys.path:
            sys.path.append(folder)
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if name == missing or name.startswith(missing + "."):
            where = ", ".join(paths) or "the scenario's folder"
            raise UserClassLoadError(f"no module '{name}' on sys.path or in {where}") from None
        raise UserClassLoadError(f"importing '{name}' failed: {describe_failure(exc)}") from None
    except (Exception, SystemExit) as exc:  # the user's module raised while importing
        raise UserClassLoadError(f"importing '{name}' failed: {describe_failure(exc)}") from None


def _users_in(module: ModuleType) -> list[str]:
    return sorted(
        name
        for name, value in vars(module).items()
        if isinstance(value, type) and issubclass(value, User) and not value.abstract
    )


def load_user_class(reference: str, paths: tuple[str, ...] = ()) -> type[User]:
    """The class "module:Class" names, if it can run as a load's users; else
    UserClassLoadError saying why."""
    module_name, _, class_name = reference.partition(":")
    module = _import(module_name, paths)
    found = getattr(module, class_name, None)
    if found is None:
        known = _users_in(module)
        hint = f"; its Locust users: {', '.join(known)}" if known else ""
        raise UserClassLoadError(f"module '{module_name}' has no '{class_name}'{hint}")
    if not (isinstance(found, type) and issubclass(found, User)):
        what = f"class {found.__name__}" if isinstance(found, type) else type(found).__name__
        raise UserClassLoadError(f"{reference} is not a Locust User subclass (got {what})")
    if not issubclass(found, HttpUser | FastHttpUser):
        raise UserClassLoadError(
            f"{reference} is a Locust User but not an HttpUser or FastHttpUser: infratest "
            "checks where its self.client sends and times it"
        )
    if found.abstract:
        raise UserClassLoadError(f"{reference} is abstract (abstract = True): it cannot run")
    if not found.tasks:
        raise UserClassLoadError(f"{reference} has no tasks (@task methods or tasks = [...])")
    return found


def _guarded(user: Any, send: Any, plan: LoadPlan, run: RunRecording, fast: bool) -> Any:
    """`send` (the client's `request`, which get/post/... all call) refusing foreign hosts,
    with the load's timeout (HttpUser) and counted in flight."""

    def request(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        host = foreign_host(str(url), plan.host, plan.allow_hosts)
        if host is not None:
            refused = ForeignHost(host)
            user.environment.events.request.fire(
                request_type=method,
                name=kwargs.get("name") or str(url),
                response_time=0.0,
                response_length=0,
                response=None,
                context={},
                exception=refused,
                start_time=time.time(),
                url=url,
            )
            raise refused
        if not fast:  # requests has no session-wide timeout: every call gets the load's
            kwargs.setdefault("timeout", plan.timeout_s)
        run.in_flight.begin(time.time() - run.started_at)
        try:
            return send(method, url, *args, **kwargs)
        finally:
            run.in_flight.end()

    return request


def own_user_class(plan: LoadPlan, run: RunRecording) -> type[User]:
    """The scenario's class, pointed at the target and bounded like infratest's own users.
    Named PlanUser like those: a distributed master spawns users by that name."""
    base = load_user_class(plan.user_class, plan.user_class_paths)
    fast = issubclass(base, FastHttpUser)

    def __init__(self: Any, environment: Any) -> None:
        base.__init__(self, environment)
        if not fast and plan.headers:
            self.client.headers.update(plan.headers)
        self.client.request = _guarded(self, self.client.request, plan, run, fast)

    attrs: dict[str, Any] = {
        "host": plan.host,
        "abstract": False,
        "__init__": __init__,
        "__module__": base.__module__,
    }
    if plan.wait_given:
        wait = plan.wait_min_s, plan.wait_max_s
        attrs["wait_time"] = between(*wait) if wait[1] > wait[0] else constant(wait[0])
    if fast:
        attrs["network_timeout"] = plan.timeout_s
        attrs["connection_timeout"] = plan.timeout_s
        if plan.headers:
            attrs["default_headers"] = {**(base.default_headers or {}), **plan.headers}
    return type("PlanUser", (base,), attrs)
