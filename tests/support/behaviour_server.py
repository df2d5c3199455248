"""A test target whose behaviour is known in advance (run as a subprocess).

Integration tests point infratest at it and check that each measured figure matches the
behaviour asked for on the command line: service time, error ratio, crash, hang, slow
start, stalls past a timeout, a slow tail, periodic pauses, a slow phase after a fast one
(after some uptime, or from a wall-clock epoch second, so servers started apart slow down
together: a drifting environment; or slower by a fixed amount every second from an epoch
second, a steady drift), load shedding with 503s, memory leak, garbage-collector
churn without a leak, fixed RSS ballast, extra file descriptors and threads, a hard
concurrency cap (``--slots K --delay d`` serves at most K/d requests per second), and JSON
predictions (``--answer-json``: a POST answers ``{"prediction": P}``, P a hash of the body;
``--disagree-every N`` changes P for the bodies in 1/N of the hash space, so two servers
disagree on about 1 body in N of any set of distinct bodies), and a record of every POST body
received (``--record-bodies FILE``, a line each, in arrival order), and input validation
(``--validate-features``: 400 unless ``{"features": [4 finite numbers]}``;
``--crash-on-empty-features``: a 500 for an empty list, the bug a fuzz must find).

``GET /healthz`` always answers 200 at once and is not counted as a request; nor is
``GET /version`` with ``--version-body TEXT``, which answers TEXT as JSON, nor ``GET /metrics``
with ``--metrics``: prometheus-client's process metrics (its RSS, CPU seconds and open
descriptors, as an exporter would report them) and a request counter.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_BODY_BYTES = 1 << 20
PREDICTION_RANGE = 1000  # P lies in [0, 1000)


def prediction_for(body: bytes, disagree_every: int = 0) -> int:
    """The answer to a body: one part of its hash gives P, another picks the 1/N of bodies
    on which a --disagree-every N server answers differently (P + 1, wrapped)."""
    digest = hashlib.sha256(body).digest()
    prediction = int.from_bytes(digest[:8], "big") % PREDICTION_RANGE
    if disagree_every and int.from_bytes(digest[8:16], "big") % disagree_every == 0:
        return (prediction + 1) % PREDICTION_RANGE
    return prediction


class Behaviour:
    """The configured behaviour plus the request counter it keys on."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.count = 0
        self.count_lock = threading.Lock()
        self.slots = threading.BoundedSemaphore(args.slots) if args.slots else None
        self.leaked: list[bytes] = []
        self.forever = threading.Event()  # never set: what hung requests wait on
        self.started = time.monotonic()

    def record(self, body: bytes) -> None:
        """Append one received body as a line of --record-bodies (what was sent, in order)."""
        with self.count_lock, open(self.args.record_bodies, "ab") as out:
            out.write(body.replace(b"\n", b" ") + b"\n")

    def record_request(self, method: str, path: str, body: bytes, headers: Any) -> None:
        """Append one received request as a JSON line of --record-requests (when it arrived,
        what it was, which headers it carried), in arrival order."""
        line = {
            "at": time.time(),
            "method": method,
            "path": path,
            "body": body.decode("utf-8", "replace"),
            "content_type": headers.get("Content-Type", ""),
            "headers": sorted(k.lower() for k in headers),
            "traceparent": headers.get("traceparent"),
        }
        with self.count_lock, open(self.args.record_requests, "a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")

    def exposition(self) -> bytes:
        """Prometheus text of this process and its request count (prometheus-client is
        imported only with --metrics, so the server stays stdlib-only without it)."""
        from prometheus_client import REGISTRY, generate_latest

        lines = [
            "# TYPE behaviour_requests_total counter",
            f"behaviour_requests_total {self.count}",
        ]
        return generate_latest(REGISTRY) + ("\n".join(lines) + "\n").encode()

    def next_number(self) -> int:
        """1-based arrival number of a counted request."""
        with self.count_lock:
            self.count += 1
            return self.count

    def serve(self) -> int:
        """Status for one counted request, after applying every configured behaviour."""
        args, number = self.args, self.next_number()
        if args.die_after_requests is not None and number > args.die_after_requests:
            os._exit(3)  # abrupt on purpose: no flush, no socket close, no atexit
        if args.hang_after_requests is not None and number > args.hang_after_requests:
            self.forever.wait()
        if args.leak_kib_per_request:
            self.leaked.append(b"\x5a" * round(args.leak_kib_per_request * 1024))
        churn = churn_objects(args.churn_kib)  # alive for the request, garbage after it
        if self.slots is None:
            self.service_time(number)
        else:
            with self.slots:
                self.service_time(number)
        del churn
        if args.error_every and number % args.error_every == 0:
            return 500
        if args.shed_every and number % args.shed_every == 0:
            return 503
        return 200

    def service_time(self, number: int) -> None:
        """The known service time is the point of this server: a base delay, plus every Nth
        request's stall or extra tail, plus the periodic pause it arrived in, plus the slow
        phase after a while."""
        args = self.args
        delay = args.delay
        if args.slow_after_s is not None and time.monotonic() - self.started > args.slow_after_s:
            delay = args.slow_delay
        if args.slow_at_epoch is not None and time.time() >= args.slow_at_epoch:
            delay = args.slow_delay
        if args.drift_per_s:
            delay += args.drift_per_s * max(time.time() - args.drift_epoch, 0.0)
        if args.stall_every and number % args.stall_every == 0:
            delay += args.stall
        if args.tail_every and number % args.tail_every == 0:
            delay += args.tail_extra
        delay += self.pause_left()
        if delay > 0:
            time.sleep(delay)

    def pause_left(self) -> float:
        """Inside a periodic pause (a GC stop, a restarting dependency): wait until it ends."""
        if not self.args.pause_every:
            return 0.0
        phase = (time.monotonic() - self.started) % self.args.pause_every
        return max(self.args.pause_for - phase, 0.0)


