"""A fake SMS provider on loopback: answers each POST with the next canned (status, body) and
keeps what it was sent (path, form fields, headers)."""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer


class FakeProvider:
    def __init__(self) -> None:
        self.answers: list[tuple[int, str]] = []
        self.requests: list[dict] = []
        self.url = ""

    def answer(self, body: str, status: int = 200) -> None:
        self.answers.append((status, body))


@contextmanager
def fake_provider(path: str = "/send") -> Iterator[FakeProvider]:
    provider = FakeProvider()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # http.server calls it by this name
            length = int(self.headers.get("Content-Length", "0"))
            form = urllib.parse.parse_qs(self.rfile.read(length).decode())
            provider.requests.append(
                {
                    "path": self.path,
                    "form": {k: v[0] for k, v in form.items()},
                    "headers": dict(self.headers),
                }
            )
            status, body = provider.answers.pop(0) if provider.answers else (200, "")
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    provider.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
