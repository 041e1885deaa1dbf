"""A real HTTP server on 127.0.0.1 for feed tests: fixture feeds and misbehaviours.

Each path answers with a ``Route`` (or a function of the request returning
one), so a test states exactly what the server does: slow headers, a trickle,
a redirect, a 304 when the validators match, a gzip bomb.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data" / "feeds"


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str | None = "application/rss+xml"
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    """Sent as ETag; a request whose If-None-Match matches gets a 304."""
    last_modified: str | None = None
    """Sent as Last-Modified; a matching If-Modified-Since gets a 304."""
    delay: float = 0.0
    """Seconds before the status line (a slow server)."""
    trickle: float = 0.0
    """When set, the body goes out one byte every this many seconds."""
    content_length: bool = True
    header_trickle: float = 0.0
    """When set, the status line and headers go out one byte every this many seconds."""


Responder = Callable[[Request], Route]


def rss_item(title: str | None, link: str, teaser: str, published: str = "Mon, 30 Nov 2026 20:00:00 GMT") -> str:
    """One RSS <item> whose guid is its link (no <title> when ``title`` is None)."""
    heading = f"<title>{title}</title>" if title else ""
    return (f"<item>{heading}<link>{link}</link><guid>{link}</guid><description>{teaser}</description>"
            f"<pubDate>{published}</pubDate></item>")


def fixture(name: str) -> bytes:
    return (DATA / name).read_bytes()


def gzip_bomb(inflated_size: int) -> bytes:
    """``inflated_size`` zero bytes, gzip-compressed (about 1000:1)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = bytes(1 << 20)
    parts = [compressor.compress(block) for _ in range(inflated_size >> 20)]
    parts.append(compressor.flush())
    return b"".join(parts)


class _Server(ThreadingHTTPServer):
    request_queue_size = 128
    """socketserver listens with a backlog of 5: with more clients connecting at once the kernel
    drops their SYNs, and each waits a second to try again (seen as 1 s fetches in bench/build.py)."""
    daemon_threads = True
    block_on_close = False


class FeedServer:
    def __init__(self, keep_alive: bool = False) -> None:
        """``keep_alive``: answer in HTTP/1.1 and keep connections open, as real servers do (every route
        must then send its length); by default each answer closes its connection (HTTP/1.0)."""
        self.routes: dict[str, Responder] = {}
        self.requests: list[Request] = []
        self.stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

            def do_GET(self) -> None:
                request = Request(self.path, {k.lower(): v for k, v in self.headers.items()})
                server.requests.append(request)
                responder = server.routes.get(self.path)
                route = responder(request) if responder else Route(b"not found", 404, "text/plain")
                server.answer(self, request, route)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: tests read ``requests`` instead of a log."""

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.httpd.handle_error = lambda request, address: None  # a client hanging up is expected
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def route(self, path: str, route: Route | Responder) -> str:
        """Serve ``route`` at ``path``; returns the full URL."""
        self.routes[path] = route if callable(route) else (lambda request: route)
        return self.url(path)

    def rss(self, path: str, items: list[str]) -> str:
        """Serve an RSS 2.0 feed of these <item> elements (rss_item()) at ``path``; its URL."""
        feed = f'<?xml version="1.0"?><rss version="2.0"><channel>{"".join(items)}</channel></rss>'
        return self.route(path, Route(feed.encode()))

    def redirect(self, path: str, target: str, status: int = 302) -> str:
        return self.route(path, Route(status=status, content_type=None, headers={"Location": target}))

    def requests_to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def answer(self, handler: BaseHTTPRequestHandler, request: Request, route: Route) -> None:
        if route.delay and self.stopping.wait(route.delay):
            return
        matched = (route.etag and request.headers.get("if-none-match") == route.etag) or (
            route.last_modified and request.headers.get("if-modified-since") == route.last_modified
        )
        status, body = (304, b"") if matched else (route.status, route.body)
        if route.header_trickle:
            head = f"HTTP/1.0 {status} OK\r\nContent-Type: {route.content_type}\r\n\r\n".encode()
            for piece in self._pieces(head, route.header_trickle):
                try:
                    handler.wfile.write(piece)
                    handler.wfile.flush()
                except OSError:
                    return
            return
        handler.send_response(status)
        if route.content_type and status != 304:
            handler.send_header("Content-Type", route.content_type)
        if route.etag:
            handler.send_header("ETag", route.etag)
        if route.last_modified:
            handler.send_header("Last-Modified", route.last_modified)
        for name, value in route.headers.items():
            handler.send_header(name, value)
        if route.content_length or status == 304:
            handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        for piece in self._pieces(body, route.trickle):
            try:
                handler.wfile.write(piece)
                handler.wfile.flush()
            except OSError:
                return

    def _pieces(self, body: bytes, trickle: float) -> Iterator[bytes]:
        if not trickle:
            yield body
            return
        for i in range(len(body)):
            if self.stopping.wait(trickle):
                return
            yield body[i : i + 1]

    def close(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer()
    try:
        yield server
    finally:
        server.close()
