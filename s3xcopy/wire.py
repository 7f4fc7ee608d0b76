"""A lean sender for CopyObject: botocore's own pieces, without its per-request pipeline.

A bulk copy of small objects sends one CopyObject per object, and on a 2-core machine
botocore spent about 2.9 ms of CPU on each (64 threads, measured): a dozen events
emitted through its hook system, endpoint rules, a per-request parser and signer
choice, then urllib3 and http.client in Python. What gives a request its meaning costs
far less, so this module calls it directly: botocore's serializer (with its CopyObject
parameter handlers), botocore's SigV4 signer class for S3 (or awscrt's signer, set as
botocore's CRT signer sets it), and botocore's response parser (with per-shape plans,
:mod:`s3xcopy.responses`). Requests of a shape after its first are built from that
first one, setting only the key, copy source and pinned ETag as botocore encodes them
(:class:`_Template`, checked against botocore's build for its first requests). The
bytes go over awscrt's HTTP client (native: request writing, response
parsing and connection handling leave the GIL) with botocore's connection settings
(TLS trust, timeouts, keep-alive), or over the client's own HTTP session when those
cannot be matched (a proxy, a client certificate). Errors come out as the exceptions
botocore raises (``ClientError`` subclasses with the same parsed error, botocore's
connection errors), so :mod:`s3xcopy.calls` retries and translates them the same way;
retries, the gate and events stay in :class:`~s3xcopy.calls.Caller`.

Fidelity is checked, not assumed. The first request of each shape (destination bucket
and set of argument names) is built by botocore itself up to the point of sending,
and answered locally by a ``before-send`` handler (nothing reaches the network); the
lean request for the same arguments must then be the same request: method, URL, body,
every header but the time-dependent signature ones, and the same signing algorithm,
scope and signed headers. A shape that differs (S3 Express sessions, SigV4a, SigV2,
anything new) is sent by botocore, as is any answer botocore would redirect (a bucket
in another region), after which the shape is learnt again. So is every request of a
client on which something else answers ``before-send`` (moto's ``mock_aws``, botocore
stubs, custom transports): the probe is answered by them, not by this module, and the
lean path, which replaces only botocore's own HTTP send, is not taken.
"""

from __future__ import annotations

import collections
import concurrent.futures
import datetime
import functools
import os
import re
import threading
import time
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from botocore import handlers
from botocore.auth import AUTH_TYPE_MAPS, SIGNED_HEADERS_BLACKLIST
from botocore.awsrequest import (
    AWSPreparedRequest,
    AWSResponse,
    create_request_object,
    prepare_request_dict,
)
from botocore.exceptions import (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
    SSLError,
)
from botocore.httpsession import get_cert_path
from botocore.parsers import ResponseParserError
from botocore.serialize import create_serializer
from botocore.utils import get_environ_proxies, percent_encode

from .responses import PlannedParser
from .timestamps import parse_timestamp

OPERATION = "CopyObject"
#: Headers that differ between two builds of the same request (time, signature, ids).
VOLATILE_HEADERS = frozenset(
    {"authorization", "x-amz-date", "amz-sdk-invocation-id", "amz-sdk-request"}
)
#: Answers botocore's S3 region redirector acts on: the bucket lives in another region.
REDIRECT_CODES = frozenset(
    {"PermanentRedirect", "TemporaryRedirect", "AuthorizationHeaderMalformed",
     "IllegalLocationConstraintException", "301", "307"}
)  # fmt: skip
_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/\d{8}/(?P<region>[^/]+)/(?P<service>[^/]+)"
    r"/aws4_request, ?SignedHeaders=(?P<signed>[^,]+), ?Signature=[0-9a-f]+"
)
#: The arguments that change from one object of a bulk copy to the next. A request whose
#: other arguments equal those of the first request of its shape is built from that
#: request (its template) by setting only these; see :class:`_Template`.
VARYING = frozenset({"Key", "CopySource", "CopySourceIfMatch"})
#: Requests of each template also built by botocore's serializer and compared: a template
#: that ever differs is dropped (tests compare many more keys than this).
CHECKED_BUILDS = 16
#: Keys (and copy sources) that percent-encoding leaves as they are. A request whose key,
#: source key or source version has any other character is also built by botocore and
#: compared, however many requests its template has built: only encodings can differ.
_PLAIN = re.compile(r"[A-Za-z0-9/._~-]*\Z")
#: Marks this module's local answer to a probe (another handler's answer lacks it).
PROBE_HEADER = "x-s3xcopy-lean-probe"
PROBE_TOKEN = f"{os.getpid()}-{id(object())}"
_PROBE_BODY = b'<?xml version="1.0" encoding="UTF-8"?>\n<CopyObjectResult></CopyObjectResult>'
#: How long a request waits for another thread to learn its shape (it then learns itself).
LEARN_WAIT_SECONDS = 30.0
#: Waits of ``read_timeout`` for an answer that keeps sending (S3 keeps a long CopyObject
#: alive with whitespace); the bound of that loop (with 60 s, about a week).
MAX_READ_WAITS = 10_000


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: status, headers (case-insensitive, or all names lower-case), body."""

    status: int
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Sent:
    """A request as it goes on the wire: what the fidelity check compares."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Route:
    """Where and how a shape of request is sent, learnt from botocore's build of it."""

    endpoint_url: str
    region: str
    service: str
    user_agent: str | None
    #: Over awscrt's HTTP client (else over the client's own HTTP session).
    native: bool


