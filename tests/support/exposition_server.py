"""A loopback HTTP server (port 0, in a thread) answering every GET with a status and body
the test sets and may change mid-run: exposition text, a 404, garbage, a failing phase."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    server: ExpositionServer

    def do_GET(self) -> None:
        status, body = self.server.answer()
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        """Silent."""


class ExpositionServer(ThreadingHTTPServer):
    """``with ExpositionServer(body) as s:`` serves `body` at ``s.url`` + any path."""

    daemon_threads = True

    def __init__(self, body: str = "", status: int = 200) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self._lock = threading.Lock()
        self.status, self.body, self.hits = status, body, 0
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def set(self, body: str | None = None, status: int | None = None) -> None:
        """Change what the next scrapes get."""
        with self._lock:
            self.body = self.body if body is None else body
            self.status = self.status if status is None else status

    def answer(self) -> tuple[int, str]:
        with self._lock:
            self.hits += 1
            return self.status, self.body

    def __enter__(self) -> ExpositionServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=5)
