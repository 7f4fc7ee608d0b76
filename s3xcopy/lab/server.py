"""LabServer: a local S3 endpoint that authorizes like AWS, then forwards to a real S3 backend.

For each signed request the lab reads the access key (the principal), works out
the S3 API, checks ownership / Requester Pays / ACL rules, asks the policy engine
for every s3: and kms: permission the call needs in S3's context (source and
destination), and either answers with S3's own error (status, code, message,
RequestId, HostId) or forwards the raw request to the backend and relays the
answer. The backend knows nothing of accounts or KMS: the lab strips SSE-KMS,
ACL, owner and payer headers before forwarding, remembers which key encrypts each
object it wrote (SSE headers or the bucket's default; Bucket Key flag) and adds
the ``x-amz-server-side-encryption*`` response headers S3 sends. It also answers
STS GetCallerIdentity and KMS DescribeKey on the same endpoint.

The backend must accept any signature (SeaweedFS with no identities configured
does), because the lab forwards requests whose headers it changed. The lab is a
laboratory, not a security boundary: it never verifies signatures.

    with LabServer("original", backend_url=seaweed.endpoint_url) as lab:
        s3 = boto3.client("s3", **lab.client_kwargs("EC2Role"))
        ...
        lab.add_statement("keys/dst-key", {...})   # grant, then retry
"""

from __future__ import annotations

import base64
import collections
import contextlib
import hashlib
import http.client
import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO
from urllib.parse import urlsplit
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from ..errors import S3xCopyError
from ..location import S3Location
from ..policy.context import Network, kms_context_direct
from ..policy.evaluate import Request, evaluate
from ..policy.model import Encryption
from ..policy.operations import OperationCheck, PermissionCheck, S3Call, check_call
from ..policy.principals import Caller
from .protocol import (
    LabRequest,
    kms_error_json,
    new_request_ids,
    parse_request,
    s3_error_xml,
    sts_caller_identity_xml,
    sts_error_xml,
)
from .scenario import LabPrincipal, Scenario, load_scenario

__all__ = ["LabError", "LabRequestRecord", "LabServer"]

_CHUNK = 256 * 1024
_BACKEND_TIMEOUT = 120.0
_CLIENT_TIMEOUT = 120.0
#: Largest body the lab reads into memory (STS/KMS forms, XML bodies, chunked uploads).
_MAX_BUFFERED = 64 * 1024 * 1024
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "expect",
    "host",
}
# Headers the backend must not see: the lab models them (KMS, ACLs, owners, payer).
_STRIPPED_PREFIXES = ("x-amz-server-side-encryption", "x-amz-grant-")
_STRIPPED = {
    "x-amz-acl",
    "x-amz-expected-bucket-owner",
    "x-amz-source-expected-bucket-owner",
    "x-amz-request-payer",
}
_SSE_RESPONSE_OPS = {
    "HeadObject",
    "GetObject",
    "PutObject",
    "CopyObject",
    "CreateMultipartUpload",
    "UploadPart",
    "UploadPartCopy",
    "CompleteMultipartUpload",
}
_WRITES_NEW_OBJECT = {"PutObject", "CopyObject", "CreateMultipartUpload"}
_IN_UPLOAD = {"UploadPart", "UploadPartCopy", "CompleteMultipartUpload"}
_READS = {"HeadObject", "GetObject", "GetObjectAttributes"}
_UPLOAD_ID = re.compile(rb"<UploadId>([^<]+)</UploadId>")


class LabError(S3xCopyError):
    """The lab could not start (backend unreachable, bad scenario)."""


@dataclass(frozen=True)
class LabRequestRecord:
    """One request the lab answered: for tests and the serve log."""

    operation: str
    principal: str | None
    bucket: str
    key: str
    status: int
    #: S3's error code when the lab answered with an error (AccessDenied...).
    error_code: str | None = None
    #: Which permission decided a denial (``kms:Decrypt on arn:...``).
    detail: str | None = None


@dataclass
class _Upload:
    bucket: str
    key: str
    encryption: Encryption | None
    checksum_algorithm: str | None
    #: aws:PrincipalArn of whoever created the upload: S3 lets the initiator abort it and
    #: list its parts without an s3:AbortMultipartUpload / s3:ListMultipartUploadParts grant.
    initiator: str = ""


