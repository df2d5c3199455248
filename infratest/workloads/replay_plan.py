"""A replay section and its recording turned into a load plan: the recorded requests grouped
into request kinds (method, path, content type), their URLs and bodies indexed once, their
offsets divided by `speed`, and as many requests allowed in flight as the recording needs."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from infratest.spec.replay_section import ReplaySpec
from infratest.spec.traffic_file import RecordedRequest, RecordedTraffic
from infratest.workloads.body_sources import answer_schema_of
from infratest.workloads.load_plan import LoadPlan, RequestSpec
from infratest.workloads.replay_timeline import NO_BODY, ReplayTimeline

# Path segments that are ids, named as one kind ("/users/{id}") so a recording of many users
# does not become thousands of request names.
_ID_SEGMENT = re.compile(r"^(\d+|[0-9a-fA-F-]{16,})$")


def peak_in_flight(offsets: Sequence[float], timeout_s: float) -> int:
    """The most requests due within any `timeout_s` span: what may be unanswered at once if
    each took its whole timeout."""
    times = np.asarray(offsets, dtype=float)
    if times.size == 0:
        return 1
    ends = np.searchsorted(times, times + timeout_s, side="left")
    return int(max((ends - np.arange(times.size)).max(), 1))


def request_name(request: RecordedRequest, keep_host: bool) -> str:
    """`METHOD /path`, id segments as `{id}`, with the host when it is kept."""
    path = "/".join("{id}" if _ID_SEGMENT.match(s) else s for s in request.path.split("/"))
    origin = (request.origin or "") if keep_host else ""
    return f"{request.method} {origin}{path}"


@dataclass
class _Indexer:
    """Distinct values in first-seen order, and each value's index."""

    values: dict[object, int]

    def index(self, value: object) -> int:
        return self.values.setdefault(value, len(self.values))

    def ordered(self) -> list:
        return list(self.values)


def replay_plan(
    traffic: RecordedTraffic, spec: ReplaySpec, url: str, max_in_flight_limit: int
) -> LoadPlan:
    """The load plan of a replay against the target at `url`."""
    requests = spec.kept(traffic)
    if not requests:
        raise ValueError(f"no request of {traffic.file} is left to replay (paths/duration)")
    keep_host = spec.hosts == "recorded"
    check = spec.answer_check
    accept = tuple(check.status or ()) if check else ()
    answer_schema = answer_schema_of(check)
    kinds, urls, payloads = _Indexer({}), _Indexer({}), _Indexer({})
    specs: list[RequestSpec] = []
    columns: tuple[list[int], list[int], list[int]] = ([], [], [])
    for r in requests:
        key = (r.method, request_name(r, keep_host), r.content_type, r.headers)
        kind = kinds.index(key)
        if kind == len(specs):
            headers = {**dict(r.headers), **spec.headers}
            if r.content_type:
                headers.setdefault("Content-Type", r.content_type)
            specs.append(
                RequestSpec(
                    method=r.method,
                    path=r.path,
                    headers=headers,
                    name=key[1],
                    accept_status=accept,
                    answer_schema=answer_schema,
                )
            )
        target = r.target if keep_host and r.origin else r.path_and_query
        columns[0].append(kind)
        columns[1].append(urls.index(target))
        columns[2].append(NO_BODY if r.body is None else payloads.index(r.body))
    offsets = tuple(round(r.t_s / spec.speed, 6) for r in requests)
    timeline = ReplayTimeline(
        offsets,
        *columns,
        urls=tuple(urls.ordered()),
        payloads=tuple(payloads.ordered()),
        speed=spec.speed,
    )
    duration = spec.run_length(requests)
    in_flight = spec.max_in_flight or peak_in_flight(offsets, spec.timeout)
    return LoadPlan(
        host=url,
        requests=tuple(specs),
        users=1,
        duration_s=duration,
        warmup_s=spec.warmup,
        timeout_s=spec.timeout,
        user_class=spec.user_class,
        rate_per_s=len(offsets) / duration,
        arrivals="uniform",
        max_in_flight=max(min(in_flight, max_in_flight_limit), 1),
        replay=timeline,
    )
