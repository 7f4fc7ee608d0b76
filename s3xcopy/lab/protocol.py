"""The lab's wire format, pure: classify S3 REST requests, read access keys, shape AWS answers.

:func:`parse_request` turns a method, raw path, query string and headers into a
:class:`LabRequest`: which service (S3, or STS / KMS on the same endpoint), which
S3 API (``UploadPartCopy``, ``CreateMultipartUpload``...), bucket, key, version,
copy source and access key. The ``*_xml`` / ``*_json`` helpers render the error and
result bodies exactly as S3, STS and KMS send them. The lab does not verify
signatures: it only reads the access key id (it is a lab, not a security boundary).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import parse_qs, unquote
from xml.sax.saxutils import escape

from ..location import S3Location

__all__ = [
    "LabRequest",
    "Service",
    "access_key_of",
    "kms_error_json",
    "new_request_ids",
    "parse_request",
    "s3_error_xml",
    "sts_caller_identity_xml",
    "sts_error_xml",
]

Service = Literal["s3", "sts", "kms"]

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]*/[^/]*/([^/]*)/")


@dataclass(frozen=True)
class LabRequest:
    """One HTTP request, understood."""

    method: str
    service: Service
    #: The S3 API (``UploadPartCopy``), ``Unsupported`` when the lab does not model it.
    operation: str
    bucket: str
    key: str
    query: Mapping[str, str]
    #: Lower-case header names.
    headers: Mapping[str, str]
    access_key: str | None
    copy_source: S3Location | None = None
    #: What the request was, for an Unsupported answer.
    description: str = ""
    version_id: str | None = field(default=None)

    @property
    def target(self) -> S3Location:
        return S3Location(self.bucket, self.key, self.version_id)


def access_key_of(headers: Mapping[str, str], query: Mapping[str, str]) -> tuple[str | None, str]:
    """(access key id, signing service) from a SigV4 Authorization header or presigned query."""
    auth = headers.get("authorization", "")
    match = _CREDENTIAL.search(auth)
    if match:
        return match.group(1), match.group(2)
    if auth.startswith("AWS "):  # SigV2: "AWS AKID:signature"
        return auth[4:].split(":", 1)[0], "s3"
    credential = query.get("X-Amz-Credential", "")
    if credential:
        parts = credential.split("/")
        return parts[0], parts[3] if len(parts) > 3 else "s3"
    return None, "s3"


def _copy_source(value: str) -> S3Location | None:
    text = unquote(value)
    text = text.lstrip("/")
    version = None
    if "?versionId=" in text:
        text, _, version = text.rpartition("?versionId=")
    bucket, _, key = text.partition("/")
    if not bucket or not key:
        return None
    return S3Location(bucket, key, version or None)


def _classify_object(method: str, query: Mapping[str, str], headers: Mapping[str, str]) -> str:
    copying = "x-amz-copy-source" in headers
    if method == "PUT":
        if "partNumber" in query and "uploadId" in query:
            return "UploadPartCopy" if copying else "UploadPart"
        if "tagging" in query:
            return "PutObjectTagging"
        if "acl" in query:
            return "PutObjectAcl"
        if query.keys() & {"retention", "legal-hold"}:
            return ""
        return "CopyObject" if copying else "PutObject"
    if method in ("GET", "HEAD"):
        if method == "GET" and "uploadId" in query:
            return "ListParts"
        if method == "GET" and "tagging" in query:
            return "GetObjectTagging"
        if method == "GET" and "acl" in query:
            return "GetObjectAcl"
        if method == "GET" and "attributes" in query:
            return "GetObjectAttributes"
        if query.keys() & {"retention", "legal-hold", "torrent"}:
            return ""
        return "HeadObject" if method == "HEAD" else "GetObject"
    if method == "POST":
        if "uploads" in query:
            return "CreateMultipartUpload"
        if "uploadId" in query:
            return "CompleteMultipartUpload"
        return ""
    if method == "DELETE":
        if "uploadId" in query:
            return "AbortMultipartUpload"
        if "tagging" in query:
            return "DeleteObjectTagging"
        return "DeleteObject"
    return ""


_BUCKET_GETS = {
    "location": "GetBucketLocation",
    "encryption": "GetBucketEncryption",
    "versioning": "GetBucketVersioning",
    "policy": "GetBucketPolicy",
    "ownershipControls": "GetBucketOwnershipControls",
    "requestPayment": "GetBucketRequestPayment",
    "uploads": "ListMultipartUploads",
    "versions": "ListObjectVersions",
}
# Sub-resources that are bucket configuration the lab does not model.
_BUCKET_CONFIG = {
    "acl", "cors", "lifecycle", "logging", "notification", "replication", "tagging", "website",
    "object-lock", "accelerate", "analytics", "inventory", "metrics", "intelligent-tiering",
    "publicAccessBlock", "policyStatus",
}  # fmt: skip


def _classify_bucket(method: str, query: Mapping[str, str]) -> str:
    if method == "GET":
        for name, operation in _BUCKET_GETS.items():
            if name in query:
                return operation
        if query.keys() & _BUCKET_CONFIG:
            return ""
        return "ListObjectsV2" if query.get("list-type") == "2" else "ListObjects"
    if method == "HEAD":
        return "HeadBucket"
    if method == "PUT":
        return "" if query.keys() & (_BUCKET_CONFIG | set(_BUCKET_GETS)) else "CreateBucket"
    if method == "DELETE":
        return "" if query else "DeleteBucket"
    if method == "POST" and "delete" in query:
        return "DeleteObjects"
    return ""


def parse_request(
    method: str, raw_path: str, query_string: str, headers: Mapping[str, str]
) -> LabRequest:
    """Understand one request (``headers`` with lower-case names)."""
    parsed = parse_qs(query_string, keep_blank_values=True)
    query = {k: v[0] for k, v in parsed.items()}
    access_key, service = access_key_of(headers, query)
    host = headers.get("host", "").rsplit(":", 1)[0]
    path = raw_path or "/"
    if host.endswith(".localhost"):  # virtual-hosted style: bucket.localhost
        bucket, key = host[: -len(".localhost")], unquote(path.lstrip("/"))
    else:
        bucket, _, raw_key = path.lstrip("/").partition("/")
        bucket, key = unquote(bucket), unquote(raw_key)
    description = f"{method} {path}{'?' + query_string if query_string else ''}"

    if "x-amz-target" in headers or service == "kms":
        return LabRequest(
            method,
            "kms",
            headers.get("x-amz-target", ""),
            "",
            "",
            query,
            headers,
            access_key,
            description=description,
        )
    content_type = headers.get("content-type", "")
    if service == "sts" or (
        method == "POST"
        and not bucket
        and content_type.startswith("application/x-www-form-urlencoded")
    ):
        return LabRequest(
            method, "sts", "", "", "", query, headers, access_key, description=description
        )

    if not bucket:
        operation = "ListBuckets" if method == "GET" else ""
    elif key:
        operation = _classify_object(method, query, headers)
    else:
        operation = _classify_bucket(method, query)
    copy_source = None
    if operation in ("CopyObject", "UploadPartCopy"):
        copy_source = _copy_source(headers["x-amz-copy-source"])
    return LabRequest(
        method=method,
        service="s3",
        operation=operation or "Unsupported",
        bucket=bucket,
        key=key,
        query=query,
        headers=headers,
        access_key=access_key,
        copy_source=copy_source,
        description=description,
        version_id=query.get("versionId") or None,
    )


def new_request_ids() -> tuple[str, str]:
    """(x-amz-request-id, x-amz-id-2) shaped like S3's."""
    request_id = secrets.token_hex(8).upper()
    host_id = secrets.token_urlsafe(48)
    return request_id, host_id


