"""The modelled S3 endpoint: HTTP/1.1 on asyncio streams, S3's REST API over ``S3Store``.

Each request pays the model's latency; CopyObject and UploadPartCopy also pay their
bytes at the per-request copy rate; a prefix beyond its request rate gets 503 SlowDown.
Any SigV4 credentials are accepted unchecked (it is a model, not a security boundary).
A few paths under ``/__model__/`` (never a valid bucket name) let a harness read and
reset the request counters and seed objects without paying for it:

- ``GET /__model__/stats``: requests by operation, errors, SlowDowns, max in flight,
  copied bytes, the UploadPartCopy part sizes seen, the server process's CPU seconds;
- ``POST /__model__/reset`` (``?data=1`` also empties the store);
- ``POST /__model__/seed?bucket=B&prefix=P&count=N&size=BYTES``;
- ``POST /__model__/delete?bucket=B&prefix=P``;
- ``GET /__model__/params``.

The server binds 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import resource
import threading
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from . import xmlout
from .costs import ModelParams
from .store import (
    CONTENT_HEADERS,
    CopyConditions,
    ObjectSettings,
    S3Error,
    S3Store,
    StoredObject,
    check_preconditions,
    fake_md5,
    filler,
    parse_tagging,
)
from .throttle import PrefixThrottle, key_prefix

HOST = "127.0.0.1"
#: Fake credentials for clients of the model; the model never checks them.
ACCESS_KEY = "s3xcopy-model"
SECRET_KEY = "s3xcopy-model-secret"
REGION = "us-east-1"

_MAX_HEAD = 1024 * 1024
_MAX_XML_BODY = 64 * 1024 * 1024
_READ_CHUNK = 1024 * 1024
_SPECIAL = "/__model__/"
#: Query keys a bucket GET may carry that still mean "list objects".
_LIST_PARAMS = frozenset(
    {
        "list-type",
        "prefix",
        "delimiter",
        "marker",
        "max-keys",
        "continuation-token",
        "start-after",
        "encoding-type",
        "fetch-owner",
        "x-id",
        "allow-unordered",
        "optional-object-attributes",
    }
)
#: Query keys on an object GET that do not name a sub-resource.
_OBJECT_GET_PARAMS = frozenset({"partNumber", "versionId", "x-id"})


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    bucket: str
    key: str
    version: str

    @property
    def resource(self) -> str:
        return f"/{self.bucket}/{self.key}" if self.key else f"/{self.bucket}"


@dataclass
class Response:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    #: (offset, length) of filler bytes to stream instead of ``body``.
    stream: tuple[int, int] | None = None
    #: Send the size in Content-Length but no body (HEAD).
    head: bool = False


@dataclass
class Stats:
    """What the model saw since the last reset; the harness reports it as "requests sent"."""

    started: float = field(default_factory=time.monotonic)
    requests: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    inflight: Counter[str] = field(default_factory=Counter)
    max_inflight: Counter[str] = field(default_factory=Counter)
    inflight_total: int = 0
    max_inflight_total: int = 0
    copied_bytes: int = 0
    copy_part_sizes: Counter[int] = field(default_factory=Counter)

    def enter(self, op: str) -> None:
        self.requests[op] += 1
        self.inflight[op] += 1
        self.max_inflight[op] = max(self.max_inflight[op], self.inflight[op])
        self.inflight_total += 1
        self.max_inflight_total = max(self.max_inflight_total, self.inflight_total)

    def leave(self, op: str) -> None:
        self.inflight[op] -= 1
        self.inflight_total -= 1

    def to_dict(self) -> dict[str, Any]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "seconds": round(time.monotonic() - self.started, 6),
            "total_requests": sum(self.requests.values()),
            "requests": dict(sorted(self.requests.items())),
            "errors": dict(sorted(self.errors.items())),
            "slowdowns": sum(n for k, n in self.errors.items() if k.endswith(" SlowDown")),
            "max_inflight": dict(sorted(self.max_inflight.items())),
            "max_inflight_total": self.max_inflight_total,
            "copied_bytes": self.copied_bytes,
            "copy_part_sizes": {str(k): v for k, v in sorted(self.copy_part_sizes.items())},
            "server_cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),
        }


class _Body:
    """A request body: its decoded length, the MD5 of its bytes when known, and (if kept) them."""

    def __init__(self, keep: bool) -> None:
        self.length = 0
        self._md5 = hashlib.md5(usedforsecurity=False)
        self.data = bytearray() if keep else None
        self.aws_chunked = False
        self.decoded_length: int | None = None

    def feed(self, chunk: bytes) -> None:
        self.length += len(chunk)
        self._md5.update(chunk)
        if self.data is not None:
            if len(self.data) + len(chunk) > _MAX_XML_BODY:
                raise S3Error(400, "EntityTooLarge", "Request body too large for this operation")
            self.data += chunk

    @property
    def size(self) -> int:
        """The payload's size: aws-chunked bodies carry framing, so trust the decoded length."""
        if self.aws_chunked and self.decoded_length is not None:
            return self.decoded_length
        return self.length

    def etag(self, *salt: object) -> str:
        """The MD5 of the payload, or a made-up one when the bytes were framed (aws-chunked)."""
        if self.aws_chunked:
            return fake_md5("aws-chunked", self.size, *salt)
        return self._md5.hexdigest()