class _Body:
    """The raw body of the local answer to a probe (AWSResponse reads ``stream()``)."""

    def stream(self, **kwargs: Any) -> Iterator[bytes]:
        yield _PROBE_BODY


@dataclass
class _Template:
    """A request of one shape, to build the next ones from: only the varying values change.

    botocore serializes a key into the URL path with ``percent_encode(key, safe="/~")``
    (a greedy label), ``CopySource`` through its ``handle_copy_source_param`` handler and
    ``CopySourceIfMatch`` as the header's value; every other argument is equal to the
    template's, so its headers and URL parts are the template's.
    """

    constants: dict[str, Any]
    method: str
    url_prefix: str
    url_suffix: str
    headers: dict[str, Any]
    source_header: str
    match_header: str | None
    checks_left: int = CHECKED_BUILDS

    @classmethod
    def of(
        cls, model: Any, kwargs: Mapping[str, Any], built: Mapping[str, Any]
    ) -> _Template | None:
        """The template of ``built`` (botocore's request dict for ``kwargs``), if it has one."""
        key, source = kwargs.get("Key"), kwargs.get("CopySource")
        if not isinstance(key, str) or not isinstance(source, str | dict) or built.get("body"):
            return None
        members = model.input_shape.members
        source_header = str(members["CopySource"].serialization.get("name", "")).lower()
        match_header = str(members["CopySourceIfMatch"].serialization.get("name", "")).lower()
        url = str(built["url"])
        end = url.find("?") if "?" in url else len(url)
        encoded = percent_encode(key, safe="/~")
        at = url.rfind("/" + encoded, 0, end) + 1
        if at <= 0 or at + len(encoded) != end:
            return None  # the key is not the end of the path: not a shape to template
        headers = {str(k): v for k, v in built["headers"].items()}
        if {k.lower() for k in headers} & {"content-md5", "expect", "transfer-encoding"}:
            return None
        for name in [k for k in headers if k.lower() in (source_header, match_header)]:
            del headers[name]
        template = cls(
            constants={k: v for k, v in kwargs.items() if k not in VARYING},
            method=str(built["method"]),
            url_prefix=url[:at],
            url_suffix=url[end:],
            headers=headers,
            source_header=source_header,
            match_header=match_header if "CopySourceIfMatch" in kwargs else None,
        )
        return template if _same_build(template.build(kwargs), built) else None

    def build(self, kwargs: Mapping[str, Any]) -> dict[str, Any] | None:
        """The request dict for ``kwargs``; None when an argument other than VARYING differs."""
        key, source = kwargs.get("Key"), kwargs.get("CopySource")
        if not isinstance(key, str) or not isinstance(source, str | dict):
            return None
        for name, value in self.constants.items():
            if kwargs.get(name) != value:
                return None
        quoted: dict[str, Any] = {"CopySource": source}  # a str, or a dict botocore quotes
        handlers.handle_copy_source_param(quoted)
        headers = dict(self.headers)
        headers[self.source_header] = quoted["CopySource"]
        if self.match_header is not None:
            headers[self.match_header] = kwargs["CopySourceIfMatch"]
        url = self.url_prefix + percent_encode(key, safe="/~") + self.url_suffix
        return {"method": self.method, "url": url, "headers": headers, "body": b""}


def _encoded(kwargs: Mapping[str, Any]) -> bool:
    """True when percent-encoding changes the key or the copy source (see ``_PLAIN``)."""
    source = kwargs.get("CopySource")
    texts = [kwargs.get("Key")]
    texts += [source.get("Key"), source.get("VersionId")] if isinstance(source, dict) else [source]
    return any(text is not None and not _PLAIN.match(str(text)) for text in texts)