def s3_error_xml(
    code: str, message: str, request_id: str, host_id: str, extra: Mapping[str, str] | None = None
) -> bytes:
    """S3's error document: Code, Message, (extra fields), RequestId, HostId."""
    fields = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in (extra or {}).items())
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>{fields}"
        f"<RequestId>{request_id}</RequestId><HostId>{escape(host_id)}</HostId></Error>"
    ).encode()


_STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"


def sts_caller_identity_xml(arn: str, user_id: str, account: str, request_id: str) -> bytes:
    """STS GetCallerIdentity's answer."""
    return (
        f'<GetCallerIdentityResponse xmlns="{_STS_NS}">\n'
        "  <GetCallerIdentityResult>\n"
        f"    <Arn>{escape(arn)}</Arn>\n"
        f"    <UserId>{escape(user_id)}</UserId>\n"
        f"    <Account>{account}</Account>\n"
        "  </GetCallerIdentityResult>\n"
        f"  <ResponseMetadata>\n    <RequestId>{request_id}</RequestId>\n  </ResponseMetadata>\n"
        "</GetCallerIdentityResponse>\n"
    ).encode()


def sts_error_xml(code: str, message: str, request_id: str, error_type: str = "Sender") -> bytes:
    """STS's error document."""
    return (
        f'<ErrorResponse xmlns="{_STS_NS}">\n'
        f"  <Error>\n    <Type>{error_type}</Type>\n    <Code>{escape(code)}</Code>\n"
        f"    <Message>{escape(message)}</Message>\n  </Error>\n"
        f"  <RequestId>{request_id}</RequestId>\n</ErrorResponse>\n"
    ).encode()


def kms_error_json(error_type: str, message: str) -> bytes:
    """KMS's JSON error body."""
    return json.dumps({"__type": error_type, "message": message}).encode()