class ModelApp:
    """The modelled S3: routes requests to the store, charges latency, copy time and throttles."""

    def __init__(self, params: ModelParams | None = None) -> None:
        self.params = params or ModelParams()
        self.store = S3Store(self.params)
        self.stats = Stats()
        self.write_throttle = PrefixThrottle(self.params.write_rps, self.params.burst_seconds)
        self.read_throttle = PrefixThrottle(self.params.read_rps, self.params.burst_seconds)
        self._request_ids = 0
        self._date = ("", 0)

    # --- connection handling -----------------------------------------------------------

    async def handle_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Serve requests on one keep-alive connection until the client closes it."""
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    return
                except asyncio.LimitOverrunError:
                    return
                request = _parse_head(head)
                if request is None:
                    writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                    return
                keep_alive = _keep_alive(request)
                response = await self._serve(request, reader, writer)
                await self._write(writer, request, response, keep_alive)
                if not keep_alive:
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        except asyncio.CancelledError:
            # Shutdown ends idle keep-alive connections this way; the task ends normally
            # (on 3.11 the stream callback would otherwise log the cancellation).
            return
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _serve(
        self, request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> Response:
        if request.path.startswith(_SPECIAL):
            body = await self._read_body(request, reader, writer, keep=False)
            del body
            return self._special(request)
        op = _operation(request)
        self.stats.enter(op)
        try:
            body = await self._read_body(request, reader, writer, keep=op in _XML_BODY_OPS)
            result: Response | _Deferred
            try:
                if not self._admit(op, request):
                    raise S3Error(503, "SlowDown", "Please reduce your request rate.")
                result = self._dispatch(op, request, body)
            except S3Error as err:
                result = self._fail(op, request, err)
            # Every answer, errors included, pays the latency; a copy also pays its bytes.
            delay = self.params.latency
            if isinstance(result, _Deferred):
                delay += result.nbytes / self.params.copy_rate
            if delay > 0:
                await asyncio.sleep(delay)
            if not isinstance(result, _Deferred):
                return result
            try:
                return result.finish()
            except S3Error as err:  # e.g. the upload was aborted while the part was copied
                return self._fail(op, request, err)
        finally:
            self.stats.leave(op)

    def _fail(self, op: str, request: Request, err: S3Error) -> Response:
        self.stats.errors[f"{op} {err.code}"] += 1
        return self._error(request, err)

    def _admit(self, op: str, request: Request) -> bool:
        if op in _FREE_OPS:
            return True
        prefix_key = request.key if request.key else request.query.get("prefix", "")
        prefix = key_prefix(request.bucket, prefix_key)
        throttle = self.read_throttle if request.method in ("GET", "HEAD") else self.write_throttle
        return throttle.allow(prefix)

    async def _read_body(
        self,
        request: Request,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        keep: bool,
    ) -> _Body:
        body = _Body(keep)
        headers = request.headers
        encoding = headers.get("content-encoding", "")
        body.aws_chunked = "aws-chunked" in encoding or headers.get(
            "x-amz-content-sha256", ""
        ).startswith("STREAMING-")
        decoded = headers.get("x-amz-decoded-content-length")
        if decoded is not None and decoded.isdigit():
            body.decoded_length = int(decoded)
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        length_text = headers.get("content-length", "0")
        length = int(length_text) if length_text.isdigit() else 0
        if not chunked and length == 0:
            return body
        if headers.get("expect", "").lower() == "100-continue":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        if chunked:
            while True:
                line = await reader.readuntil(b"\r\n")
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while await reader.readuntil(b"\r\n") != b"\r\n":
                        pass
                    break
                await _read_exact(reader, size, body.feed)
                await reader.readexactly(2)
        else:
            await _read_exact(reader, length, body.feed)
        return body

    async def _write(
        self, writer: asyncio.StreamWriter, request: Request, response: Response, keep_alive: bool
    ) -> None:
        length = response.stream[1] if response.stream else len(response.body)
        lines = [f"HTTP/1.1 {response.status} {_REASONS.get(response.status, 'OK')}"]
        lines.append(f"Date: {self._http_date()}")
        lines.append("Server: s3xcopy-model")
        lines.append(f"x-amz-request-id: {self._request_id()}")
        lines.extend(f"{name}: {value}" for name, value in response.headers)
        if response.status != 304:
            lines.append(f"Content-Length: {length}")
        if not keep_alive:
            lines.append("Connection: close")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace"))
        if request.method == "HEAD" or response.head or response.status == 304:
            await writer.drain()
            return
        if response.stream is not None:
            offset, size = response.stream
            for chunk in filler(offset, size):
                writer.write(chunk)
                await writer.drain()
        else:
            writer.write(response.body)
            await writer.drain()

    def _http_date(self) -> str:
        now = int(time.time())
        if self._date[1] != now:
            self._date = (formatdate(now, usegmt=True), now)
        return self._date[0]

    def _request_id(self) -> str:
        self._request_ids += 1
        return f"{self._request_ids:016X}"

    def _error(self, request: Request, err: S3Error) -> Response:
        body = xmlout.error(err.code, err.message, err.resource or request.resource, "0")
        if request.method == "HEAD":
            return Response(err.status, [("x-amz-error-code", err.code)], b"", head=True)
        return Response(err.status, [("Content-Type", "application/xml")], body)

    # --- the special endpoints ----------------------------------------------------------

    def _special(self, request: Request) -> Response:
        name = request.path[len(_SPECIAL) :].strip("/")
        q = request.query
        try:
            if name == "stats" and request.method == "GET":
                return _json(self.stats.to_dict())
            if name == "params" and request.method == "GET":
                return _json(self.params.to_dict())
            if name == "reset" and request.method == "POST":
                self.reset(data=q.get("data", "") in ("1", "true"))
                return _json({"reset": True})
            if name == "seed" and request.method == "POST":
                keys = self.store.seed(
                    q["bucket"], q.get("prefix", ""), int(q.get("count", "1")), int(q["size"])
                )
                return _json({"count": len(keys), "first": keys[0], "last": keys[-1]})
            if name == "delete" and request.method == "POST":
                deleted = self.store.delete_prefix(q["bucket"], q.get("prefix", ""))
                return _json({"deleted": deleted})
        except (KeyError, ValueError) as exc:
            return _json({"error": f"bad request: {exc}"}, status=400)
        except S3Error as err:
            return _json({"error": err.code, "message": err.message}, status=err.status)
        return _json({"error": f"no such model endpoint: {request.method} {name}"}, status=404)

    def reset(self, *, data: bool = False) -> None:
        """Zero the counters (and with ``data`` forget every bucket) and refill the throttles."""
        self.stats = Stats()
        self.write_throttle.reset()
        self.read_throttle.reset()
        if data:
            self.store = S3Store(self.params)

    # --- routing -----------------------------------------------------------------------

    def _dispatch(self, op: str, request: Request, body: _Body) -> Response | _Deferred:
        handler = _HANDLERS.get(op)
        if handler is None:
            raise S3Error(
                501,
                "NotImplemented",
                "A header or query you provided implies functionality that is not implemented "
                f"(the model does not do {op})",
            )
        _check_version(request.query.get("versionId"))
        return handler(self, request, body)

    # bucket operations

    def list_buckets(self, request: Request, body: _Body) -> Response:
        buckets = sorted((b.name, b.created) for b in self.store.buckets.values())
        return _xml(xmlout.list_buckets(buckets))

    def create_bucket(self, request: Request, body: _Body) -> Response:
        self.store.create_bucket(request.bucket)
        return Response(200, [("Location", f"/{request.bucket}")])

    def head_bucket(self, request: Request, body: _Body) -> Response:
        self.store.bucket(request.bucket)
        return Response(200, [("x-amz-bucket-region", REGION)], head=True)

    def delete_bucket(self, request: Request, body: _Body) -> Response:
        self.store.delete_bucket(request.bucket)
        return Response(204)

    def get_bucket_location(self, request: Request, body: _Body) -> Response:
        self.store.bucket(request.bucket)
        return _xml(xmlout.location())

    def get_bucket_versioning(self, request: Request, body: _Body) -> Response:
        self.store.bucket(request.bucket)
        return _xml(xmlout.versioning())

    def get_bucket_encryption(self, request: Request, body: _Body) -> Response:
        self.store.bucket(request.bucket)
        return _xml(xmlout.encryption())

    def list_objects(self, request: Request, body: _Body) -> Response:
        q = request.query
        v2 = q.get("list-type") == "2"
        prefix, delimiter = q.get("prefix", ""), q.get("delimiter", "")
        max_keys = _int_param(q.get("max-keys", "1000"), "max-keys")
        max_keys = max(0, min(max_keys, 1000))
        url = q.get("encoding-type", "").lower() == "url"
        token = q.get("continuation-token")
        if v2:
            resume = _decode_token(token) if token is not None else q.get("start-after", "")
        else:
            resume = q.get("marker", "")
        page = self.store.list_objects(
            request.bucket,
            prefix=prefix,
            delimiter=delimiter,
            resume_after=resume,
            max_keys=max_keys,
        )
        next_token = _encode_token(page.last) if v2 and page.truncated and page.last else None
        return _xml(
            xmlout.list_objects(
                request.bucket,
                page,
                v2=v2,
                prefix=prefix,
                delimiter=delimiter,
                max_keys=max_keys,
                url=url,
                marker=q.get("marker", ""),
                continuation=token,
                next_continuation=next_token,
                start_after=q.get("start-after", ""),
                fetch_owner=q.get("fetch-owner") == "true",
            )
        )

    def list_multipart_uploads(self, request: Request, body: _Body) -> Response:
        prefix = request.query.get("prefix", "")
        uploads = self.store.list_uploads(request.bucket, prefix)
        return _xml(xmlout.list_uploads(request.bucket, uploads, prefix))

    def delete_objects(self, request: Request, body: _Body) -> Response:
        self.store.bucket(request.bucket)
        root = _parse_xml(body)
        quiet = (_child_text(root, "Quiet") or "").lower() == "true"
        keys = [_child_text(o, "Key") or "" for o in _children(root, "Object")]
        if len(keys) > 1000:
            raise S3Error(400, "MalformedXML", "DeleteObjects takes at most 1000 keys")
        for key in keys:
            self.store.delete_object(request.bucket, key)
        return _xml(xmlout.delete_result(keys, [], quiet))

    # object operations

    def head_object(self, request: Request, body: _Body) -> Response:
        return self.get_object(request, body, head=True)

    def get_object(self, request: Request, body: _Body, *, head: bool = False) -> Response:
        obj = self.store.get_object(request.bucket, request.key)
        not_modified = check_preconditions(obj, _read_conditions(request.headers), copy=False)
        headers = _object_headers(obj)
        if not_modified:
            return Response(304, [h for h in headers if h[0] in ("ETag", "Last-Modified")])
        offset, length, status = 0, obj.size, 200
        part_number = request.query.get("partNumber")
        if part_number is not None:
            offset, length = _part_range(obj, _int_param(part_number, "partNumber"))
            headers.append(("x-amz-mp-parts-count", str(len(obj.part_sizes) or 1)))
            if obj.part_sizes:
                status = 206
                headers.append(_content_range(offset, length, obj.size))
        elif "range" in request.headers:
            spec = _byte_range(request.headers["range"], obj.size)
            if spec is not None:
                offset, length = spec
                status = 206
                headers.append(_content_range(offset, length, obj.size))
        for name, value in request.query.items():
            if name.startswith("response-"):
                header = _RESPONSE_OVERRIDES.get(name)
                if header:
                    headers = [h for h in headers if h[0].lower() != header.lower()]
                    headers.append((header, value))
        if head:
            return Response(status, headers, stream=(offset, length), head=True)
        return Response(status, headers, stream=(offset, length))

    def put_object(self, request: Request, body: _Body) -> Response:
        settings = _settings(request.headers)
        obj = self.store.put_object(
            request.bucket, request.key, body.size, body.etag(request.resource), settings
        )
        return Response(200, [("ETag", f'"{obj.etag}"'), *_sse_headers(obj.headers)])

    def delete_object(self, request: Request, body: _Body) -> Response:
        self.store.delete_object(request.bucket, request.key)
        return Response(204)

    def copy_object(self, request: Request, body: _Body) -> _Deferred:
        src_bucket, src_key = _copy_source(request.headers["x-amz-copy-source"])
        pending = self.store.copy_object(
            src_bucket,
            src_key,
            request.bucket,
            request.key,
            conditions=_copy_conditions(request.headers),
            settings=_settings(request.headers),
            metadata_directive=request.headers.get("x-amz-metadata-directive", "COPY"),
            tagging_directive=request.headers.get("x-amz-tagging-directive", "COPY"),
        )

        def finish() -> Response:
            obj = pending.commit()
            self.stats.copied_bytes += obj.size
            body = xmlout.copy_result("CopyObjectResult", obj.etag, obj.last_modified)
            return _xml(body, _sse_headers(obj.headers))

        return _Deferred(pending.nbytes, finish)

    def create_multipart_upload(self, request: Request, body: _Body) -> Response:
        upload = self.store.create_multipart_upload(
            request.bucket, request.key, _settings(request.headers)
        )
        return _xml(
            xmlout.initiate(request.bucket, request.key, upload.upload_id),
            _sse_headers(upload.headers),
        )

    def upload_part(self, request: Request, body: _Body) -> Response:
        number = _int_param(request.query.get("partNumber", ""), "partNumber")
        upload_id = request.query["uploadId"]
        part = self.store.upload_part(
            request.bucket,
            request.key,
            upload_id,
            number,
            body.size,
            body.etag(upload_id, number),
        )
        return Response(200, [("ETag", f'"{part.etag}"')])

    def upload_part_copy(self, request: Request, body: _Body) -> _Deferred:
        number = _int_param(request.query.get("partNumber", ""), "partNumber")
        src_bucket, src_key = _copy_source(request.headers["x-amz-copy-source"])
        pending = self.store.upload_part_copy(
            request.bucket,
            request.key,
            request.query["uploadId"],
            number,
            src_bucket,
            src_key,
            copy_range=request.headers.get("x-amz-copy-source-range"),
            conditions=_copy_conditions(request.headers),
        )

        def finish() -> Response:
            part = pending.commit()
            self.stats.copied_bytes += part.size
            self.stats.copy_part_sizes[part.size] += 1
            body = xmlout.copy_result("CopyPartResult", part.etag, part.last_modified)
            return _xml(body)

        return _Deferred(pending.nbytes, finish)

    def list_parts(self, request: Request, body: _Body) -> Response:
        q = request.query
        marker = _int_param(q.get("part-number-marker", "0"), "part-number-marker")
        max_parts = max(1, min(_int_param(q.get("max-parts", "1000"), "max-parts"), 1000))
        upload = self.store.upload(request.bucket, request.key, q["uploadId"])
        parts, truncated = self.store.list_parts(
            request.bucket, request.key, q["uploadId"], marker=marker, max_parts=max_parts
        )
        return _xml(
            xmlout.list_parts(
                request.bucket,
                request.key,
                upload,
                parts,
                marker=marker,
                max_parts=max_parts,
                truncated=truncated,
            )
        )

    def complete_multipart_upload(self, request: Request, body: _Body) -> Response:
        root = _parse_xml(body)
        parts: list[tuple[int, str]] = []
        for part in _children(root, "Part"):
            number = _int_param(_child_text(part, "PartNumber") or "", "PartNumber")
            parts.append((number, _child_text(part, "ETag") or ""))
        obj = self.store.complete_multipart_upload(
            request.bucket, request.key, request.query["uploadId"], parts
        )
        location = f"http://{request.headers.get('host', HOST)}{request.resource}"
        return _xml(
            xmlout.complete(location, request.bucket, request.key, obj.etag),
            _sse_headers(obj.headers),
        )

    def abort_multipart_upload(self, request: Request, body: _Body) -> Response:
        self.store.abort_multipart_upload(request.bucket, request.key, request.query["uploadId"])
        return Response(204)

    def get_object_tagging(self, request: Request, body: _Body) -> Response:
        return _xml(xmlout.tagging(self.store.get_object(request.bucket, request.key).tags))

    def put_object_tagging(self, request: Request, body: _Body) -> Response:
        root = _parse_xml(body)
        tags: dict[str, str] = {}
        for tag_set in _children(root, "TagSet"):
            for tag in _children(tag_set, "Tag"):
                tags[_child_text(tag, "Key") or ""] = _child_text(tag, "Value") or ""
        self.store.put_tags(request.bucket, request.key, tags)
        return Response(200)

    def delete_object_tagging(self, request: Request, body: _Body) -> Response:
        self.store.delete_tags(request.bucket, request.key)
        return Response(204)


@dataclass(frozen=True)
class _Deferred:
    """A copy whose response waits ``nbytes / copy rate`` before ``finish()`` commits it."""

    nbytes: int
    finish: Callable[[], Response]


_Handler = Callable[[ModelApp, Request, _Body], "Response | _Deferred"]

_HANDLERS: dict[str, _Handler] = {
    "ListBuckets": ModelApp.list_buckets,
    "CreateBucket": ModelApp.create_bucket,
    "HeadBucket": ModelApp.head_bucket,
    "DeleteBucket": ModelApp.delete_bucket,
    "GetBucketLocation": ModelApp.get_bucket_location,
    "GetBucketVersioning": ModelApp.get_bucket_versioning,
    "GetBucketEncryption": ModelApp.get_bucket_encryption,
    "ListObjects": ModelApp.list_objects,
    "ListObjectsV2": ModelApp.list_objects,
    "ListMultipartUploads": ModelApp.list_multipart_uploads,
    "DeleteObjects": ModelApp.delete_objects,
    "HeadObject": ModelApp.head_object,
    "GetObject": ModelApp.get_object,
    "PutObject": ModelApp.put_object,
    "DeleteObject": ModelApp.delete_object,
    "CopyObject": ModelApp.copy_object,
    "CreateMultipartUpload": ModelApp.create_multipart_upload,
    "UploadPart": ModelApp.upload_part,
    "UploadPartCopy": ModelApp.upload_part_copy,
    "ListParts": ModelApp.list_parts,
    "CompleteMultipartUpload": ModelApp.complete_multipart_upload,
    "AbortMultipartUpload": ModelApp.abort_multipart_upload,
    "GetObjectTagging": ModelApp.get_object_tagging,
    "PutObjectTagging": ModelApp.put_object_tagging,
    "DeleteObjectTagging": ModelApp.delete_object_tagging,
}
#: Operations whose request body the handler reads (all others are counted and dropped).
_XML_BODY_OPS = frozenset(
    {"CompleteMultipartUpload", "DeleteObjects", "PutObjectTagging", "CreateBucket"}
)
#: Operations no prefix rate applies to (account- and bucket-level).
_FREE_OPS = frozenset(
    {
        "ListBuckets",
        "CreateBucket",
        "HeadBucket",
        "DeleteBucket",
        "GetBucketLocation",
        "GetBucketVersioning",
        "GetBucketEncryption",
    }
)
_REASONS = {
    200: "OK",
    204: "No Content",
    206: "Partial Content",
    304: "Not Modified",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    412: "Precondition Failed",
    416: "Requested Range Not Satisfiable",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Slow Down",
}
_RESPONSE_OVERRIDES = {
    "response-content-type": "Content-Type",
    "response-content-language": "Content-Language",
    "response-expires": "Expires",
    "response-cache-control": "Cache-Control",
    "response-content-disposition": "Content-Disposition",
    "response-content-encoding": "Content-Encoding",
}


def _operation(request: Request) -> str:
    """The S3 API a request is (``UploadPartCopy``), or ``METHOD ?subresource`` if unknown."""
    m, q, h = request.method, request.query, request.headers
    if not request.bucket:
        return "ListBuckets" if m == "GET" else f"{m} /"
    if not request.key:
        if m == "GET":
            for name, op in (
                ("location", "GetBucketLocation"),
                ("versioning", "GetBucketVersioning"),
                ("encryption", "GetBucketEncryption"),
                ("uploads", "ListMultipartUploads"),
            ):
                if name in q:
                    return op
            unknown = sorted(set(q) - _LIST_PARAMS)
            if unknown:
                return f"GET bucket?{unknown[0]}"
            return "ListObjectsV2" if q.get("list-type") == "2" else "ListObjects"
        if m == "POST" and "delete" in q:
            return "DeleteObjects"
        if q and m in ("PUT", "DELETE", "HEAD"):
            return f"{m} bucket?{sorted(q)[0]}"
        return {"PUT": "CreateBucket", "HEAD": "HeadBucket", "DELETE": "DeleteBucket"}.get(
            m, f"{m} bucket"
        )
    if m in ("GET", "HEAD"):
        if m == "GET" and "uploadId" in q:
            return "ListParts"
        if m == "GET" and "tagging" in q:
            return "GetObjectTagging"
        unknown = sorted(n for n in set(q) - _OBJECT_GET_PARAMS if not n.startswith("response-"))
        if unknown:
            return f"{m} object?{unknown[0]}"
        return "GetObject" if m == "GET" else "HeadObject"
    if m == "PUT":
        if "tagging" in q:
            return "PutObjectTagging"
        if "uploadId" in q:
            return "UploadPartCopy" if "x-amz-copy-source" in h else "UploadPart"
        if set(q) - {"x-id"}:
            return f"PUT object?{sorted(q)[0]}"
        return "CopyObject" if "x-amz-copy-source" in h else "PutObject"
    if m == "POST":
        if "uploads" in q:
            return "CreateMultipartUpload"
        if "uploadId" in q:
            return "CompleteMultipartUpload"
        return "POST object"
    if m == "DELETE":
        if "uploadId" in q:
            return "AbortMultipartUpload"
        if "tagging" in q:
            return "DeleteObjectTagging"
        return "DeleteObject"
    return f"{m} object"


def _parse_head(head: bytes) -> Request | None:
    """Parse a request line and headers (names lower-cased); None when malformed."""
    try:
        text = head.decode("latin-1")
        first, _, rest = text.partition("\r\n")
        method, target, version = first.split(" ", 2)
    except ValueError:
        return None
    headers: dict[str, str] = {}
    for line in rest.split("\r\n"):
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            return None
        headers[name.strip().lower()] = value.strip()
    split = urlsplit(target)
    path = unquote(split.path, errors="surrogateescape")
    query = dict(parse_qsl(split.query, keep_blank_values=True))
    bucket, key = _bucket_and_key(path, headers.get("host", ""))
    return Request(method.upper(), path, query, headers, bucket, key, version.strip())


def _bucket_and_key(path: str, host: str) -> tuple[str, str]:
    """Path-style ``/bucket/key``, or virtual-hosted ``bucket.localhost`` + ``/key``."""
    hostname = host.rsplit(":", 1)[0] if not host.startswith("[") else host
    for suffix in (".localhost", f".{HOST}"):
        if hostname.endswith(suffix) and len(hostname) > len(suffix):
            return hostname[: -len(suffix)], path.lstrip("/")
    bucket, _, key = path.lstrip("/").partition("/")
    return bucket, key


def _keep_alive(request: Request) -> bool:
    connection = request.headers.get("connection", "").lower()
    if request.version.upper() == "HTTP/1.0":
        return connection == "keep-alive"
    return connection != "close"


async def _read_exact(reader: asyncio.StreamReader, n: int, sink: Callable[[bytes], None]) -> None:
    while n > 0:
        chunk = await reader.read(min(n, _READ_CHUNK))
        if not chunk:
            raise asyncio.IncompleteReadError(b"", n)
        sink(chunk)
        n -= len(chunk)


def _json(data: dict[str, Any], status: int = 200) -> Response:
    body = json.dumps(data, indent=1).encode()
    return Response(status, [("Content-Type", "application/json")], body)


def _xml(body: bytes, extra: list[tuple[str, str]] | None = None) -> Response:
    return Response(200, [("Content-Type", "application/xml"), *(extra or [])], body)


def _int_param(text: str, name: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise S3Error(400, "InvalidArgument", f"{name} must be an integer, not {text!r}") from None


def _check_version(version_id: str | None) -> None:
    if version_id not in (None, "", "null"):
        raise S3Error(400, "InvalidArgument", "Invalid version id specified")


def _encode_token(text: str) -> str:
    import base64

    return base64.urlsafe_b64encode(text.encode("utf-8", "surrogateescape")).decode()


def _decode_token(token: str) -> str:
    import base64
    import binascii

    try:
        return base64.urlsafe_b64decode(token.encode()).decode("utf-8", "surrogateescape")
    except (binascii.Error, ValueError):
        raise S3Error(
            400, "InvalidArgument", "The continuation token provided is incorrect"
        ) from None


def _copy_source(header: str) -> tuple[str, str]:
    """Bucket and key of ``x-amz-copy-source`` (``/bucket/key`` or ``bucket/key``, URL-encoded)."""
    path, _, query = header.partition("?")
    params = dict(parse_qsl(query, keep_blank_values=True))
    _check_version(params.get("versionId"))
    bucket, _, key = unquote(path, errors="surrogateescape").lstrip("/").partition("/")
    if not bucket or not key:
        raise S3Error(400, "InvalidArgument", "Copy Source must mention the source bucket and key")
    return bucket, key


def _copy_conditions(headers: dict[str, str]) -> CopyConditions:
    return CopyConditions(
        if_match=headers.get("x-amz-copy-source-if-match"),
        if_none_match=headers.get("x-amz-copy-source-if-none-match"),
        if_modified_since=headers.get("x-amz-copy-source-if-modified-since"),
        if_unmodified_since=headers.get("x-amz-copy-source-if-unmodified-since"),
    )


def _read_conditions(headers: dict[str, str]) -> CopyConditions:
    return CopyConditions(
        if_match=headers.get("if-match"),
        if_none_match=headers.get("if-none-match"),
        if_modified_since=headers.get("if-modified-since"),
        if_unmodified_since=headers.get("if-unmodified-since"),
    )


def _settings(headers: dict[str, str]) -> ObjectSettings:
    """What a PUT / copy / create-upload request asks for its object."""
    meta = "x-amz-meta-"
    metadata = {k[len(meta) :]: v for k, v in headers.items() if k.startswith(meta)}
    content = {k: v for k, v in headers.items() if k in CONTENT_HEADERS}
    content.update(
        {
            k: v
            for k, v in headers.items()
            if k in ("x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id")
        }
    )
    tags = parse_tagging(headers["x-amz-tagging"]) if "x-amz-tagging" in headers else None
    return ObjectSettings(content, metadata, tags, headers.get("x-amz-storage-class"))


def _object_headers(obj: StoredObject) -> list[tuple[str, str]]:
    out = [
        ("ETag", f'"{obj.etag}"'),
        ("Last-Modified", formatdate(obj.last_modified, usegmt=True)),
        ("Accept-Ranges", "bytes"),
    ]
    for name, value in obj.headers.items():
        out.append((_HEADER_CASE.get(name, name), value))
    out.extend((f"x-amz-meta-{k}", v) for k, v in obj.metadata.items())
    if obj.tags:
        out.append(("x-amz-tagging-count", str(len(obj.tags))))
    if obj.storage_class != "STANDARD":
        out.append(("x-amz-storage-class", obj.storage_class))
    return out


_HEADER_CASE = {
    "content-type": "Content-Type",
    "content-encoding": "Content-Encoding",
    "content-disposition": "Content-Disposition",
    "content-language": "Content-Language",
    "cache-control": "Cache-Control",
    "expires": "Expires",
}


def _sse_headers(headers: dict[str, str]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers.items() if k.startswith("x-amz-server-side-encryption")]


def _part_range(obj: StoredObject, number: int) -> tuple[int, int]:
    sizes = obj.part_sizes or (obj.size,)
    if not 1 <= number <= len(sizes):
        raise S3Error(416, "InvalidPartNumber", "The requested partnumber is not satisfiable")
    return sum(sizes[: number - 1]), sizes[number - 1]


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(offset, length) of a single ``Range: bytes=...``; None means "send it all"."""
    spec = header.strip()
    if not spec.startswith("bytes=") or "," in spec:
        return None
    first_s, sep, last_s = spec[len("bytes=") :].partition("-")
    if not sep:
        return None
    unsatisfiable = S3Error(416, "InvalidRange", "The requested range is not satisfiable")
    try:
        if first_s == "":
            suffix = int(last_s)
            if suffix == 0:
                raise unsatisfiable
            first = max(0, size - suffix)
            return first, size - first
        first = int(first_s)
        last = int(last_s) if last_s else size - 1
    except ValueError:
        return None
    if first >= size:
        raise unsatisfiable
    last = min(last, size - 1)
    if last < first:
        return None
    return first, last - first + 1


