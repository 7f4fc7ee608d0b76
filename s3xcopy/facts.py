"""SourceFacts: what HeadObject (and GetObjectTagging) say about the source, as plain data.

Parsing a HeadObject answer is pure and tested as a table; the calls themselves are
made by the engine, which owns retries and error translation.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .location import S3Location

#: Checksum algorithms S3 reports, in HeadObject's field names.
CHECKSUM_FIELDS: Mapping[str, str] = {
    "CRC64NVME": "ChecksumCRC64NVME",
    "CRC32": "ChecksumCRC32",
    "CRC32C": "ChecksumCRC32C",
    "SHA1": "ChecksumSHA1",
    "SHA256": "ChecksumSHA256",
}
#: Algorithms S3 can compute over a whole multipart object (the others are per-part only).
FULL_OBJECT_ALGORITHMS = frozenset({"CRC64NVME", "CRC32", "CRC32C"})
#: Server-side encryption whose objects' ETags are not the MD5 of their bytes (SSE-C: neither).
OPAQUE_ETAG_ENCRYPTION = frozenset({"aws:kms", "aws:kms:dsse"})
_MD5_HEX = re.compile(r"[0-9a-fA-F]{32}")


@dataclass(frozen=True)
class Checksum:
    """A checksum S3 stored with an object: algorithm, base64 value, FULL_OBJECT or COMPOSITE.

    A listing names the algorithm and type but not the value: ``value`` is then "", and
    such a checksum is never compared (:attr:`known` is False).
    """

    algorithm: str
    value: str
    type: str

    @property
    def known(self) -> bool:
        """The value was read (HeadObject, a write's answer), not just the algorithm listed."""
        return bool(self.value)

    @property
    def is_full_object(self) -> bool:
        # A composite checksum is a checksum of part checksums: its value ends in "-N".
        return self.type == "FULL_OBJECT" or (self.type == "" and "-" not in self.value)

    def comparable_with(self, other: Checksum) -> bool:
        """True when equal values mean equal bytes: same algorithm, both over the whole object."""
        return (
            self.known
            and other.known
            and self.algorithm == other.algorithm
            and self.is_full_object
            and other.is_full_object
        )


def checksum_from(answer: Mapping[str, Any]) -> Checksum | None:
    """The checksum in a HeadObject / CompleteMultipartUpload / CopyObject answer, if any."""
    for algorithm, name in CHECKSUM_FIELDS.items():
        value = answer.get(name)
        if value:
            return Checksum(algorithm, str(value), str(answer.get("ChecksumType") or ""))
    return None


def _md5_in_etag(etag: str, sse: object, sse_customer: object) -> str | None:
    """The MD5 (hex, lower case) an ETag states for its object's bytes, or None.

    An object written in one piece without SSE-KMS or SSE-C has the MD5 of its bytes as
    its ETag; a multipart ETag (``...-N``) or an SSE-KMS / SSE-C object's ETag does not.
    """
    bare = etag.strip('"')
    if _MD5_HEX.fullmatch(bare) is None or sse in OPAQUE_ETAG_ENCRYPTION or sse_customer:
        return None
    return bare.lower()


def etag_proves_copy(source_etag: str, answer: Mapping[str, Any]) -> bool:
    """True when a CopyObject's answer proves the destination holds the source's bytes.

    A copy whose ETag is the source's plain MD5 (:func:`_md5_in_etag`) holds the same
    bytes. Any other ETag proves nothing, so those copies are checked by HeadObject.
    """
    source = _md5_in_etag(
        source_etag, answer.get("ServerSideEncryption"), answer.get("SSECustomerAlgorithm")
    )
    written = str(answer.get("CopyObjectResult", {}).get("ETag") or "").strip('"')
    return source is not None and written.lower() == source


def content_md5(facts: SourceFacts, *, on_aws: bool) -> str | None:
    """The MD5 (hex) of the source's bytes that its ETag states, or None when it states none.

    AWS documents that an object written in one piece, in plain text or with SSE-S3, has
    the MD5 of its bytes as its ETag (:func:`_md5_in_etag`). Other S3 servers may give an
    encrypted object another ETag, so away from AWS only an object without server-side
    encryption counts.
    """
    sse = facts.server_side_encryption
    if sse and not on_aws:
        return None
    return _md5_in_etag(facts.etag, sse, facts.sse_customer_algorithm)


@dataclass(frozen=True)
class SourceFacts:
    """Everything the planner needs to know about the source object."""

    location: S3Location
    size: int
    etag: str
    version_id: str | None = None
    last_modified: dt.datetime | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    content_type: str | None = None
    content_encoding: str | None = None
    content_disposition: str | None = None
    content_language: str | None = None
    cache_control: str | None = None
    expires: dt.datetime | None = None
    website_redirect_location: str | None = None
    storage_class: str | None = None
    server_side_encryption: str | None = None
    sse_kms_key_id: str | None = None
    bucket_key_enabled: bool = False
    sse_customer_algorithm: str | None = None
    checksum: Checksum | None = None
    tag_count: int = 0
    #: The source's tags when they were read (GetObjectTagging); None when not read.
    tags: tuple[tuple[str, str], ...] | None = None
    #: Part count of the source's own multipart upload (from the ETag's "-N"), if any.
    source_parts: int | None = None

    @classmethod
    def from_head(cls, location: S3Location, head: Mapping[str, Any]) -> SourceFacts:
        """Build facts from a HeadObject answer (boto3's parsed dict)."""
        etag = str(head.get("ETag", ""))
        parts = None
        bare = etag.strip('"')
        if "-" in bare and bare.rsplit("-", 1)[1].isdigit():
            parts = int(bare.rsplit("-", 1)[1])
        expires = head.get("Expires")
        return cls(
            location=location,
            size=int(head.get("ContentLength", 0)),
            etag=etag,
            version_id=head.get("VersionId") or location.version_id,
            last_modified=head.get("LastModified"),
            metadata=dict(head.get("Metadata") or {}),
            content_type=head.get("ContentType"),
            content_encoding=head.get("ContentEncoding"),
            content_disposition=head.get("ContentDisposition"),
            content_language=head.get("ContentLanguage"),
            cache_control=head.get("CacheControl"),
            expires=expires if isinstance(expires, dt.datetime) else None,
            website_redirect_location=head.get("WebsiteRedirectLocation"),
            storage_class=head.get("StorageClass"),
            server_side_encryption=head.get("ServerSideEncryption"),
            sse_kms_key_id=head.get("SSEKMSKeyId"),
            bucket_key_enabled=bool(head.get("BucketKeyEnabled", False)),
            sse_customer_algorithm=head.get("SSECustomerAlgorithm"),
            checksum=checksum_from(head),
            tag_count=int(head.get("TagCount") or 0),
            source_parts=parts,
        )

    def with_tags(self, tag_set: list[Mapping[str, str]]) -> SourceFacts:
        """The same facts with the source's tags (a GetObjectTagging ``TagSet``)."""
        tags = tuple((str(t["Key"]), str(t["Value"])) for t in tag_set)
        return dataclasses.replace(self, tags=tags, tag_count=len(tags))
