"""A loopback OpenAI-compatible server with known timing, for the `llm` workload's tests:
POST /v1/chat/completions and /v1/completions answer `--tokens` tokens, the first after
`--ttft` seconds and then one every `--itl` seconds, as server-sent events (or, when the
request says `"stream": false`, one JSON answer after the whole time). `--usage` adds the
final usage chunk; `--drop-after K` cuts the connection after K tokens; `--stall-every N` holds
every Nth request `--stall` seconds before its first token; GET /healthz is 200."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def chunk(api: str, text: str) -> dict[str, Any]:
    """One streamed chunk of `api`'s shape."""
    if api == "chat":
        return {
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {"content": text}}],
        }
    return {"object": "text_completion", "choices": [{"index": 0, "text": text}]}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: StreamingServer

    def do_GET(self) -> None:
        self._send(200, b"ok", "text/plain")

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        api = "chat" if self.path.endswith("/chat/completions") else "completions"
        args = self.server.args
        if body.get("stream", False):
            self._stream(api, args)
        else:
            time.sleep(args.ttft + args.itl * (args.tokens - 1))
            text = "tok " * args.tokens
            answer = chunk(api, text)
            if api == "chat":
                answer["choices"][0] = {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                }
            if args.usage:
                answer["usage"] = {"completion_tokens": args.tokens}
            self._send(200, json.dumps(answer).encode(), "application/json")

    def _stream(self, api: str, args: argparse.Namespace) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self._event(b": keep-alive\n\n")
        if api == "chat":  # the role chunk comes first and carries no content
            self._event(b'data: {"choices": [{"delta": {"role": "assistant"}}]}\n\n')
        started = time.perf_counter()
        if args.stall_every and self.server.next_number() % args.stall_every == 0:
            started += args.stall
        for i in range(args.tokens):
            due = started + args.ttft + i * args.itl
            time.sleep(max(due - time.perf_counter(), 0.0))
            if args.drop_after is not None and i >= args.drop_after:
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self._event(b"data: " + json.dumps(chunk(api, "tok ")).encode() + b"\n\n")
        if args.usage:
            usage = {"choices": [], "usage": {"completion_tokens": args.tokens}}
            self._event(b"data: " + json.dumps(usage).encode() + b"\n\n")
        self._event(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _event(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class StreamingServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], args: argparse.Namespace) -> None:
        super().__init__(address, Handler)
        self.args = args
        self.count = 0
        self.count_lock = threading.Lock()

    def next_number(self) -> int:
        """1-based arrival number of a streamed request."""
        with self.count_lock:
            self.count += 1
            return self.count

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients hanging up mid-stream are routine; keep stderr quiet."""
        if not isinstance(sys.exc_info()[1], ConnectionError | OSError):
            super().handle_error(request, client_address)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--port", type=int, required=True)
    add("--host", default="127.0.0.1")
    add("--ttft", type=float, default=0.2, help="seconds before the first token")
    add("--itl", type=float, default=0.02, help="seconds between later tokens")
    add("--tokens", type=int, default=16, help="tokens per answer")
    add("--usage", action="store_true", help="send a final usage chunk")
    add("--drop-after", type=int, default=None, help="cut the connection after K tokens")
    add("--stall-every", type=int, default=0, help="every Nth request waits before its first")
    add("--stall", type=float, default=0.0, help="seconds a stalled request waits")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    server = StreamingServer((args.host, args.port), args)

    def stop(signum: int, frame: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
