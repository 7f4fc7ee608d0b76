"""A counting, fault-injecting HTTP proxy on 127.0.0.1 in front of an S3 endpoint (tests only).

Each request is named by its S3 operation (UploadPartCopy, CopyObject, ...), logged
with its outcome, and may be answered ``503 SlowDown`` by a throttle rule, delayed,
or held (``freeze``) so a test can kill the client at a known point. The Host
header is forwarded unchanged, so SigV4 signatures still verify upstream.
"""

from __future__ import annotations

import contextlib
import datetime
import http.client
import ipaddress
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "upgrade"}
)
SLOWDOWN_BODY = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message>"
    b"<RequestId>faultproxy</RequestId></Error>"
)
WRITE_OPERATIONS = frozenset(
    {
        "CopyObject",
        "UploadPartCopy",
        "UploadPart",
        "PutObject",
        "PutObjectTagging",
        "CreateMultipartUpload",
        "CompleteMultipartUpload",
        "AbortMultipartUpload",
        "DeleteObject",
        "DeleteObjects",
    }
)


def self_signed_tls(directory: Path) -> tuple[ssl.SSLContext, Path]:
    """A server TLS context for 127.0.0.1 with a fresh self-signed certificate, and the
    certificate's PEM file (what a client's CA bundle must hold to trust it)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context, cert_path


@dataclass(frozen=True)
class Request:
    """One request as the proxy saw it."""

    at: float
    operation: str
    bucket: str
    key: str
    part_number: int | None
    upload_id: str | None
    status: int
    #: True when the proxy answered SlowDown itself (the server never saw it).
    throttled: bool
    #: True when the server answered 2xx without an error in the body.
    ok: bool


def operation_of(method: str, path: str, headers: Any) -> tuple[str, str, str, dict[str, str]]:
    """(S3 operation, bucket, key, query) of a path-style request."""
    parsed = urllib.parse.urlsplit(path)
    query = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
    bucket, _, key = parsed.path.lstrip("/").partition("/")
    bucket, key = urllib.parse.unquote(bucket), urllib.parse.unquote(key)
    copy = headers.get("x-amz-copy-source") is not None
    if method == "GET":
        if not key:
            if query.get("list-type") == "2":
                return "ListObjectsV2", bucket, key, query
            return (
                ("ListMultipartUploads" if "uploads" in query else "ListObjects"),
                bucket,
                key,
                query,
            )
        if "uploadId" in query:
            return "ListParts", bucket, key, query
        return ("GetObjectTagging" if "tagging" in query else "GetObject"), bucket, key, query
    if method == "HEAD":
        return ("HeadObject" if key else "HeadBucket"), bucket, key, query
    if method == "PUT":
        if "partNumber" in query:
            return ("UploadPartCopy" if copy else "UploadPart"), bucket, key, query
        if "tagging" in query:
            return "PutObjectTagging", bucket, key, query
        if not key:
            return "CreateBucket", bucket, key, query
        return ("CopyObject" if copy else "PutObject"), bucket, key, query
    if method == "POST":
        if "uploads" in query:
            return "CreateMultipartUpload", bucket, key, query
        if "uploadId" in query:
            return "CompleteMultipartUpload", bucket, key, query
        if "delete" in query:
            return "DeleteObjects", bucket, key, query
    if method == "DELETE":
        return (
            ("AbortMultipartUpload" if "uploadId" in query else "DeleteObject"),
            bucket,
            key,
            query,
        )
    return f"{method}?", bucket, key, query


ThrottleRule = Callable[[str, str, str], bool]
#: Called with (operation, bucket, key); returns (status, S3 error code) to answer instead.
FaultRule = Callable[[str, str, str], "tuple[int, str] | None"]


@dataclass
class FaultProxy:
    """Forward to ``upstream`` (``http://127.0.0.1:PORT``); count, throttle, delay, freeze."""

    upstream: str
    #: Called with (operation, bucket, key) for each request; True answers SlowDown.
    throttle: ThrottleRule | None = None
    #: Called with (operation, bucket, key); (status, code) answers that error instead.
    fault: FaultRule | None = None
    #: Seconds to wait before forwarding, by operation.
    delays: dict[str, float] = field(default_factory=dict)
    log: list[Request] = field(default_factory=list)
    #: While set, new requests are held and never forwarded (see ``freeze_after``).
    frozen: threading.Event = field(default_factory=threading.Event)
    #: Called after each logged request; may set ``frozen`` (e.g. after N parts).
    on_request: Callable[[FaultProxy, Request], None] | None = None
    #: Serve HTTPS with this context (the upstream stays plain HTTP).
    tls: ssl.SSLContext | None = None

    def __post_init__(self) -> None:
        parsed = urllib.parse.urlsplit(self.upstream)
        self._upstream_host = parsed.hostname or "127.0.0.1"
        self._upstream_port = parsed.port or 80
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> FaultProxy:
        proxy = self

        class Handler(_Handler):
            owner = proxy

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if self.tls is not None:
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoint_url(self) -> str:
        assert self._server is not None
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self._server.server_address[1]}"

    # --- what happened ------------------------------------------------------------------

    def record(self, request: Request) -> None:
        with self._lock:
            self.log.append(request)
        if self.on_request is not None:
            self.on_request(self, request)

    def requests(self, operation: str | None = None) -> list[Request]:
        with self._lock:
            return [r for r in self.log if operation is None or r.operation == operation]

    def reset(self) -> None:
        with self._lock:
            self.log.clear()


