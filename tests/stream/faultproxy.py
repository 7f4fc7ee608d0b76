"""A reverse proxy on 127.0.0.1 in front of an S3 server that damages chosen answers.

Requests are relayed unchanged (the Host header too, so SigV4 signatures still
hold); a ``Fault`` picks requests by method, path and the start of their Range
and, a set number of times, flips one byte of the answer's body, cuts the body
short, answers 503 SlowDown, or runs a hook before relaying. Every request is
logged, so tests can assert what reached the server.
"""

from __future__ import annotations

import http.client
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal

Action = Literal["flip", "cut", "slowdown", "hook"]
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}
_SLOWDOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)


@dataclass
class Fault:
    """What to damage: requests with this method (and path part, and Range start), ``times``."""

    method: str
    action: Action
    path_contains: str = ""
    range_start: int | None = None
    times: int = 1
    #: Offset in the body of the byte to flip (``flip``).
    at: int = 0
    hook: Callable[[], None] | None = None
    hits: int = field(default=0, init=False)

    def matches(self, method: str, path: str, range_header: str | None) -> bool:
        if self.hits >= self.times or method != self.method or self.path_contains not in path:
            return False
        if self.range_start is None:
            return True
        return range_header is not None and range_header.startswith(f"bytes={self.range_start}-")


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    range: str | None
    fault: Action | None


class FaultProxy:
    """The proxy: ``start()`` / ``stop()`` (or a context manager); ``endpoint_url`` for clients."""

    def __init__(self, upstream_url: str) -> None:
        parts = urllib.parse.urlsplit(upstream_url)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.faults: list[Fault] = []
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                del format, args  # quiet

            def _relay(self) -> None:
                proxy.relay(self)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _relay

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def _pick(self, method: str, path: str, range_header: str | None) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(method, path, range_header):
                    fault.hits += 1
                    return fault
        return None

    def relay(self, handler: BaseHTTPRequestHandler) -> None:
        method, path = handler.command, handler.path
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        fault = self._pick(method, path, handler.headers.get("Range"))
        with self._lock:
            self.seen.append(
                Seen(method, path, handler.headers.get("Range"), fault and fault.action)
            )
        if fault is not None and fault.action == "slowdown":
            self._answer(handler, 503, [("Content-Type", "application/xml")], _SLOWDOWN, method)
            return
        if fault is not None and fault.action == "hook" and fault.hook is not None:
            fault.hook()
        connection = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for name, value in handler.headers.items():
                if name.lower() not in ("connection", "keep-alive"):
                    connection.putheader(name, value)
            connection.endheaders(body or None)
            answer = connection.getresponse()
            payload = answer.read()
            headers = [(k, v) for k, v in answer.getheaders() if k.lower() not in _HOP_BY_HOP]
            upstream_length = answer.getheader("Content-Length")
        finally:
            connection.close()
        if fault is not None and fault.action == "flip" and payload:
            damaged = bytearray(payload)
            damaged[fault.at] ^= 0xFF
            payload = bytes(damaged)
        if fault is not None and fault.action == "cut":
            handler.send_response(answer.status)
            for name, value in headers:
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload[: len(payload) // 2])
            handler.wfile.flush()
            handler.close_connection = True
            return
        if method == "HEAD":
            headers.append(("Content-Length", upstream_length or "0"))
            self._answer(handler, answer.status, headers, b"", method, length_set=True)
            return
        self._answer(handler, answer.status, headers, payload, method)

    @staticmethod
    def _answer(
        handler: BaseHTTPRequestHandler,
        status: int,
        headers: list[tuple[str, str]],
        payload: bytes,
        method: str,
        *,
        length_set: bool = False,
    ) -> None:
        handler.send_response(status)
        for name, value in headers:
            handler.send_header(name, value)
        if not length_set:
            handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        if method != "HEAD" and payload:
            handler.wfile.write(payload)

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