def _content_range(offset: int, length: int, size: int) -> tuple[str, str]:
    return ("Content-Range", f"bytes {offset}-{offset + length - 1}/{size}")


def _parse_xml(body: _Body) -> ET.Element:
    try:
        return ET.fromstring(bytes(body.data or b""))
    except ET.ParseError:
        raise S3Error(
            400,
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate against our "
            "published schema",
        ) from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element: ET.Element, name: str) -> Iterator[ET.Element]:
    return (child for child in element if _local(child.tag) == name)


def _child_text(element: ET.Element, name: str) -> str | None:
    for child in _children(element, name):
        return child.text or ""
    return None


class ModelServer:
    """The modelled S3 on 127.0.0.1 in a background thread; a context manager.

    >>> with ModelServer(ModelParams(latency_ms=0)) as model:    # doctest: +SKIP
    ...     s3 = boto3.client("s3", **model.client_kwargs())
    """

    def __init__(self, params: ModelParams | None = None, port: int = 0) -> None:
        self.app = ModelApp(params)
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def client_kwargs(self) -> dict[str, str]:
        """Keyword arguments for ``boto3.client("s3", **kwargs)`` against this server."""
        return client_kwargs(self.endpoint_url)

    def start(self) -> ModelServer:
        self._thread = threading.Thread(target=self._run, name="s3xcopy-model", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout=10):
            raise RuntimeError("the model server did not start within 10 s")
        if self._failure is not None:
            raise RuntimeError(f"the model server failed to start: {self._failure}")
        return self

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported to start(); the thread must not die silently
            self._failure = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()

        def ready(port: int) -> None:
            self.port = port
            self._ready.set()

        await serve(self.app, self.port, self._stop, ready)

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the server's loop (where the state lives) and return its result."""
        if self._loop is None:
            raise RuntimeError("the model server is not running")

        async def run() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=30)

    def stats(self) -> dict[str, Any]:
        return dict(self.call(self.app.stats.to_dict))

    def reset(self, *, data: bool = False) -> None:
        self.call(lambda: self.app.reset(data=data))

    def seed(self, bucket: str, prefix: str, count: int, size: int) -> list[str]:
        return list(self.call(lambda: self.app.store.seed(bucket, prefix, count, size)))

    def stop(self) -> None:
        loop, stop, thread = self._loop, self._stop, self._thread
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        if thread is not None:
            thread.join(timeout=10)
        self._loop = self._stop = self._thread = None

    def __enter__(self) -> ModelServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def client_kwargs(endpoint_url: str) -> dict[str, str]:
    """boto3 client arguments for a model at ``endpoint_url`` (fake credentials)."""
    return {
        "endpoint_url": endpoint_url,
        "aws_access_key_id": ACCESS_KEY,
        "aws_secret_access_key": SECRET_KEY,
        "region_name": REGION,
    }


