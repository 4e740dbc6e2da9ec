"""Files served over HTTP on 127.0.0.1 by the test's own process: the real download path, no
mock. A key with a query (`a.txt?v=2`) is served as it is; otherwise the query is ignored."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Server:
    """What is served, and what was asked for."""

    port: int = 0
    files: dict[str, bytes] = field(default_factory=dict)
    truncate: set[str] = field(default_factory=set)
    """Paths whose Content-Length promises twice the body, then the connection closes."""
    hits: list[str] = field(default_factory=list)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    """Each request's raw path (query included) and headers."""

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}"


@contextmanager
def serve() -> Iterator[Server]:
    state = Server()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.lstrip("/")
            state.hits.append(path)
            state.requests.append((self.path, dict(self.headers)))
            name = path if path in state.files else path.partition("?")[0]
            body = state.files.get(name)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            length = 2 * len(body) if name in state.truncate else len(body)
            self.send_header("Content-Length", str(length))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
