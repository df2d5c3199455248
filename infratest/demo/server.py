"""HTTP front of the demo model: a stdlib threading server with a deliberately slow start.

The listener opens at once but the model loads in the background after ``load_delay``
(standing in for fetching a large artifact), so readiness and cold start are observable:
``/healthz`` and ``/predict`` answer 503 until the model is in memory. ``/version`` names
the model variant (see :mod:`infratest.demo.variant`) at any time. ``/v1/chat/completions``
and ``/v1/completions`` answer like OpenAI's API from a small character model (see
:mod:`infratest.demo.chat_http`).
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
from prometheus_client import REGISTRY, generate_latest

from infratest.demo.chat_api import MODEL_NAME, ChatRequestError, parse_generation
from infratest.demo.chat_http import answer
from infratest.demo.chat_model import DEFAULT_CHAT_MODEL, CharModel, load_chat_model
from infratest.demo.model import DEFAULT_WEIGHTS, Model, load
from infratest.demo.payload import PayloadError, parse_request, render_prediction
from infratest.demo.variant import DEFAULT_VARIANT, Variant, apply, get

MAX_BODY_BYTES = 1 << 20
DRAIN_LIMIT_BYTES = 16 << 20  # larger unwanted bodies are not read; the connection closes
ROUTES = {
    "/healthz": "GET",
    "/metrics": "GET",
    "/predict": "POST",
    "/version": "GET",
    "/v1/models": "GET",
    "/v1/chat/completions": "POST",
    "/v1/completions": "POST",
}
GENERATION_KINDS = {"/v1/chat/completions": "chat", "/v1/completions": "text"}
DEFAULT_TOKEN_DELAY_S = 0.003
MODEL_ENTRY = {"id": MODEL_NAME, "object": "model", "created": 0, "owned_by": "infratest"}


@dataclass
class DemoState:
    """What the handlers share: the model once loaded, and the counters /metrics reports."""

    serialize_inference: bool = True
    variant: Variant = field(default_factory=lambda: get(DEFAULT_VARIANT))
    model: Model | None = None
    chat_model: CharModel | None = None
    token_delay: float = DEFAULT_TOKEN_DELAY_S
    load_error: str | None = None
    load_seconds: float | None = None
    requests: int = 0
    predictions: int = 0
    generated_tokens: int = 0
    started: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)
    inference_lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, requests: int = 0, predictions: int = 0, tokens: int = 0) -> None:
        with self.lock:
            self.requests += requests
            self.predictions += predictions
            self.generated_tokens += tokens

    def predict(self, model: Model, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One inference; serialised unless ``--threads``, like a single model worker."""
        if not self.serialize_inference:
            return model.predict(batch)
        with self.inference_lock:
            return model.predict(batch)


def load_in_background(
    state: DemoState, weights: Path, delay: float, chat_weights: Path = DEFAULT_CHAT_MODEL
) -> threading.Thread:
    """Load the models off the serving thread so the port answers (503) while they load."""

    def run() -> None:
        began = time.monotonic()
        time.sleep(delay)  # the simulated artifact download: the behaviour, not a wait
        path = weights
        try:
            model = apply(load(weights), state.variant)
            path = chat_weights
            chat_model = load_chat_model(chat_weights)
        except (OSError, ValueError, KeyError) as exc:
            state.load_error = f"cannot load {path}: {exc}"
            print(f"demo: {state.load_error}", file=sys.stderr, flush=True)
            return
        state.load_seconds = time.monotonic() - began
        state.chat_model = chat_model
        state.model = model  # last: /healthz says ok once both are in

    thread = threading.Thread(target=run, name="model-loader", daemon=True)
    thread.start()
    return thread


class HttpError(Exception):
    """An error answer; ``close`` when unread body bytes make the connection unusable."""

    def __init__(self, status: int, message: str, *, close: bool = False) -> None:
        super().__init__(message)
        self.status, self.message, self.close = status, message, close