def _same_build(ours: Mapping[str, Any] | None, theirs: Mapping[str, Any]) -> bool:
    """The same method, URL, body and headers (header names compared case-insensitively)."""
    if ours is None:
        return False
    if (ours["method"], ours["url"], ours["body"] or b"") != (
        theirs["method"],
        theirs["url"],
        theirs["body"] or b"",
    ):
        return False
    return _headers(ours["headers"]) == _headers(theirs["headers"])


class LeanCopyObject:
    """``client.copy_object(**kwargs)``, cheaper: same request, same answer, same errors.

    ``credentials`` are the client's own (``session.get_credentials()`` of the session
    the client came from: refreshable ones refresh). Use :meth:`for_client`.
    """

    def __init__(
        self, client: Any, credentials: Any, http_session: Any, native: CrtTransport | None
    ) -> None:
        self._client = client
        self._credentials = credentials
        self._http = BotocoreTransport(http_session)
        self._native = native
        self._config = client.meta.config
        self._model = client.meta.service_model.operation_model(OPERATION)
        protocol = client.meta.service_model.metadata["protocol"]
        # No parameter validation here: botocore validates (when the client's config says
        # so) the first request of each shape, which it builds itself (the probe), and a
        # later request of that shape has the same parameters, of the same types, from the
        # same planner; only values differ, and botocore checks no value a planned copy can
        # get wrong (it checks types, required members and minimum lengths).
        self._serializer = create_serializer(protocol, include_validation=False)
        self._parser = PlannedParser(timestamp_parser=parse_timestamp)  # S3 is rest-xml
        self._signer = AUTH_TYPE_MAPS["s3v4"]
        self._routes: dict[tuple[str, frozenset[str]], Route | None] = {}
        self._templates: dict[tuple[str, frozenset[str]], _Template | None] = {}
        self._learning: dict[tuple[str, frozenset[str]], threading.Event] = {}
        self._lock = threading.Lock()
        self._probing = threading.local()
        # On the broadest name and last: botocore runs every before-send handler and
        # uses the first answer, so one that answers requests itself (moto's mock_aws, a
        # custom transport) wins over this one, which _probe sees by the marker header.
        client.meta.events.register_last(
            "before-send", self._answer_probe, unique_id=f"s3xcopy-lean-{id(self)}"
        )

    @classmethod
    def for_client(
        cls, client: Any, credentials: Any, *, native: bool = True
    ) -> LeanCopyObject | None:
        """A lean sender for ``client``, or None when it cannot be one (no credentials ...).

        ``native``: send over awscrt's HTTP client where botocore's connection settings
        can be matched (else always over the client's own HTTP session).
        """
        http_session = getattr(getattr(client, "_endpoint", None), "http_session", None)
        meta = getattr(client, "meta", None)
        if (
            credentials is None
            or http_session is None
            or not callable(getattr(http_session, "send", None))
            or meta is None
            or meta.service_model.service_name != "s3"
            or meta.service_model.metadata.get("protocol") != "rest-xml"
            or "s3v4" not in AUTH_TYPE_MAPS
        ):
            return None
        crt = CrtTransport.for_client(client, http_session) if native else None
        return cls(client, credentials, http_session, crt)

    def __call__(self, **kwargs: Any) -> dict[str, Any]:
        """Send CopyObject with ``kwargs``; botocore sends it when the shape is not lean."""
        self._probing.outcome = None
        route = self._route(kwargs)
        outcome, self._probing.outcome = self._probing.outcome, None
        if isinstance(outcome, BaseException):
            raise outcome  # this request's probe was answered, with an error
        if outcome is not None:
            return dict(outcome)  # ... or with a result, by another before-send handler
        if route is None:
            return dict(self._client.copy_object(**kwargs))
        answer = self._transmit(route, kwargs)
        return self._parse(answer, kwargs)

    def route(self, **kwargs: Any) -> Route | None:
        """How a CopyObject with these arguments is sent (learning its shape if need be).

        None: botocore sends it (the lean request would not be the same request).
        """
        try:
            return self._route(kwargs)
        finally:
            self._probing.outcome = None

    def close(self) -> None:
        """Close idle native connections (botocore's session closes its own)."""
        if self._native is not None:
            self._native.close()

    # --- one request ----------------------------------------------------------------

    def _request_dict(self, route: Route | None, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """Serialize as botocore does, with its CopyObject parameter handlers first."""
        params = dict(kwargs)
        handlers.validate_bucket_name(params)
        handlers.handle_copy_source_param(params)
        handlers.validate_ascii_metadata(params)
        handlers.sse_md5(params)
        handlers.copy_source_sse_md5(params)
        request_dict: dict[str, Any] = self._serializer.serialize_to_request(params, self._model)
        if not getattr(self._config, "inject_host_prefix", True):
            request_dict.pop("host_prefix", None)
        handlers.add_recursion_detection_header(request_dict)
        if route is not None:
            prepare_request_dict(
                request_dict,
                endpoint_url=route.endpoint_url,
                user_agent=route.user_agent,
                context={"client_config": self._config},
            )
        return request_dict

    def _templated(self, route: Route, kwargs: Mapping[str, Any]) -> Mapping[str, Any]:
        """:meth:`_request_dict`'s request, built from its shape's template when it can be.

        The first request of a shape makes the template; the next :data:`CHECKED_BUILDS`,
        and every one whose key or source percent-encoding changes, are also built by
        botocore and compared (and botocore's build sent); a template that differs is
        dropped.
        """
        shape = (str(kwargs.get("Bucket", "")), frozenset(kwargs))
        template = self._templates.get(shape)
        built = template.build(kwargs) if template is not None else None
        if template is None or built is None or template.checks_left > 0 or _encoded(kwargs):
            full = self._request_dict(route, kwargs)
            if shape not in self._templates:
                self._templates[shape] = _Template.of(self._model, kwargs, full)
            elif template is not None and built is not None:
                template.checks_left = max(0, template.checks_left - 1)
                if not _same_build(built, full):
                    self._templates[shape] = None
            return full
        return built

    def _prepare(self, route: Route, kwargs: Mapping[str, Any]) -> AWSPreparedRequest:
        """botocore's way: an AWSRequest signed by botocore's S3 signer, then prepared."""
        request = create_request_object(self._request_dict(route, kwargs))
        frozen = self._credentials.get_frozen_credentials()
        self._signer(frozen, route.service, route.region).add_auth(request)  # type: ignore[call-arg]
        prepared: AWSPreparedRequest = request.prepare()
        return prepared

    def _prepare_native(self, route: Route, kwargs: Mapping[str, Any]) -> tuple[Any, Sent]:
        """The same request for awscrt: signed by awscrt as botocore's CRT signer signs it.

        The :class:`Sent` has no headers (reading them back costs CPU each request): the
        fidelity check reads them from the request, see :meth:`_native_sent`.
        """
        assert self._native is not None
        request_dict = self._templated(route, kwargs)
        url = str(request_dict["url"])
        body = request_dict["body"] or b""
        if not isinstance(body, bytes):
            raise TypeError("the native transport sends bodies of bytes only")  # CopyObject: none
        frozen = self._credentials.get_frozen_credentials()
        crt_request = self._native.signed_request(
            method=str(request_dict["method"]),
            url=url,
            headers=request_dict["headers"],
            body=body,
            credentials=frozen,
            region=route.region,
            service=route.service,
        )
        return crt_request, Sent(str(request_dict["method"]), url, {}, body)

    def _native_sent(self, route: Route, kwargs: Mapping[str, Any]) -> Sent:
        """What the native transport would send for ``kwargs``, headers and all."""
        crt_request, sent = self._prepare_native(route, kwargs)
        return Sent(sent.method, sent.url, dict(crt_request.headers), sent.body)

    def _transmit(self, route: Route, kwargs: Mapping[str, Any]) -> Answer:
        if route.native:
            assert self._native is not None
            crt_request, sent = self._prepare_native(route, kwargs)
            return self._native.send(crt_request, sent.url)
        return self._http.send(self._prepare(route, kwargs))

    def _parse(self, answer: Answer, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """botocore's parse of the answer, and its errors (ClientError subclasses)."""
        status = answer.status
        if status == 200 and _error_in_200(self._parser, answer.body):
            status = 500  # botocore's rule: S3's error in a 200 is retried as a server error
        response = {
            "headers": answer.headers,
            "status_code": status,
            "body": answer.body,
            "context": {"operation_name": OPERATION},
        }
        parsed: dict[str, Any] = self._parser.parse(response, self._model.output_shape)
        parsed.setdefault("ResponseMetadata", {})["RetryAttempts"] = 0
        if status < 300:
            return parsed
        code = str(parsed.get("Error", {}).get("Code") or "")
        if code in REDIRECT_CODES or status in (301, 307):
            self._forget(str(kwargs.get("Bucket", "")))
            return dict(self._client.copy_object(**kwargs))  # botocore follows the redirect
        error_class = self._client.exceptions.from_code(code)
        raise error_class(parsed, OPERATION)

    # --- learning a shape -----------------------------------------------------------

    def _route(self, kwargs: Mapping[str, Any]) -> Route | None:
        """The learnt route of this request's shape; the first request of a shape learns it.

        One thread learns a shape; the others wait for it (they would only learn the same).
        """
        key = (str(kwargs.get("Bucket", "")), frozenset(kwargs))
        for _ in range(3):  # a shape forgotten (redirect) while waiting is learnt again
            with self._lock:
                if key in self._routes:
                    return self._routes[key]
                learning = self._learning.get(key)
                if learning is None:
                    learning = self._learning[key] = threading.Event()
                    mine = True
                else:
                    mine = False
            if not mine:
                learning.wait(LEARN_WAIT_SECONDS)
                continue
            route = None
            try:
                route = self._learn(kwargs)
            finally:
                with self._lock:
                    self._routes[key] = route
                    del self._learning[key]
                learning.set()
            return route
        return None

    def _forget(self, bucket: str) -> None:
        with self._lock:
            for key in [k for k in self._routes if k[0] == bucket]:
                del self._routes[key]
            for key in [k for k in self._templates if k[0] == bucket]:
                del self._templates[key]  # its URL is the forgotten route's

    def _learn(self, kwargs: Mapping[str, Any]) -> Route | None:
        """The route of this shape if the lean request equals botocore's own, else None."""
        reference = self._probe(kwargs)
        if reference is None:
            return None
        found = route_of(reference, self._request_dict(None, kwargs))
        if found is None:
            return None
        endpoint_url, region, service, user_agent, access_key = found
        if access_key != self._credentials.get_frozen_credentials().access_key:
            return None
        expected = _sent(reference)
        if expected is None:
            return None
        if self._native is not None and self._native.serves(endpoint_url):
            native = Route(endpoint_url, region, service, user_agent, native=True)
            if same_request(expected, self._native_sent(native, kwargs)):
                return native
        route = Route(endpoint_url, region, service, user_agent, native=False)
        ours = _sent(self._prepare(route, kwargs))
        return route if ours is not None and same_request(expected, ours) else None

    def _probe(self, kwargs: Mapping[str, Any]) -> AWSPreparedRequest | None:
        """botocore's own build of this request, answered locally: nothing is sent.

        botocore runs every ``before-send`` handler and uses the first answer; this
        module's handler is the last. When another one answered (moto's ``mock_aws``, a
        custom transport), or botocore refused the request, that was this request: its
        answer or error is kept in ``outcome`` for the caller, and the shape stays
        botocore's.
        """
        self._probing.active, self._probing.request = True, None
        try:
            answer = self._client.copy_object(**kwargs)
        except Exception as exc:
            self._probing.outcome = exc
            return None
        finally:
            self._probing.active = False
        headers = answer.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        if headers.get(PROBE_HEADER) != PROBE_TOKEN:
            self._probing.outcome = dict(answer)
            return None
        request: AWSPreparedRequest | None = self._probing.request
        return request

    def _answer_probe(self, request: AWSPreparedRequest, **kwargs: Any) -> AWSResponse | None:
        if not getattr(self._probing, "active", False):
            return None  # a real request: botocore sends it
        self._probing.request = request
        headers: Any = {"Content-Type": "application/xml", PROBE_HEADER: PROBE_TOKEN}
        return AWSResponse(request.url, 200, headers, _Body())


def route_of(
    reference: AWSPreparedRequest, request_dict: Mapping[str, Any]
) -> tuple[str, str, str, str | None, str] | None:
    """(endpoint URL, region, service, user agent, access key) of botocore's ``reference``.

    The endpoint URL is the reference URL less the serialized path and query, checked by
    rebuilding the URL from it as botocore does. None when the request is not SigV4.
    """
    parsed = _AUTHORIZATION.fullmatch(_text(reference.headers.get("Authorization", "")))
    if parsed is None:
        return None  # not SigV4 (SigV2, SigV4a, unsigned): botocore sends these
    trial = dict(request_dict)
    prepare_request_dict(trial, endpoint_url="http://probe.invalid")
    tail = str(trial["url"])[len("http://probe.invalid") :]
    if not reference.url.endswith(tail):
        return None
    endpoint_url = reference.url[: len(reference.url) - len(tail)]
    again = dict(request_dict)
    prepare_request_dict(again, endpoint_url=endpoint_url)
    if again["url"] != reference.url:
        return None
    agent = reference.headers.get("User-Agent")
    return (
        endpoint_url,
        parsed.group("region"),
        parsed.group("service"),
        None if agent is None else _text(agent),
        parsed.group("key"),
    )


def same_request(reference: Sent, lean: Sent) -> bool:
    """The same request but for the time of signing: method, URL, body, headers, scope."""
    if (reference.method, reference.url, reference.body) != (lean.method, lean.url, lean.body):
        return False
    ours, theirs = _headers(lean.headers), _headers(reference.headers)
    if {k: v for k, v in ours.items() if k not in VOLATILE_HEADERS} != {
        k: v for k, v in theirs.items() if k not in VOLATILE_HEADERS
    }:
        return False
    mine = _AUTHORIZATION.fullmatch(ours.get("authorization", ""))
    base = _AUTHORIZATION.fullmatch(theirs.get("authorization", ""))
    return (
        mine is not None
        and base is not None
        and mine.group("key", "region", "service", "signed")
        == base.group("key", "region", "service", "signed")
    )


def _sent(prepared: AWSPreparedRequest) -> Sent | None:
    """What a prepared request sends; None for a streamed body (never sent lean)."""
    body = prepared.body
    if body is not None and not isinstance(body, bytes | bytearray):
        return None
    data = bytes(body or b"")
    return Sent(str(prepared.method), str(prepared.url), dict(prepared.headers.items()), data)


# --- transports ---------------------------------------------------------------------------


class BotocoreTransport:
    """The client's own HTTP session (urllib3): its pool, proxies, TLS and timeouts."""

    def __init__(self, http_session: Any) -> None:
        self._http = http_session

    def send(self, request: AWSPreparedRequest) -> Answer:
        response = self._http.send(request)
        return Answer(response.status_code, response.headers, response.content or b"")

    def close(self) -> None:
        """The session belongs to the client."""


class CrtTransport:
    """awscrt's HTTP/1.1 client with the client's connection settings; one pool per origin.

    Serves only what it can serve as botocore would: ``http``/``https`` endpoints with no
    proxy, no client certificate, and botocore's TLS trust (its CA bundle, or none when
    verification is off). Connect and read timeouts and TCP keep-alive follow the client's
    config; at most ``max_pool_connections`` idle connections are kept per origin.
    """

    def __init__(
        self,
        *,
        verify: bool | str,
        connect_timeout: float,
        read_timeout: float,
        keepalive: bool,
        max_idle: int,
        proxied: Any,
    ) -> None:
        from awscrt import io

        self._io = io
        self._verify = verify
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._max_idle = max(1, max_idle)
        self._proxied = proxied
        self._bootstrap = io.ClientBootstrap.get_or_create_static_default()
        self._socket = io.SocketOptions()
        self._socket.connect_timeout_ms = int(connect_timeout * 1000)
        self._socket.keep_alive = keepalive
        self._tls: Any = None
        self._credentials: Any = None
        self._credentials_provider: Any = None
        #: (provider id, region, service, second), the signing config, the provider it names.
        self._signing: tuple[tuple[int, str, str, int], Any, Any] | None = None
        self._pools: dict[tuple[str, str, int], collections.deque[Any]] = {}
        self._lock = threading.Lock()

    @classmethod
    def for_client(cls, client: Any, http_session: Any) -> CrtTransport | None:
        """The native transport for ``client``'s settings; None when they cannot be matched."""
        config = client.meta.config
        verify = getattr(http_session, "_verify", True)  # botocore's resolved TLS trust
        if getattr(config, "client_cert", None) or not isinstance(verify, bool | str):
            return None
        if None in (getattr(config, "connect_timeout", 60), getattr(config, "read_timeout", 60)):
            return None  # waiting without a limit (aws's --cli-*-timeout 0): botocore's own
        try:
            import awscrt.http  # noqa: F401 - the native client must be there
        except ImportError:
            return None
        proxy_config = getattr(http_session, "_proxy_config", None)

        def proxied(url: str) -> bool:
            if getattr(config, "proxies", None):
                return True
            if proxy_config is not None and hasattr(proxy_config, "proxy_url_for"):
                return bool(proxy_config.proxy_url_for(url))
            return bool(get_environ_proxies(url))

        return cls(
            verify=verify,
            connect_timeout=float(getattr(config, "connect_timeout", 60) or 60),
            read_timeout=float(getattr(config, "read_timeout", 60) or 60),
            keepalive=bool(getattr(config, "tcp_keepalive", False)),
            max_idle=int(getattr(config, "max_pool_connections", 10) or 10),
            proxied=proxied,
        )

    def serves(self, endpoint_url: str) -> bool:
        """True for http(s) endpoints reached without a proxy."""
        parts = urllib.parse.urlsplit(endpoint_url)
        return (
            parts.scheme in ("http", "https")
            and bool(parts.hostname)
            and not self._proxied(endpoint_url)
        )

    def signed_request(
        self,
        *,
        method: str,
        url: str,
        headers: Mapping[str, Any],
        body: bytes,
        credentials: Any,
        region: str,
        service: str,
    ) -> Any:
        """An awscrt request signed as botocore's CRT S3 signer signs one (SigV4, headers).

        botocore adds ``host`` before signing and ``Content-Length`` after (unsigned); the
        payload hash is computed (S3 over http, or https without a checksum header).
        """
        from awscrt import auth, http

        base, target = _split(url)
        crt_headers = http.HttpHeaders([(str(k), _text(v)) for k, v in headers.items()])
        if crt_headers.get("host") is None:
            crt_headers.add("host", _site(base)[1])
        request = http.HttpRequest(
            method, target, crt_headers, _BytesStream(body) if body else None
        )
        auth.aws_sign_request(request, self._signing_config(credentials, region, service)).result()
        if method not in ("GET", "HEAD", "OPTIONS") and crt_headers.get("content-length") is None:
            crt_headers.add("Content-Length", str(len(body)))
        return request

    def _signing_config(self, credentials: Any, region: str, service: str) -> Any:
        """The signing settings of botocore's CRT S3 signer, dated now (kept for one second).

        A signature carries the time to the second (``x-amz-date``), so every request
        signed within one second shares one config.
        """
        from awscrt import auth

        provider = self._provider(credentials)
        second = int(time.time())
        key = (id(provider), region, service, second)
        kept = self._signing
        if kept is not None and kept[0] == key:
            return kept[1]
        config = auth.AwsSigningConfig(
            algorithm=auth.AwsSigningAlgorithm.V4,
            signature_type=auth.AwsSignatureType.HTTP_REQUEST_HEADERS,
            credentials_provider=provider,
            region=region,
            service=service,
            date=datetime.datetime.fromtimestamp(second, datetime.timezone.utc),
            should_sign_header=_should_sign_header,
            use_double_uri_encode=False,
            should_normalize_uri_path=False,
            signed_body_value=None,
            signed_body_header_type=auth.AwsSignedBodyHeaderType.X_AMZ_CONTENT_SHA_256,
        )
        self._signing = (key, config, provider)
        return config

    def _provider(self, credentials: Any) -> Any:
        """A static awscrt credentials provider for these frozen credentials (kept per value)."""
        from awscrt import auth

        with self._lock:
            if self._credentials != credentials:
                self._credentials = credentials
                self._credentials_provider = auth.AwsCredentialsProvider.new_static(
                    access_key_id=credentials.access_key,
                    secret_access_key=credentials.secret_key,
                    session_token=credentials.token,
                )
            return self._credentials_provider

    def send(self, request: Any, url: str) -> Answer:
        """Send a signed awscrt request to ``url``'s origin; the whole answer."""
        from awscrt.exceptions import AwsCrtError

        origin = _site(_split(url)[0])[0]
        connection = self._connection(origin, url)
        status: list[int] = []
        answer_headers: list[tuple[str, str]] = []
        chunks: list[bytes] = []
        activity = [0]

        def on_response(http_stream: Any, status_code: int, headers: Any, **kwargs: Any) -> None:
            status.append(status_code)
            answer_headers.extend(headers)
            activity[0] += 1

        def on_body(http_stream: Any, chunk: bytes, **kwargs: Any) -> None:
            chunks.append(chunk)
            activity[0] += 1

        try:
            stream = connection.request(request, on_response, on_body)
            stream.activate()
            self._wait(stream.completion_future, activity, connection, url)
        except AwsCrtError as exc:
            connection.close()
            raise ConnectionClosedError(endpoint_url=url, error=exc) from exc
        self._release(origin, connection)
        return Answer(status[0], _headers_dict(answer_headers), b"".join(chunks))

    def close(self) -> None:
        with self._lock:
            pools, self._pools = self._pools, {}
        for pool in pools.values():
            for connection in pool:
                connection.close()

    def _wait(self, future: Any, activity: list[int], connection: Any, url: str) -> None:
        """Wait for the answer; a read timeout is ``read_timeout`` with nothing received."""
        seen = -1
        for _ in range(MAX_READ_WAITS):
            try:
                future.result(timeout=self._read_timeout)
                return
            except concurrent.futures.TimeoutError:
                if activity[0] == seen:
                    connection.close()
                    raise ReadTimeoutError(endpoint_url=url) from None
                seen = activity[0]
        connection.close()
        raise ReadTimeoutError(endpoint_url=url)

    def _connection(self, origin: tuple[str, str, int], url: str) -> Any:
        with self._lock:
            pool = self._pools.setdefault(origin, collections.deque())
            while pool:
                connection = pool.pop()
                if connection.is_open():
                    return connection
        return self._connect(origin, url)

    def _connect(self, origin: tuple[str, str, int], url: str) -> Any:
        from awscrt import http
        from awscrt.exceptions import AwsCrtError

        scheme, host, port = origin
        tls = None
        if scheme == "https":
            tls = self._tls_context().new_connection_options()
            tls.set_server_name(host)
        future = http.HttpClientConnection.new(
            host_name=host,
            port=port,
            bootstrap=self._bootstrap,
            socket_options=self._socket,
            tls_connection_options=tls,
        )
        started = time.monotonic()
        try:
            return future.result(timeout=self._connect_timeout + 5)
        except concurrent.futures.TimeoutError:
            raise ConnectTimeoutError(endpoint_url=url) from None
        except AwsCrtError as exc:
            name = str(exc.name)
            if "TLS" in name:
                raise SSLError(endpoint_url=url, error=exc) from exc
            if "TIMEOUT" in name or time.monotonic() - started >= self._connect_timeout:
                raise ConnectTimeoutError(endpoint_url=url, error=exc) from exc
            raise EndpointConnectionError(endpoint_url=url, error=exc) from exc

    def _release(self, origin: tuple[str, str, int], connection: Any) -> None:
        with self._lock:
            pool = self._pools.setdefault(origin, collections.deque())
            if connection.is_open() and len(pool) < self._max_idle:
                pool.append(connection)
                return
        connection.close()

    def _tls_context(self) -> Any:
        with self._lock:
            if self._tls is None:
                options = self._io.TlsContextOptions()
                if self._verify is False:
                    options.verify_peer = False
                else:  # botocore's trust: its CA bundle (certifi's unless configured)
                    path = str(get_cert_path(True)) if self._verify is True else str(self._verify)
                    options.override_default_trust_store_from_path(
                        ca_dirpath=path if _is_dir(path) else None,
                        ca_filepath=None if _is_dir(path) else path,
                    )
                self._tls = self._io.ClientTlsContext(options)
            return self._tls


_DEFAULT_PORTS = {"http": 80, "https": 443}


class _BytesStream:
    """A request body for awscrt (reads bytes)."""

    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)
        self._at = 0

    def readinto(self, buffer: Any) -> int:
        size = min(len(buffer), len(self._data) - self._at)
        buffer[:size] = self._data[self._at : self._at + size]
        self._at += size
        return size


def _split(url: str) -> tuple[str, str]:
    """``scheme://netloc`` and the request target (path and query) of an absolute URL.

    The target is what ``urlsplit`` gives (path, ``/`` when empty, then ``?query``); the
    split is by hand because it runs per request and ``urlsplit`` costs more.
    """
    start = url.find("://") + 3
    slash = url.find("/", start)
    if start < 3 or slash < 0 or "#" in url or url.endswith("?") or "?" in url[start:slash]:
        parts = urllib.parse.urlsplit(url)  # anything unusual: the library's answer
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return f"{parts.scheme}://{parts.netloc}", target
    return url[:slash], url[slash:]


@functools.lru_cache(maxsize=256)
def _site(base: str) -> tuple[tuple[str, str, int], str]:
    """The origin (scheme, host, port) and ``host`` header of ``scheme://netloc``."""
    parts = urllib.parse.urlsplit(base)
    origin = (parts.scheme, parts.hostname or "", parts.port or _DEFAULT_PORTS[parts.scheme])
    return origin, _host_header(parts)


def _host_header(parts: urllib.parse.SplitResult) -> str:
    """The ``host`` header botocore signs: lowercase host, the port unless the default."""
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    if parts.port is not None and parts.port != _DEFAULT_PORTS.get(parts.scheme):
        host = f"{host}:{parts.port}"
    return host


def _should_sign_header(name: str, **kwargs: Any) -> bool:
    """botocore's rule: every header but hop-by-hop ones, the user agent and trace ids."""
    return name.lower() not in SIGNED_HEADERS_BLACKLIST


def _is_dir(path: str) -> bool:
    return os.path.isdir(path)


def _headers_dict(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Answer headers by lower-case name; a repeated header joined with ", " as urllib3 does.

    botocore looks answer headers up by lower-case name and reports them so (its
    ``HTTPHeaders``); only header maps keep the sent case, and CopyObject's answer has none.
    """
    merged: dict[str, str] = {}
    for name, value in pairs:
        lower = name.lower()
        merged[lower] = f"{merged[lower]}, {value}" if lower in merged else value
    return merged


def _headers(headers: Any) -> dict[str, str]:
    return {str(name).lower(): _text(value) for name, value in headers.items()}


def _text(value: object) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _error_in_200(parser: PlannedParser, body: object) -> bool:
    """S3 answers some failed copies 200 with an ``<Error>`` body (or a cut-off one).

    botocore's rule (its ``_handle_200_error`` handler). The body is parsed once: the
    parser keeps the parse for its ``parse`` of the same body.
    """
    if not isinstance(body, bytes) or not body:
        return False
    try:
        root = parser.read_dom(body)
    except ResponseParserError:
        return True  # a partial answer: botocore retries it as a server error
    return bool(root.tag == "Error")