class _ObjectState:
    """Encryption of objects the lab wrote and of open multipart uploads (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.objects: dict[tuple[str, str], Encryption] = {}
        self.uploads: dict[str, _Upload] = {}


class _LimitedReader:
    """Reads at most ``remaining`` bytes from a stream, for http.client to send."""

    def __init__(self, stream: BinaryIO, length: int) -> None:
        self.stream = stream
        self.remaining = length

    def read(self, size: int = -1) -> bytes:
        if self.remaining <= 0:
            return b""
        want = self.remaining if size < 0 else min(size, self.remaining)
        data = self.stream.read(want)
        self.remaining -= len(data)
        if not data:
            self.remaining = 0
        return data


class LabServer:
    """The lab endpoint, in a thread: ``start()`` / ``stop()`` or a context manager."""

    def __init__(
        self,
        scenario: Scenario | Mapping[str, Any] | str | Path,
        *,
        backend_url: str,
        host: str = "127.0.0.1",
        port: int = 0,
        now: datetime | None = None,
        on_request: Callable[[LabRequestRecord], None] | None = None,
    ) -> None:
        self._scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        split = urlsplit(backend_url)
        if split.scheme != "http" or not split.hostname:
            raise LabError(f"backend URL must be http://host:port, got {backend_url!r}")
        self.backend_url = backend_url.rstrip("/")
        self._backend = (split.hostname, split.port or 80)
        self._host, self._port = host, port
        self._now = now
        #: Called (in the serving thread) with each request's record: ``lab serve -v`` prints.
        self.on_request = on_request
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.state = _ObjectState()
        #: The last requests answered (newest last), for tests and logs.
        self.requests: collections.deque[LabRequestRecord] = collections.deque(maxlen=10_000)

    # --- life cycle ------------------------------------------------------------------

    @property
    def endpoint_url(self) -> str:
        if self._httpd is None:
            raise LabError("the lab is not running")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1]) if self._httpd else 0

    def start(self) -> LabServer:
        self._create_buckets(self._scenario)
        handler = type("_BoundHandler", (_Handler,), {"lab": self})
        try:
            self._httpd = _QuietServer((self._host, self._port), handler)
        except OSError as exc:
            raise LabError(f"cannot listen on {self._host}:{self._port}: {exc.strerror}") from exc
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> LabServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- scenario ----------------------------------------------------------------------

    @property
    def scenario(self) -> Scenario:
        return self._scenario

    def set_scenario(self, scenario: Scenario | Mapping[str, Any] | str | Path) -> Scenario:
        """Swap the scenario at runtime (atomic; objects' encryption is kept)."""
        new = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        self._create_buckets(new)
        self._scenario = new
        return new

    def add_statement(self, target: str, statement: Mapping[str, Any]) -> Scenario:
        """Append a statement to one policy of the running scenario (Scenario.with_statement)."""
        return self.set_scenario(self._scenario.with_statement(target, statement))

    def client_kwargs(self, principal: str) -> dict[str, str]:
        """``boto3.client("s3", **kwargs)`` arguments for one of the scenario's principals."""
        found = self._scenario.principal(principal)
        return {
            "endpoint_url": self.endpoint_url,
            "aws_access_key_id": found.access_key_id,
            "aws_secret_access_key": found.secret_access_key,
            "region_name": self._scenario.region,
        }

    def object_encryption(self, bucket: str, key: str) -> Encryption | None:
        """The encryption the lab recorded for an object it wrote (None if unknown)."""
        with self.state.lock:
            return self.state.objects.get((bucket, key))

    def _create_buckets(self, scenario: Scenario) -> None:
        for name in scenario.world.buckets:
            status, _, _ = self._backend_call("PUT", f"/{name}")
            if status not in (200, 409):
                raise LabError(
                    f"backend {self.backend_url} refused to create bucket {name}: HTTP {status}"
                )

    def _backend_call(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection(*self._backend, timeout=_BACKEND_TIMEOUT)
        try:
            conn.request(method, path, body=body, headers=dict(headers or {}))
            response = conn.getresponse()
            body = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, body
        except OSError as exc:
            raise LabError(f"backend {self.backend_url} unreachable: {exc}") from exc
        finally:
            conn.close()

    def _record(self, record: LabRequestRecord) -> None:
        self.requests.append(record)
        if self.on_request is not None:
            self.on_request(record)

    def network_for(self, principal: LabPrincipal | None, client_ip: str) -> Network:
        info = principal.info if principal else None
        return Network(
            source_ip=(info.source_ip if info and info.source_ip else client_ip),
            source_vpce=info.source_vpce if info else None,
            secure_transport=True,
            now=self._now,
        )


class _QuietServer(ThreadingHTTPServer):
    """A threading HTTP server that does not print a traceback when a client hangs up."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """One connection; each request is checked, answered or forwarded."""

    lab: LabServer
    protocol_version = "HTTP/1.1"
    server_version = "AmazonS3"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(_CLIENT_TIMEOUT)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the lab records requests in ``LabServer.requests`` instead."""

    def handle_expect_100(self) -> bool:
        # Decide first; send "100 Continue" only when the request will be forwarded.
        return True

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    # --- plumbing ----------------------------------------------------------------------

    @property
    def _headers(self) -> dict[str, str]:
        return {k.lower(): v for k, v in self.headers.items()}

    def _content_length(self) -> int:
        try:
            return max(0, int(self.headers.get("Content-Length", "0")))
        except ValueError:
            return 0

    def _expects_continue(self) -> bool:
        return self.headers.get("Expect", "").lower() == "100-continue"

    def _send_continue(self) -> None:
        if self._expects_continue():
            self.send_response_only(100)
            self.end_headers()

    def _read_body(self) -> bytes:
        """The whole request body (small bodies only: forms, XML)."""
        self._body_taken = True
        self._send_continue()
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        length = self._content_length()
        if length > _MAX_BUFFERED:
            raise LabError("request body too large for the lab to buffer")
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes:
        data = bytearray()
        for _ in range(1_000_000):
            size_line = self.rfile.readline(1024)
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self.rfile.readline(1024)
                break
            data += self.rfile.read(size)
            self.rfile.readline(1024)
            if len(data) > _MAX_BUFFERED:
                raise LabError("request body too large for the lab to buffer")
        return bytes(data)

    def _discard_body(self) -> None:
        """Before answering without forwarding: drain what the client sent, or close."""
        if self._body_taken:
            return
        self._body_taken = True
        chunked = self.headers.get("Transfer-Encoding", "").lower() == "chunked"
        if self._expects_continue() or chunked:
            # Expect: the client waits for us and sends no body; chunked: not worth
            # draining. Either way this connection ends with the answer.
            self.close_connection = True
            return
        remaining = self._content_length()
        while remaining > 0:
            chunk = self.rfile.read(min(_CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)

    def _send(
        self,
        status: int,
        body: bytes = b"",
        content_type: str = "application/xml",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        request_id, host_id = new_request_ids()
        self.send_response(status)
        self.send_header("x-amz-request-id", request_id)
        self.send_header("x-amz-id-2", host_id)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if body or self.command != "HEAD":
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def _s3_error(
        self, status: int, code: str, message: str, extra: Mapping[str, str] | None = None
    ) -> None:
        self._discard_body()
        request_id, host_id = new_request_ids()
        # HEAD answers carry no body: botocore then reports code "403", message "Forbidden".
        body = (
            b""
            if self.command == "HEAD"
            else s3_error_xml(code, message, request_id, host_id, extra)
        )
        self._send(status, body)

    # --- dispatch ----------------------------------------------------------------------

    def _dispatch(self) -> None:
        #: Whether this request's body was read (forwarded, buffered or drained) already.
        self._body_taken = False
        lab = self.lab
        scenario = lab.scenario
        path, _, query = self.path.partition("?")
        request = parse_request(self.command, path, query, self._headers)
        try:
            if request.service == "sts":
                self._sts(request, scenario)
            elif request.service == "kms":
                self._kms(request, scenario)
            else:
                self._s3(request, scenario)
        except LabError as exc:
            with contextlib.suppress(OSError):
                self.close_connection = True
                self._s3_error(503, "ServiceUnavailable", f"s3xcopy lab: {exc}")

    def _principal(
        self, request: LabRequest, scenario: Scenario
    ) -> tuple[LabPrincipal | None, bool]:
        """(principal, known); known is False for an access key the scenario does not have."""
        if request.access_key is None:
            return None, True
        principal = scenario.principal_by_access_key(request.access_key)
        return principal, principal is not None

    # --- STS ---------------------------------------------------------------------------

    def _sts(self, request: LabRequest, scenario: Scenario) -> None:
        body = self._read_body().decode("utf-8", "replace")
        form = {k: v for k, _, v in (p.partition("=") for p in body.split("&")) if k}
        action = form.get("Action") or request.query.get("Action", "")
        request_id, _ = new_request_ids()
        principal, known = self._principal(request, scenario)
        if principal is None:
            code = "InvalidClientTokenId" if not known else "MissingAuthenticationToken"
            message = (
                "The security token included in the request is invalid."
                if not known
                else "Request is missing Authentication Token"
            )
            self._send(403, sts_error_xml(code, message, request_id), "text/xml")
            return
        if action != "GetCallerIdentity":
            message = f"Could not find operation {action} for version 2011-06-15 (s3xcopy lab)"
            self._send(400, sts_error_xml("InvalidAction", message, request_id), "text/xml")
            return
        caller = principal.info.caller()
        self.lab._record(LabRequestRecord("GetCallerIdentity", principal.name, "", "", 200))
        xml = sts_caller_identity_xml(caller.arn, caller.user_id, caller.account, request_id)
        self._send(200, xml, "text/xml")

    # --- KMS ---------------------------------------------------------------------------

    def _kms(self, request: LabRequest, scenario: Scenario) -> None:
        body = self._read_body()
        json_type = "application/x-amz-json-1.1"
        principal, known = self._principal(request, scenario)
        if principal is None:
            error = (
                "UnrecognizedClientException"
                if not known
                else "MissingAuthenticationTokenException"
            )
            self._send(
                400,
                kms_error_json(error, "The security token included in the request is invalid."),
                json_type,
            )
            return
        target = request.operation
        if target != "TrentService.DescribeKey":
            self._send(
                400,
                kms_error_json("UnknownOperationException", f"s3xcopy lab does not model {target}"),
                json_type,
            )
            return
        try:
            payload = json.loads(body or b"{}")
            key_ref = str(payload["KeyId"])
        except (ValueError, KeyError, TypeError):
            self._send(400, kms_error_json("ValidationException", "KeyId is required"), json_type)
            return
        caller = principal.info.caller()
        world = scenario.world
        arn = world.resolve_key_arn(key_ref, account=caller.account, region=scenario.region)
        key = world.key(arn)
        if key is None or key.region != scenario.region:
            message = (
                f"Key '{arn}' does not exist"
                if arn.split(":")[5].startswith("key/")
                else f"Alias {arn} is not found."
            )
            self._record_kms(principal, 400, "NotFoundException")
            self._send(400, kms_error_json("NotFoundException", message), json_type)
            return
        network = self.lab.network_for(principal, self.client_address[0])
        context = kms_context_direct(
            caller, region=scenario.region, key_account=key.account, network=network,
            principal_org_id=world.organization(caller.account),
            resource_org_id=world.organization(key.account),
        )  # fmt: skip
        decision = evaluate(
            Request(caller, "kms:DescribeKey", key.arn, context), world.kms_policies(caller, key)
        )
        if not decision.allowed:
            message = (
                f"User: {caller.arn} is not authorized to perform: kms:DescribeKey on resource: "
                f"{key.arn} {decision.aws_reason()}"
            )
            self._record_kms(principal, 400, "AccessDeniedException", decision.explain())
            self._send(400, kms_error_json("AccessDeniedException", message), json_type)
            return
        metadata = {
            "AWSAccountId": key.account,
            "KeyId": key.key_id,
            "Arn": key.arn,
            "CreationDate": 1700000000.0,
            "Enabled": key.state == "Enabled",
            "Description": key.description,
            "KeyUsage": "ENCRYPT_DECRYPT",
            "KeyState": key.state,
            "Origin": "AWS_KMS",
            "KeyManager": "AWS" if key.aws_managed else "CUSTOMER",
            "CustomerMasterKeySpec": "SYMMETRIC_DEFAULT",
            "KeySpec": "SYMMETRIC_DEFAULT",
            "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"],
            "MultiRegion": False,
        }
        if key.state == "PendingDeletion":
            metadata["DeletionDate"] = 1800000000.0
        self._record_kms(principal, 200, None)
        self._send(200, json.dumps({"KeyMetadata": metadata}).encode(), json_type)

    def _record_kms(
        self, principal: LabPrincipal, status: int, code: str | None, detail: str | None = None
    ) -> None:
        self.lab._record(
            LabRequestRecord("DescribeKey", principal.name, "", "", status, code, detail)
        )

    # --- S3 ----------------------------------------------------------------------------

    def _deny(
        self,
        request: LabRequest,
        principal: LabPrincipal | None,
        message: str = "Access Denied",
        detail: str | None = None,
    ) -> None:
        name = principal.name if principal else None
        self.lab._record(
            LabRequestRecord(
                request.operation, name, request.bucket, request.key, 403, "AccessDenied", detail
            )
        )
        self._s3_error(403, "AccessDenied", message)

    def _fail(
        self,
        request: LabRequest,
        principal: LabPrincipal | None,
        status: int,
        code: str,
        message: str,
        extra: Mapping[str, str] | None = None,
    ) -> None:
        name = principal.name if principal else None
        self.lab._record(
            LabRequestRecord(request.operation, name, request.bucket, request.key, status, code)
        )
        self._s3_error(status, code, message, extra)

    def _s3(self, request: LabRequest, scenario: Scenario) -> None:
        principal, known = self._principal(request, scenario)
        if not known:
            self._fail(
                request,
                None,
                403,
                "InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records.",
                {"AWSAccessKeyId": request.access_key or ""},
            )
            return
        caller = principal.info.caller() if principal else Caller.anonymous()
        if request.operation == "Unsupported":
            self._fail(
                request,
                principal,
                501,
                "NotImplemented",
                f"s3xcopy lab does not model {request.description}",
            )
            return
        world = scenario.world
        bucket = world.bucket(request.bucket) if request.bucket else None
        if request.operation not in ("ListBuckets", "CreateBucket") and bucket is None:
            self._fail(
                request,
                principal,
                404,
                "NoSuchBucket",
                "The specified bucket does not exist",
                {"BucketName": request.bucket},
            )
            return
        if request.operation == "CreateBucket" and bucket is not None:
            mine = bucket.account == caller.account
            self._fail(
                request,
                principal,
                409,
                "BucketAlreadyOwnedByYou" if mine else "BucketAlreadyExists",
                "Your previous request to create the named bucket succeeded and you already own it."
                if mine
                else "The requested bucket name is not available.",
                {"BucketName": request.bucket},
            )
            return
        if request.operation == "CreateBucket":
            self._fail(
                request,
                principal,
                501,
                "NotImplemented",
                "s3xcopy lab: declare buckets in the scenario (CreateBucket is not modelled)",
            )
            return
        source_bucket = None
        if request.copy_source is not None:
            source_bucket = world.bucket(request.copy_source.bucket)
            if source_bucket is None:
                self._fail(
                    request,
                    principal,
                    404,
                    "NoSuchBucket",
                    "The specified bucket does not exist",
                    {"BucketName": request.copy_source.bucket},
                )
                return
        elif request.operation in ("CopyObject", "UploadPartCopy"):
            self._fail(
                request,
                principal,
                400,
                "InvalidArgument",
                "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
            )
            return

        headers = request.headers
        # Expected owners: a mismatch is a bare 403, whatever the policies say.
        expected = headers.get("x-amz-expected-bucket-owner")
        if expected is not None and bucket is not None and expected != bucket.account:
            self._deny(request, principal, detail="x-amz-expected-bucket-owner mismatch")
            return
        expected_source = headers.get("x-amz-source-expected-bucket-owner")
        if (
            expected_source is not None
            and source_bucket is not None
            and expected_source != source_bucket.account
        ):
            self._deny(request, principal, detail="x-amz-source-expected-bucket-owner mismatch")
            return
        # Requester Pays: another account must say it pays.
        pays = headers.get("x-amz-request-payer", "").lower() == "requester"
        for paid in (bucket, source_bucket):
            if (
                paid is not None
                and paid.requester_pays
                and paid.account != caller.account
                and not pays
            ):
                self._deny(
                    request,
                    principal,
                    detail=f"Requester Pays bucket {paid.name} without x-amz-request-payer",
                )
                return
        # Object ownership: BucketOwnerEnforced takes no ACL but bucket-owner-full-control.
        acl = headers.get("x-amz-acl")
        grants = [h for h in headers if h.startswith("x-amz-grant-")]
        if (
            bucket is not None
            and bucket.object_ownership == "BucketOwnerEnforced"
            and (
                (acl is not None and acl != "bucket-owner-full-control")
                or grants
                or request.operation == "PutObjectAcl"
            )
        ):
            self._fail(
                request,
                principal,
                400,
                "AccessControlListNotSupported",
                "The bucket does not allow ACLs",
            )
            return

        if request.operation == "DeleteObjects":
            self._delete_objects(request, principal, caller, scenario)
            return
        call, upload = self._s3_call(request, scenario, caller)
        network = self.lab.network_for(principal, self.client_address[0])
        check = check_call(world, caller, call, network)
        failure = check.first_failure
        if failure is not None and self._initiator_may(request, caller, upload, failure):
            failure = None
        if failure is not None:
            self._answer_failure(request, principal, caller, scenario, failure)
            return

        answered = self._answer_locally(request, principal, caller, scenario)
        if not answered:
            self._forward(request, principal, check, upload)

    @staticmethod
    def _initiator_may(
        request: LabRequest, caller: Caller, upload: _Upload | None, failure: PermissionCheck
    ) -> bool:
        """S3's default: an upload's initiator may abort it and list its parts.

        "By default, the bucket owner and the initiator of the multipart upload are
        allowed to perform this action" (S3 User Guide, multipart upload and
        permissions); an explicit Deny still wins.
        """
        return (
            request.operation in ("AbortMultipartUpload", "ListParts")
            and upload is not None
            and upload.initiator == caller.principal_arn
            and failure.decision is not None
            and failure.decision.denied_by is None
        )

    def _delete_objects(
        self,
        request: LabRequest,
        principal: LabPrincipal | None,
        caller: Caller,
        scenario: Scenario,
    ) -> None:
        """DeleteObjects: S3 checks s3:DeleteObject per key and answers per key, inside a 200."""
        body = self._read_body()
        try:
            root = ElementTree.fromstring(body)
        except ElementTree.ParseError:
            self._fail(
                request,
                principal,
                400,
                "MalformedXML",
                "The XML you provided was not well-formed or did not validate against our "
                "published schema",
            )
            return
        quiet = any(_local(e.tag) == "Quiet" and (e.text or "").lower() == "true" for e in root)
        objects: list[tuple[str, str | None]] = []
        for element in root:
            if _local(element.tag) != "Object":
                continue
            fields = {_local(child.tag): child.text or "" for child in element}
            objects.append((fields.get("Key", ""), fields.get("VersionId") or None))
        network = self.lab.network_for(principal, self.client_address[0])
        allowed: list[tuple[str, str | None]] = []
        errors = []
        for key, version in objects:
            call = S3Call(
                "DeleteObjects", S3Location(request.bucket, key, version), headers=request.headers
            )
            if check_call(scenario.world, caller, call, network).allowed:
                allowed.append((key, version))
                continue
            version_xml = f"<VersionId>{escape(version)}</VersionId>" if version else ""
            errors.append(
                f"<Error><Key>{escape(key)}</Key>{version_xml}<Code>AccessDenied</Code>"
                "<Message>Access Denied</Message></Error>"
            )
        ns = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'
        answer = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult {ns}></DeleteResult>'.encode()
        )
        if allowed:
            items = "".join(
                f"<Object><Key>{escape(k)}</Key>"
                + (f"<VersionId>{escape(v)}</VersionId>" if v else "")
                + "</Object>"
                for k, v in allowed
            )
            forwarded = f"<Delete {ns}><Quiet>{str(quiet).lower()}</Quiet>{items}</Delete>".encode()
            headers = {
                name: value
                for name, value in self.headers.items()
                if name.lower() not in _HOP_BY_HOP
                and name.lower() not in _STRIPPED
                and name.lower() not in ("content-length", "content-md5")
                and not name.lower().startswith(
                    (*_STRIPPED_PREFIXES, "x-amz-checksum-", "x-amz-sdk-")
                )
            }
            headers["Content-MD5"] = base64.b64encode(
                hashlib.md5(forwarded, usedforsecurity=False).digest()
            ).decode()
            headers["Content-Length"] = str(len(forwarded))
            status, _, answer = self.lab._backend_call("POST", self.path, headers, forwarded)
            if status != 200:
                self._record_ok(request, principal, status)
                self._send(status, answer)
                return
            with self.lab.state.lock:
                for key, version in allowed:
                    if version is None:
                        self.lab.state.objects.pop((request.bucket, key), None)
        if errors:
            closing = answer.rfind(b"</DeleteResult>")
            answer = answer[:closing] + "".join(errors).encode() + answer[closing:]
        name = principal.name if principal else None
        detail = f"{len(errors)} of {len(objects)} keys denied s3:DeleteObject" if errors else None
        self.lab._record(
            LabRequestRecord(request.operation, name, request.bucket, "", 200, None, detail)
        )
        self._send(200, answer)

    def _s3_call(
        self, request: LabRequest, scenario: Scenario, caller: Caller
    ) -> tuple[S3Call, _Upload | None]:
        """The S3Call the evaluator checks, with both sides' encryption and the request's flags."""
        world = scenario.world
        headers = request.headers
        state = self.lab.state
        operation = request.operation
        flags: set[str] = set()
        target_enc: Encryption | None = None
        source_enc: Encryption | None = None
        upload: _Upload | None = None
        if operation in _WRITES_NEW_OBJECT:
            bucket_key_header = headers.get("x-amz-server-side-encryption-bucket-key-enabled")
            target_enc = world.write_encryption(
                request.bucket,
                caller_account=caller.account,
                sse=headers.get("x-amz-server-side-encryption"),
                kms_key=headers.get("x-amz-server-side-encryption-aws-kms-key-id"),
                bucket_key=None
                if bucket_key_header is None
                else bucket_key_header.lower() == "true",
            )
            if headers.get("x-amz-acl") is not None or any(
                h.startswith("x-amz-grant-") for h in headers
            ):
                flags.add("acl")
            if (
                "x-amz-object-lock-mode" in headers
                or "x-amz-object-lock-retain-until-date" in headers
            ):
                flags.add("retention")
            if "x-amz-object-lock-legal-hold" in headers:
                flags.add("legal-hold")
            replace_tags = headers.get("x-amz-tagging-directive", "COPY").upper() == "REPLACE"
            if "x-amz-tagging" in headers and (operation != "CopyObject" or replace_tags):
                flags.add("tagging")
            if (
                operation == "CopyObject"
                and not replace_tags
                and request.copy_source is not None
                and self._source_has_tags(request.copy_source)
            ):
                flags.add("copy-tags")
        elif operation in _IN_UPLOAD:
            upload_id = request.query.get("uploadId", "")
            with state.lock:
                upload = state.uploads.get(upload_id)
            if upload is not None and upload.encryption is not None:
                target_enc = upload.encryption
                if upload.checksum_algorithm and operation == "CompleteMultipartUpload":
                    flags.add("additional-checksums")
            else:
                target_enc = world.default_encryption(request.bucket)
                if upload is not None and upload.checksum_algorithm:
                    flags.add("additional-checksums")
        elif operation in ("AbortMultipartUpload", "ListParts"):
            with state.lock:  # who created it decides the initiator's default rights
                upload = state.uploads.get(request.query.get("uploadId", ""))
        elif operation in _READS:
            with state.lock:
                target_enc = state.objects.get((request.bucket, request.key))
            target_enc = target_enc or world.default_encryption(request.bucket)
            if (
                operation == "HeadObject"
                and headers.get("x-amz-checksum-mode", "").upper() == "ENABLED"
            ):
                flags.add("checksum-mode")
        if request.copy_source is not None:
            with state.lock:
                source_enc = state.objects.get(
                    (request.copy_source.bucket, request.copy_source.key)
                )
            source_enc = source_enc or world.default_encryption(request.copy_source.bucket)
        role = "destination" if operation in _WRITES_NEW_OBJECT | _IN_UPLOAD else "object"
        call = S3Call(
            operation=operation,
            target=request.target if request.key else S3Location(request.bucket, ""),
            source=request.copy_source,
            target_encryption=target_enc,
            source_encryption=source_enc,
            flags=frozenset(flags),
            headers=headers,
            query=request.query,
            target_role=role,  # type: ignore[arg-type]
        )
        return call, upload

    def _source_has_tags(self, source: S3Location) -> bool:
        path = f"/{source.bucket}/{_quote_key(source.key)}"
        if source.version_id:
            path += f"?versionId={source.version_id}"
        status, headers, _ = self.lab._backend_call("HEAD", path)
        return status == 200 and int(headers.get("x-amz-tagging-count", "0") or 0) > 0

    def _answer_failure(
        self,
        request: LabRequest,
        principal: LabPrincipal | None,
        caller: Caller,
        scenario: Scenario,
        failure: PermissionCheck,
    ) -> None:
        permission = failure.permission
        decision = failure.decision
        detail = f"{permission.action} on {permission.resource}: {failure.explain()}"
        if decision is None or decision.allowed:
            problem = failure.key_problem
            assert problem is not None
            self.lab._record(
                LabRequestRecord(
                    request.operation,
                    principal.name if principal else None,
                    request.bucket,
                    request.key,
                    problem.status,
                    problem.code,
                    detail,
                )
            )
            self._s3_error(problem.status, problem.code, problem.message)
            return
        message = "Access Denied"
        if scenario.error_style == "explicit" and caller.kind != "anonymous":
            quoted = (
                f'"{permission.resource}"' if permission.service == "s3" else permission.resource
            )
            message = (
                f"User: {caller.arn} is not authorized to perform: {permission.action} "
                f"on resource: {quoted} {decision.aws_reason()}"
            )
        self._deny(request, principal, message, detail)

    # --- answered by the lab itself -------------------------------------------------------

    def _answer_locally(
        self,
        request: LabRequest,
        principal: LabPrincipal | None,
        caller: Caller,
        scenario: Scenario,
    ) -> bool:
        """Bucket facts only the scenario knows (encryption, policy, ownership, payer, listing)."""
        operation = request.operation
        bucket = scenario.world.bucket(request.bucket)
        ns = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'
        body: bytes | None = None
        if operation == "ListBuckets":
            owned = [b for b in scenario.world.buckets.values() if b.account == caller.account]
            items = "".join(
                f"<Bucket><Name>{escape(b.name)}</Name><CreationDate>2024-01-01T00:00:00.000Z</CreationDate>"
                f"<BucketRegion>{b.region}</BucketRegion></Bucket>"
                for b in owned
            )
            body = (
                f'<?xml version="1.0" encoding="UTF-8"?>\n<ListAllMyBucketsResult {ns}>'
                f"<Owner><ID>{caller.account}</ID></Owner><Buckets>{items}</Buckets></ListAllMyBucketsResult>"
            ).encode()
        elif bucket is None:
            return False
        elif operation == "GetBucketEncryption":
            enc = bucket.encryption
            key = f"<KMSMasterKeyID>{enc.key_arn}</KMSMasterKeyID>" if enc.uses_kms else ""
            body = (
                f'<?xml version="1.0" encoding="UTF-8"?>\n'
                f"<ServerSideEncryptionConfiguration {ns}><Rule>"
                f"<ApplyServerSideEncryptionByDefault><SSEAlgorithm>{enc.algorithm}</SSEAlgorithm>{key}"
                f"</ApplyServerSideEncryptionByDefault><BucketKeyEnabled>{str(enc.bucket_key).lower()}"
                "</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>"
            ).encode()
        elif operation == "GetBucketPolicy":
            if bucket.policy is None:
                self._fail(
                    request,
                    principal,
                    404,
                    "NoSuchBucketPolicy",
                    "The bucket policy does not exist",
                    {"BucketName": bucket.name},
                )
                return True
            self._record_ok(request, principal)
            self._send(200, json.dumps(dict(bucket.policy.document)).encode(), "application/json")
            return True
        elif operation == "GetBucketOwnershipControls":
            body = (
                f'<?xml version="1.0" encoding="UTF-8"?>\n'
                f"<OwnershipControls {ns}><Rule><ObjectOwnership>"
                f"{bucket.object_ownership}</ObjectOwnership></Rule></OwnershipControls>"
            ).encode()
        elif operation == "GetBucketRequestPayment":
            payer = "Requester" if bucket.requester_pays else "BucketOwner"
            body = (
                f'<?xml version="1.0" encoding="UTF-8"?>\n<RequestPaymentConfiguration {ns}>'
                f"<Payer>{payer}</Payer></RequestPaymentConfiguration>"
            ).encode()
        elif operation == "GetBucketLocation":
            region = "" if bucket.region == "us-east-1" else bucket.region
            body = (
                f'<?xml version="1.0" encoding="UTF-8"?>\n'
                f"<LocationConstraint {ns}>{region}</LocationConstraint>"
            ).encode()
        elif operation == "HeadBucket":
            self._record_ok(request, principal)
            self._send(200, headers={"x-amz-bucket-region": bucket.region})
            return True
        if body is None:
            return False
        self._discard_body()
        self._record_ok(request, principal)
        self._send(200, body)
        return True

    def _record_ok(
        self, request: LabRequest, principal: LabPrincipal | None, status: int = 200
    ) -> None:
        self.lab._record(
            LabRequestRecord(
                request.operation,
                principal.name if principal else None,
                request.bucket,
                request.key,
                status,
            )
        )

    # --- forwarding ----------------------------------------------------------------------

    def _forward(
        self,
        request: LabRequest,
        principal: LabPrincipal | None,
        check: OperationCheck,
        upload: _Upload | None,
    ) -> None:
        lab = self.lab
        out_headers = {
            name: value
            for name, value in self.headers.items()
            if name.lower() not in _HOP_BY_HOP
            and name.lower() not in _STRIPPED
            and not name.lower().startswith(_STRIPPED_PREFIXES)
        }
        out_headers["Host"] = f"{lab._backend[0]}:{lab._backend[1]}"
        self._body_taken = True
        chunked = self.headers.get("Transfer-Encoding", "").lower() == "chunked"
        body: Any = None
        if chunked:
            body = self._read_body()
            out_headers["Content-Length"] = str(len(body))
        else:
            length = self._content_length()
            self._send_continue()
            if length or self.command in ("PUT", "POST"):
                out_headers["Content-Length"] = str(length)
                body = _LimitedReader(self.rfile, length) if length else b""  # type: ignore[arg-type]
        path = _backend_path(request, self.path)
        conn = http.client.HTTPConnection(*lab._backend, timeout=_BACKEND_TIMEOUT)
        try:
            try:
                conn.request(self.command, path, body=body, headers=out_headers)
                response = conn.getresponse()
            except OSError as exc:
                self.close_connection = True
                raise LabError(f"backend {lab.backend_url} failed: {exc}") from exc
            self._relay(request, principal, check, upload, response)
        finally:
            conn.close()

    def _relay(
        self,
        request: LabRequest,
        principal: LabPrincipal | None,
        check: OperationCheck,
        upload: _Upload | None,
        response: http.client.HTTPResponse,
    ) -> None:
        operation = request.operation
        status = response.status
        if status == 404 and self._hides_missing_keys(request, check):
            response.read()
            self._deny(request, principal, detail="missing key, and no s3:ListBucket to see so")
            return
        headers = [
            (k, v)
            for k, v in response.getheaders()
            if k.lower() not in _HOP_BY_HOP
            and k.lower() not in ("content-length", "server", "date")
            and not k.lower().startswith(("x-amz-server-side-encryption", "seaweed-"))
        ]
        ok = 200 <= status < 300
        encryption = check.call.target_encryption
        buffered: bytes | None = None
        if operation in (
            "CreateMultipartUpload",
            "CopyObject",
            "CompleteMultipartUpload",
            "UploadPartCopy",
        ) or (response.getheader("Content-Length") is None and self.command != "HEAD"):
            buffered = response.read()
            if b"<Error>" in buffered[:512]:
                ok = False
        if ok:
            self._remember(request, check, upload, buffered)
        if ok and operation in _SSE_RESPONSE_OPS and encryption is not None:
            headers.extend(_sse_headers(encryption))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if buffered is not None:
            self.send_header("Content-Length", str(len(buffered)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(buffered)
        else:
            length = response.getheader("Content-Length")
            self.send_header("Content-Length", length or "0")
            self.end_headers()
            if self.command != "HEAD":
                remaining = int(length or 0)
                while remaining > 0:
                    chunk = response.read(min(_CHUNK, remaining))
                    if not chunk:
                        self.close_connection = True
                        break
                    self.wfile.write(chunk)
                    remaining -= len(chunk)
        self._record_ok(request, principal, status)

    def _hides_missing_keys(self, request: LabRequest, check: OperationCheck) -> bool:
        """S3 answers 403, not 404, for a missing key when the caller may not list the bucket."""
        if request.operation in ("HeadObject", "GetObject", "GetObjectTagging"):
            bucket = request.bucket
        elif request.operation in ("CopyObject", "UploadPartCopy") and request.copy_source:
            bucket = request.copy_source.bucket
        else:
            return False
        listing = S3Call("ListObjectsV2", S3Location(bucket, ""), headers=request.headers)
        scenario = self.lab.scenario
        network = self.lab.network_for(
            scenario.principal_by_access_key(request.access_key or ""), self.client_address[0]
        )
        return not check_call(scenario.world, check.caller, listing, network).allowed

    def _remember(
        self, request: LabRequest, check: OperationCheck, upload: _Upload | None, body: bytes | None
    ) -> None:
        state = self.lab.state
        operation = request.operation
        encryption = check.call.target_encryption
        key = (request.bucket, request.key)
        with state.lock:
            if operation in ("PutObject", "CopyObject") and encryption is not None:
                state.objects[key] = encryption
            elif operation == "CreateMultipartUpload" and body:
                match = _UPLOAD_ID.search(body)
                if match:
                    state.uploads[match.group(1).decode()] = _Upload(
                        request.bucket,
                        request.key,
                        encryption,
                        request.headers.get("x-amz-checksum-algorithm"),
                        check.caller.principal_arn,
                    )
            elif operation == "CompleteMultipartUpload":
                done = state.uploads.pop(request.query.get("uploadId", ""), None)
                if done is not None and done.encryption is not None:
                    state.objects[key] = done.encryption
                elif encryption is not None:
                    state.objects[key] = encryption
            elif operation == "AbortMultipartUpload":
                state.uploads.pop(request.query.get("uploadId", ""), None)
            elif operation == "DeleteObject" and request.version_id is None:
                state.objects.pop(key, None)


def _local(tag: str) -> str:
    """An XML tag without its namespace."""
    return tag.rsplit("}", 1)[-1]


def _sse_headers(encryption: Encryption) -> list[tuple[str, str]]:
    if encryption.algorithm == "none":
        return []
    headers: list[tuple[str, str]] = [("x-amz-server-side-encryption", encryption.algorithm)]
    if encryption.uses_kms and encryption.key_arn:
        headers.append(("x-amz-server-side-encryption-aws-kms-key-id", encryption.key_arn))
        if encryption.bucket_key:
            headers.append(("x-amz-server-side-encryption-bucket-key-enabled", "true"))
    return headers


def _quote_key(key: str) -> str:
    from urllib.parse import quote

    return quote(key, safe="/~")


def _backend_path(request: LabRequest, raw: str) -> str:
    """Path-style path for the backend (virtual-hosted requests are rewritten)."""
    host = request.headers.get("host", "").rsplit(":", 1)[0]
    if host.endswith(".localhost"):
        return f"/{request.bucket}{raw}"
    return raw