class _Handler(BaseHTTPRequestHandler):
    owner: FaultProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._proxy()

    do_HEAD = do_PUT = do_POST = do_DELETE = do_GET

    def _proxy(self) -> None:
        owner = self.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        operation, bucket, key, query = operation_of(self.command, self.path, self.headers)
        part = int(query["partNumber"]) if "partNumber" in query else None
        upload_id = query.get("uploadId")
        if owner.frozen.is_set():
            # Held: never forwarded. The client is expected to be killed meanwhile.
            while owner.frozen.is_set() and not owner._stopped.is_set():
                time.sleep(0.05)
            self.close_connection = True
            return
        delay = owner.delays.get(operation)
        if delay:
            time.sleep(delay)
        injected = owner.fault(operation, bucket, key) if owner.fault is not None else None
        if injected is not None:
            status, code = injected
            error = (
                f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
                f"<Message>{code} (injected)</Message><RequestId>faultproxy</RequestId></Error>"
            ).encode()
            self._answer(status, {"Content-Type": "application/xml"}, error)
            owner.record(
                Request(
                    time.monotonic(), operation, bucket, key, part, upload_id, status, False, False
                )
            )
            return
        if owner.throttle is not None and owner.throttle(operation, bucket, key):
            self._answer(503, {"Content-Type": "application/xml"}, SLOWDOWN_BODY)
            owner.record(
                Request(time.monotonic(), operation, bucket, key, part, upload_id, 503, True, False)
            )
            return
        try:
            status, headers, answer = self._forward(body)
        except OSError:
            self.close_connection = True
            return
        ok = 200 <= status < 300 and b"<Error>" not in answer[:512]
        self._answer(status, headers, answer)
        owner.record(
            Request(time.monotonic(), operation, bucket, key, part, upload_id, status, False, ok)
        )

    def _forward(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        owner = self.owner
        connection = getattr(self, "_upstream", None)
        for attempt in range(2):
            if connection is None:
                connection = http.client.HTTPConnection(
                    owner._upstream_host, owner._upstream_port, timeout=60
                )
                self._upstream = connection
            try:
                connection.putrequest(
                    self.command, self.path, skip_host=True, skip_accept_encoding=True
                )
                for name, value in self.headers.items():
                    if name.lower() not in _HOP_BY_HOP:
                        connection.putheader(name, value)
                connection.endheaders(body or None)
                response = connection.getresponse()
                answer = response.read()
                headers = {
                    name: value
                    for name, value in response.getheaders()
                    if name.lower() not in _HOP_BY_HOP
                }
                if self.command != "HEAD" and response.getheader("Transfer-Encoding"):
                    headers["Content-Length"] = str(len(answer))
                return response.status, headers, answer
            except (http.client.HTTPException, OSError):
                with contextlib.suppress(Exception):
                    connection.close()
                connection = None
                self._upstream = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response_only(status)
        has_length = any(name.lower() == "content-length" for name in headers)
        for name, value in headers.items():
            self.send_header(name, value)
        if not has_length:
            self.send_header("Content-Length", str(0 if self.command == "HEAD" else len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)
        self.wfile.flush()


class CapacityStorm:
    """A throttle rule that behaves like a hot S3 prefix: writes above a rate get SlowDown.

    After ``after`` write requests it measures the client's write rate and, for
    ``duration`` seconds, admits writes at ``fraction`` of that rate (a token bucket)
    and answers SlowDown to the rest, so a client that does not slow down sees most
    of its writes refused, and one that does sees few. Then it lifts.
    """

    def __init__(self, *, after: int, duration: float, fraction: float) -> None:
        self.after = after
        self.duration = duration
        self.fraction = fraction
        self.started: float | None = None
        self.capacity = 0.0
        self.baseline = 0.0
        #: (arrival time, throttled) of every write request.
        self.writes: list[tuple[float, bool]] = []
        self._tokens = 0.0
        self._refilled = 0.0
        self._lock = threading.Lock()

    def __call__(self, operation: str, bucket: str, key: str) -> bool:
        if operation not in WRITE_OPERATIONS:
            return False
        with self._lock:
            now = time.monotonic()
            throttled = self._decide(now)
            self.writes.append((now, throttled))
            return throttled

    def _decide(self, now: float) -> bool:
        if self.started is None:
            if len(self.writes) + 1 < self.after:
                return False
            window = [t for t, _ in self.writes if t > now - 1.0]
            span = max(now - window[0], 0.05) if window else 1.0
            self.baseline = len(window) / span
            self.capacity = max(5.0, self.baseline * self.fraction)
            self.started = self._refilled = now
            self._tokens = 1.0
        if now > self.started + self.duration:
            return False
        depth = max(1.0, self.capacity * 0.1)
        self._tokens = min(depth, self._tokens + (now - self._refilled) * self.capacity)
        self._refilled = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return False
        return True

    def window(self, start: float, end: float) -> tuple[int, int]:
        """(write requests, of which throttled) that arrived in [start, end)."""
        with self._lock:
            chosen = [throttled for t, throttled in self.writes if start <= t < end]
        return len(chosen), sum(chosen)