async def serve(
    app: ModelApp,
    port: int,
    stop: asyncio.Event,
    ready: Callable[[int], None] | None = None,
) -> None:
    """Serve ``app`` on 127.0.0.1:``port`` (0 = any free port) until ``stop`` is set."""
    connections: set[asyncio.Task[None]] = set()

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            connections.add(task)
        try:
            await app.handle_connection(reader, writer)
        finally:
            if task is not None:
                connections.discard(task)

    server = await asyncio.start_server(
        on_connect, HOST, port, limit=_MAX_HEAD, backlog=1024, reuse_address=True
    )
    bound = server.sockets[0].getsockname()[1]
    if ready is not None:
        ready(bound)
    try:
        await stop.wait()
    finally:
        server.close()
        # Clients keep idle connections open; end them so shutdown never waits on a client.
        for task in list(connections):
            task.cancel()
        if connections:
            await asyncio.wait(list(connections), timeout=5)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(server.wait_closed(), timeout=5)


def run_forever(
    params: ModelParams, port: int, on_ready: Callable[[int], None] | None = None
) -> None:
    """Serve the model on 127.0.0.1:``port`` until SIGINT or SIGTERM (``s3xcopy bench model``)."""
    import signal

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve(ModelApp(params), port, stop, on_ready)

    asyncio.run(main())
