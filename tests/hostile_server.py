"""A hostile (or broken) Flickr-compatible server for tests: a plain `http.server` on a
free loopback port that answers every request with whatever the test set, so that the
real FlickrClient meets it through its base URL (`Endpoints.at(server.url)`).

    with hostile_server() as server:
        server.answer = Answer(429, {"Retry-After": "99999999"})
        ...

An answer's body is bytes, or an iterable of bytes that is sent block by block without
a Content-Length (a 300 MB answer is never held here). `requests` lists what arrived.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | Iterable[bytes] = b""


class HostileServer:
    def __init__(self) -> None:
        self.answer = Answer()
        self.requests: list[str] = []  # "METHOD path" of each request, in order
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # close-delimited bodies need no length

            def _answer(self) -> None:
                server.requests.append(f"{self.command} {self.path}")
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                answer = server.answer
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                if isinstance(answer.body, bytes):
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                    return
                self.end_headers()
                try:
                    for block in answer.body:
                        self.wfile.write(block)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading, as it should

            do_GET = do_POST = _answer

            def log_message(self, *args: object) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self.port = self._http.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    def start(self) -> HostileServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()


@contextmanager
def hostile_server() -> Iterator[HostileServer]:
    server = HostileServer().start()
    try:
        yield server
    finally:
        server.stop()


def endless(total_bytes: int, block: bytes = b" " * (1024 * 1024)) -> Iterator[bytes]:
    """`total_bytes` of answer, one block at a time (the same block: nothing piles up)."""
    sent = 0
    while sent < total_bytes:
        yield block
        sent += len(block)