def churn_objects(kib: int) -> list[object]:
    """About `kib` KiB of short-lived small objects, some in reference cycles, so a server
    without a leak still makes the allocator and the cyclic GC work (RSS wobbles, no trend)."""
    objects: list[object] = []
    for i in range(kib):
        chunk = {"i": i, "data": bytearray(640), "text": f"{i:08d}" * 16, "cycle": objects}
        objects.append(chunk)
    return objects


def features_status(body: bytes, crash_on_empty: bool) -> int | None:
    """--validate-features: 400 unless the body is {"features": [four finite numbers]}; an
    empty list is a 500 with --crash-on-empty-features (the bug a fuzz should find)."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return 400
    features = document.get("features") if isinstance(document, dict) else None
    if not isinstance(features, list):
        return 400
    if not features:
        return 500 if crash_on_empty else 400
    numbers = [x for x in features if isinstance(x, int | float) and not isinstance(x, bool)]
    if len(features) != 4 or len(numbers) != 4 or not all(math.isfinite(x) for x in numbers):
        return 400
    return None


class Handler(BaseHTTPRequestHandler):
    """Any path, GET or POST; keep-alive friendly and silent."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    wbufsize = 64 * 1024
    server: BehaviourServer

    def do_GET(self) -> None:
        body = self._read_body()
        if self.path.split("?", 1)[0] == "/healthz":
            self._answer(200)
            return
        args = self.server.behaviour.args
        if args.version_body is not None and self.path == "/version":
            self._answer(200, args.version_body.encode(), "application/json")
            return
        if args.metrics and self.path.split("?", 1)[0] == "/metrics":
            self._answer(200, self.server.behaviour.exposition(), "text/plain; version=0.0.4")
            return
        if args.record_requests:
            self.server.behaviour.record_request(self.command, self.path, body, self.headers)
        if args.validate_features and self.command == "POST":
            rejected = features_status(body, args.crash_on_empty_features)
            if rejected is not None:
                self._answer(rejected)
                return
        status = self.server.behaviour.serve()
        if args.log_requests:  # as a real server's access log: the request id it was sent
            request_id = self.headers.get("x-request-id", "-")
            line = f"{status} {self.command} {self.path} request_id={request_id}\n"
            sys.stderr.write(line)  # one write: lines of concurrent requests never interleave
        if args.record_bodies and self.command == "POST":
            self.server.behaviour.record(body)
        if status == 200 and args.answer_json and self.command == "POST":
            answer = {"prediction": prediction_for(body, args.disagree_every)}
            self._answer(200, json.dumps(answer).encode(), "application/json")
        else:
            self._answer(status)

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def log_message(self, format: str, *args: object) -> None:
        """No per-request stderr line: it would cap throughput and flood test output."""

    def _read_body(self) -> bytes:
        """The request body (read so keep-alive works); b"" when absent or unreadable."""
        raw = self.headers.get("Content-Length", "0")
        length = int(raw) if raw.isdigit() else -1
        if 0 < length <= MAX_BODY_BYTES:
            return self.rfile.read(length)
        if length != 0:
            self.close_connection = True
        return b""

    def _answer(self, status: int, body: bytes | None = None, content_type: str = "") -> None:
        if body is None:
            body = b"ok" if status == 200 else b"error"
        self.send_response(status)
        self.send_header("Content-Type", content_type or "text/plain")
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)


class BehaviourServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], behaviour: Behaviour) -> None:
        super().__init__(address, Handler)
        self.behaviour = behaviour

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients hanging up mid-answer are routine under load; keep stderr quiet."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def hold_resources(args: argparse.Namespace) -> list[object]:
    """Allocate the fixed ballast, descriptors and threads; the caller keeps them alive."""
    held: list[object] = []
    if args.ballast_mib:
        held.append(b"\x01" * (args.ballast_mib << 20))  # written, so it is resident
    held.extend(os.open(os.devnull, os.O_RDONLY) for _ in range(args.open_fds))
    idle = threading.Event()
    for i in range(args.threads_extra):
        thread = threading.Thread(target=idle.wait, name=f"idle-{i}", daemon=True)
        thread.start()
        held.append(thread)
    return held


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--port", type=int, required=True)
    add("--host", default="127.0.0.1")
    add("--delay", type=float, default=0.0, help="service time per request, seconds")
    add("--error-every", type=int, default=0, help="every Nth request answers 500")
    add("--die-after-requests", type=int, default=None, help="os._exit(3) on request N+1")
    add("--hang-after-requests", type=int, default=None, help="requests after N never answer")
    add("--startup-delay", type=float, default=0.0, help="seconds before listening")
    add("--leak-kib-per-request", type=float, default=0.0, help="KiB kept forever per request")
    add("--churn-kib", type=int, default=0, help="KiB of objects made and dropped per request")
    add("--ballast-mib", type=int, default=0, help="MiB allocated and touched at start")
    add("--open-fds", type=int, default=0, help="extra file descriptors opened at start")
    add("--threads-extra", type=int, default=0, help="idle threads started at start")
    add("--slots", type=int, default=0, help="at most K requests in service at once")
    add("--stall-every", type=int, default=0, help="every Nth request stalls --stall seconds")
    add("--stall", type=float, default=0.0, help="seconds a stalled request waits")
    add("--tail-every", type=int, default=0, help="every Nth request takes --tail-extra more")
    add("--tail-extra", type=float, default=0.0, help="extra seconds of a tail request")
    add("--pause-every", type=float, default=0.0, help="a pause every S seconds of uptime")
    add("--pause-for", type=float, default=0.0, help="how long each pause lasts, seconds")
    add("--slow-after-s", type=float, default=None, help="seconds of uptime before slowing")
    add("--slow-at-epoch", type=float, default=None, help="wall-clock epoch second to slow at")
    add("--slow-delay", type=float, default=0.0, help="service time once slow, seconds")
    add("--shed-every", type=int, default=0, help="every Nth request answers 503")
    add("--drift-epoch", type=float, default=0.0, help="epoch second a steady drift starts")
    add("--drift-per-s", type=float, default=0.0, help="service time added per second since")
    add("--record-bodies", default=None, help="append each POST body to this file, a line each")
    add("--record-requests", default=None, help="append each request (not /healthz) as JSON")
    add("--log-requests", action="store_true", help="a stderr line per request with its id")
    add("--validate-features", action="store_true", help='400 unless {"features": [4 numbers]}')
    add("--crash-on-empty-features", action="store_true", help="with it: 500 on features []")
    add("--metrics", action="store_true", help="GET /metrics: Prometheus process metrics")
    add("--answer-json", action="store_true", help='POST answers {"prediction": P}')
    add("--disagree-every", type=int, default=0, help="P differs on 1/N of bodies (hash)")
    add("--version-body", default=None, help="GET /version answers this (JSON), uncounted")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    held = hold_resources(args)
    if args.startup_delay > 0:
        time.sleep(args.startup_delay)  # the slow start under test
    server = BehaviourServer((args.host, args.port), Behaviour(args))

    def stop(signum: int, frame: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
    del held
    return 0


if __name__ == "__main__":
    sys.exit(main())
