"""Which s3: and kms: permissions each S3 API needs: the reference table, as data.

One :class:`OperationSpec` row per S3 API. ``s3`` needs name the resource by its
role in the request: ``object`` (the object the request names: the destination
of a write, the object read by a read), ``source-object`` (the copy source of
CopyObject / UploadPartCopy), ``bucket`` (the bucket of the request) or
``account`` (``arn:aws:s3:::*``, ListBuckets). ``kms`` needs name the key by the
object it protects: ``object`` (the key of the object read or being written, i.e.
the destination key of a write) or ``source`` (the copy source's key). A need
with ``when`` applies only when that request feature is present:

- ``tagging``: an ``x-amz-tagging`` header (new tags),
- ``copy-tags``: CopyObject copying the source's tags (directive COPY, source tagged),
- ``acl``: an ``x-amz-acl`` / ``x-amz-grant-*`` header,
- ``retention`` / ``legal-hold``: Object Lock headers,
- ``checksum-mode``: ``x-amz-checksum-mode: ENABLED`` on HeadObject,
- ``additional-checksums``: the upload was created with a checksum algorithm.

``version_action`` replaces ``action`` when the request (or, for ``source-object``,
the copy source) names a version: ``s3:GetObject`` -> ``s3:GetObjectVersion``.
KMS needs apply only when that object uses SSE-KMS.
Source: ``shared/reference/aws-permissions.md`` and the S3 API reference.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = ["FLAGS", "OPERATIONS", "KmsNeed", "OperationSpec", "S3Need", "operation_spec"]

S3Target = Literal["object", "source-object", "bucket", "account"]
KeyRole = Literal["object", "source"]
Flag = Literal[
    "tagging", "copy-tags", "acl", "retention", "legal-hold", "checksum-mode",
    "additional-checksums",
]  # fmt: skip
FLAGS: frozenset[str] = frozenset(
    {
        "tagging",
        "copy-tags",
        "acl",
        "retention",
        "legal-hold",
        "checksum-mode",
        "additional-checksums",
    }
)


@dataclass(frozen=True)
class S3Need:
    """An s3: action on a resource of the request."""

    action: str
    on: S3Target
    version_action: str | None = None
    when: Flag | None = None


@dataclass(frozen=True)
class KmsNeed:
    """A kms: action S3 performs on a key for the caller (context: via S3)."""

    action: str
    key: KeyRole
    when: Flag | None = None


@dataclass(frozen=True)
class OperationSpec:
    """One row: an S3 API and everything it needs."""

    name: str
    s3: tuple[S3Need, ...]
    kms: tuple[KmsNeed, ...] = ()
    note: str = ""


_GET = S3Need("s3:GetObject", "object", "s3:GetObjectVersion")
_PUT = S3Need("s3:PutObject", "object")
_WRITE_EXTRAS = (
    S3Need("s3:PutObjectTagging", "object", when="tagging"),
    S3Need("s3:PutObjectAcl", "object", when="acl"),
    S3Need("s3:PutObjectRetention", "object", when="retention"),
    S3Need("s3:PutObjectLegalHold", "object", when="legal-hold"),
)
_SOURCE_GET = S3Need("s3:GetObject", "source-object", "s3:GetObjectVersion")


def _bucket(name: str, action: str, note: str = "") -> OperationSpec:
    return OperationSpec(name, (S3Need(action, "bucket"),), note=note)


_ROWS: tuple[OperationSpec, ...] = (
    OperationSpec(
        "HeadObject",
        (_GET,),
        (KmsNeed("kms:Decrypt", "object", when="checksum-mode"),),
        note="without s3:ListBucket a missing key answers 403, not 404",
    ),
    OperationSpec("GetObject", (_GET,), (KmsNeed("kms:Decrypt", "object"),)),
    OperationSpec("PutObject", (_PUT, *_WRITE_EXTRAS), (KmsNeed("kms:GenerateDataKey", "object"),)),
    OperationSpec(
        "CopyObject",
        (
            _SOURCE_GET,
            _PUT,
            S3Need(
                "s3:GetObjectTagging", "source-object", "s3:GetObjectVersionTagging", "copy-tags"
            ),
            S3Need("s3:PutObjectTagging", "object", when="copy-tags"),
            *_WRITE_EXTRAS,
        ),
        (KmsNeed("kms:Decrypt", "source"), KmsNeed("kms:GenerateDataKey", "object")),
    ),
    OperationSpec(
        "CreateMultipartUpload",
        (_PUT, *_WRITE_EXTRAS),
        (KmsNeed("kms:GenerateDataKey", "object"),),
    ),
    OperationSpec("UploadPart", (_PUT,), (KmsNeed("kms:Decrypt", "object"),)),
    OperationSpec(
        "UploadPartCopy",
        (_SOURCE_GET, _PUT),
        (KmsNeed("kms:Decrypt", "source"), KmsNeed("kms:Decrypt", "object")),
        note="the destination key's kms:Decrypt is the classic cross-account failure",
    ),
    OperationSpec(
        "CompleteMultipartUpload",
        (_PUT,),
        (KmsNeed("kms:Decrypt", "object", when="additional-checksums"),),
    ),
    OperationSpec("AbortMultipartUpload", (S3Need("s3:AbortMultipartUpload", "object"),)),
    OperationSpec("ListParts", (S3Need("s3:ListMultipartUploadParts", "object"),)),
    OperationSpec(
        "GetObjectTagging",
        (S3Need("s3:GetObjectTagging", "object", "s3:GetObjectVersionTagging"),),
    ),
    OperationSpec(
        "PutObjectTagging",
        (S3Need("s3:PutObjectTagging", "object", "s3:PutObjectVersionTagging"),),
    ),
    OperationSpec(
        "DeleteObjectTagging",
        (S3Need("s3:DeleteObjectTagging", "object", "s3:DeleteObjectVersionTagging"),),
    ),
    OperationSpec("GetObjectAcl", (S3Need("s3:GetObjectAcl", "object", "s3:GetObjectVersionAcl"),)),
    OperationSpec("PutObjectAcl", (S3Need("s3:PutObjectAcl", "object", "s3:PutObjectVersionAcl"),)),
    OperationSpec(
        "GetObjectAttributes",
        (_GET, S3Need("s3:GetObjectAttributes", "object", "s3:GetObjectVersionAttributes")),
    ),
    OperationSpec("DeleteObject", (S3Need("s3:DeleteObject", "object", "s3:DeleteObjectVersion"),)),
    OperationSpec(
        "DeleteObjects",
        (S3Need("s3:DeleteObject", "object", "s3:DeleteObjectVersion"),),
        note="checked once per key in the request body",
    ),
    _bucket("ListObjectsV2", "s3:ListBucket"),
    _bucket("ListObjects", "s3:ListBucket"),
    _bucket("ListObjectVersions", "s3:ListBucketVersions"),
    _bucket("ListMultipartUploads", "s3:ListBucketMultipartUploads"),
    _bucket("HeadBucket", "s3:ListBucket"),
    _bucket("GetBucketLocation", "s3:GetBucketLocation"),
    _bucket("GetBucketEncryption", "s3:GetEncryptionConfiguration"),
    _bucket("GetBucketVersioning", "s3:GetBucketVersioning"),
    _bucket("GetBucketPolicy", "s3:GetBucketPolicy"),
    _bucket("GetBucketOwnershipControls", "s3:GetBucketOwnershipControls"),
    _bucket("GetBucketRequestPayment", "s3:GetBucketRequestPayment"),
    _bucket("CreateBucket", "s3:CreateBucket"),
    _bucket("DeleteBucket", "s3:DeleteBucket"),
    OperationSpec("ListBuckets", (S3Need("s3:ListAllMyBuckets", "account"),)),
)

#: Every modelled S3 API, by name.
OPERATIONS: Mapping[str, OperationSpec] = {row.name: row for row in _ROWS}


def operation_spec(name: str) -> OperationSpec:
    """The row for an S3 API name; KeyError names the known ones."""
    try:
        return OPERATIONS[name]
    except KeyError:
        raise KeyError(f"unknown S3 operation {name!r}; known: {', '.join(OPERATIONS)}") from None