class DemoServer(ThreadingHTTPServer):
    """Thread per connection; daemon threads so idle keep-alive clients never block exit."""

    daemon_threads = True
    request_queue_size = 128  # the default backlog of 5 drops SYNs when 20+ users connect

    def __init__(self, address: tuple[str, int], state: DemoState, access_log: bool) -> None:
        super().__init__(address, DemoHandler)
        self.state, self.access_log = state, access_log

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients that hang up mid-answer (load generators stopping) are not errors."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class DemoHandler(BaseHTTPRequestHandler):
    """Routes the three endpoints; every answer carries Content-Length for keep-alive."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    wbufsize = 64 * 1024  # headers and body leave in one send() at the final flush
    timeout = 60  # drop idle or stalled connections instead of pinning a thread forever
    server: DemoServer

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def log_message(self, format: str, *args: object) -> None:
        """Silent unless --access-log: a stderr line per request costs real throughput."""
        if self.server.access_log:
            super().log_message(format, *args)

    def _dispatch(self) -> None:
        self.server.state.count(requests=1)
        path = urlsplit(self.path).path
        try:
            self._route(path)
        except HttpError as exc:
            self._send_json(exc.status, {"error": exc.message}, close=exc.close)
        except ChatRequestError as exc:
            self._send_json(exc.status, exc.body())
        except PayloadError as exc:
            self._send_json(400, {"error": str(exc)})
        except OSError:  # the client vanished or stalled mid-body: nobody to answer
            self.close_connection = True
        except Exception as exc:  # a bug: answer 500 and keep serving the other clients
            print(f"demo: {self.command} {path} failed: {exc!r}", file=sys.stderr, flush=True)
            self._send_json(500, {"error": "internal error"}, close=True)

    def _route(self, path: str) -> None:
        method = ROUTES.get(path)
        if method is None or self.command != method:
            close = not self._discard_body()
            if method is None:
                raise HttpError(404, f"no such path: {path}", close=close)
            raise HttpError(405, f"{path} accepts {method} only", close=close)
        if path == "/predict":
            self._predict()
        elif path in GENERATION_KINDS:
            self._generate(GENERATION_KINDS[path])
        elif path == "/v1/models":
            self._send_json(200, {"object": "list", "data": [MODEL_ENTRY]})
        elif path == "/healthz":
            self._healthz()
        elif path == "/version":
            self._send_json(200, {"variant": self.server.state.variant.name})
        else:
            self._metrics()

    def _healthz(self) -> None:
        state = self.server.state
        if state.model is not None:
            self._send_json(200, {"status": "ok"})
        elif state.load_error is not None:
            self._send_json(503, {"status": "error", "error": state.load_error})
        else:
            self._send_json(503, {"status": "loading"})

    def _metrics(self) -> None:
        self._send(200, render_metrics(self.server.state).encode(), "text/plain; version=0.0.4")

    def _predict(self) -> None:
        body = self._read_body()
        state = self.server.state
        model = state.model
        if model is None:
            raise HttpError(503, state.load_error or "model is loading")
        batch, is_batch = parse_request(body, model.n_inputs)
        labels, probabilities = state.predict(model, batch)
        if state.variant.extra_service_s:
            time.sleep(state.variant.extra_service_s)  # the slower candidate; not under the lock
        state.count(predictions=len(labels))
        self._send_json(200, render_prediction(labels, probabilities, is_batch))

    def _generate(self, kind: str) -> None:
        body = self._read_body()
        state = self.server.state
        model = state.chat_model
        if model is None or state.model is None:
            message = state.load_error or "model is loading"
            raise ChatRequestError(message, None, status=503)
        generation = parse_generation(body, kind)
        state.count(tokens=answer(self, model, generation, state.token_delay))

    def _content_length(self) -> int | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            raise HttpError(411, "chunked bodies unsupported; send Content-Length", close=True)
        raw = self.headers.get("Content-Length")
        if raw is None:
            return None
        try:
            length = int(raw.strip(), 10)
        except ValueError:
            length = -1
        if length < 0:
            raise HttpError(400, f"invalid Content-Length: {raw!r:.40}", close=True)
        return length

    def _read_body(self) -> bytes:
        length = self._content_length()
        if length is None:
            raise HttpError(411, "Content-Length required")
        if length > MAX_BODY_BYTES:
            close = length > DRAIN_LIMIT_BYTES or not self._drain(length)
            raise HttpError(413, f"body exceeds {MAX_BODY_BYTES} bytes", close=close)
        body = self.rfile.read(length)
        if len(body) < length:
            raise HttpError(400, "body shorter than Content-Length", close=True)
        return body

    def _discard_body(self) -> bool:
        """Consume an unwanted body so the connection stays usable; False if we cannot."""
        try:
            length = self._content_length()
        except HttpError:
            return False
        if not length:
            return True
        return length <= DRAIN_LIMIT_BYTES and self._drain(length)

    def _drain(self, length: int) -> bool:
        """Read and drop a body: answering before the client finished sending makes the
        close reset the connection, and the client may never see our error response."""
        while length > 0:
            chunk = self.rfile.read(min(length, 64 * 1024))
            if not chunk:
                return False
            length -= len(chunk)
        return True

    def _send_json(self, status: int, payload: dict, *, close: bool = False) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json", close=close)

    def _send(self, status: int, body: bytes, content_type: str, *, close: bool = False) -> None:
        request_id = self.headers.get("x-request-id") if status >= 500 else None
        if request_id:  # a server error is logged with the id its caller can look up
            path = urlsplit(self.path).path
            sys.stderr.write(f"demo: {status} {self.command} {path} request_id={request_id}\n")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if status == 405:
            self.send_header("Allow", ROUTES.get(urlsplit(self.path).path, "GET"))
        if status == 503:
            self.send_header("Retry-After", "1")
        if close:
            self.send_header("Connection", "close")  # also sets self.close_connection
        self.end_headers()
        self.wfile.write(body)


def render_metrics(state: DemoState) -> str:
    """Prometheus text, so curl, scrapers and a `probe: {prometheus: /metrics}` can read it:
    the demo's counters, then prometheus-client's process metrics (RSS, CPU, descriptors)."""
    loaded = state.model is not None
    load_seconds = "NaN" if state.load_seconds is None else f"{state.load_seconds:.6f}"
    lines = [
        "# HELP demo_requests_total HTTP requests received, any path.",
        "# TYPE demo_requests_total counter",
        f"demo_requests_total {state.requests}",
        "# HELP demo_predictions_total Feature rows scored.",
        "# TYPE demo_predictions_total counter",
        f"demo_predictions_total {state.predictions}",
        "# HELP demo_generated_tokens_total Tokens generated by /v1/chat/completions and "
        "/v1/completions.",
        "# TYPE demo_generated_tokens_total counter",
        f"demo_generated_tokens_total {state.generated_tokens}",
        "# HELP demo_model_loaded 1 once the model is in memory.",
        "# TYPE demo_model_loaded gauge",
        f"demo_model_loaded {int(loaded)}",
        "# HELP demo_model_load_seconds Start of loading (incl. --load-delay) until ready.",
        "# TYPE demo_model_load_seconds gauge",
        f"demo_model_load_seconds {load_seconds}",
        "# HELP demo_uptime_seconds Seconds since the server started.",
        "# TYPE demo_uptime_seconds gauge",
        f"demo_uptime_seconds {time.monotonic() - state.started:.3f}",
    ]
    return "\n".join(lines) + "\n" + generate_latest(REGISTRY).decode()


def stop_on_signals(server: DemoServer) -> None:
    """SIGTERM/SIGINT end serve_forever cleanly; shutdown() must run off the serving thread."""

    def handle(signum: int, frame: object) -> None:
        threading.Thread(target=server.shutdown, name="shutdown", daemon=True).start()

    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, handle)


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    load_delay: float = 0.5,
    weights: Path = DEFAULT_WEIGHTS,
    threads: bool = False,
    access_log: bool = False,
    variant: str = DEFAULT_VARIANT,
    token_delay: float = DEFAULT_TOKEN_DELAY_S,
) -> int:
    """Run until SIGTERM/SIGINT; returns the process exit code."""
    state = DemoState(
        serialize_inference=not threads, variant=get(variant), token_delay=token_delay
    )
    server = DemoServer((host, port), state, access_log)
    stop_on_signals(server)
    load_in_background(state, weights, load_delay)
    bound_host, bound_port = server.server_address[:2]
    print(f"demo: listening on http://{bound_host}:{bound_port}", file=sys.stderr, flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
    print("demo: stopped", file=sys.stderr, flush=True)
    return 0
