"""S3Location: ``s3://bucket/key`` (optionally ``?versionId=...``) parsed once, validated."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import InvalidInputError

_BUCKET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]$")
_ACCESS_POINT = re.compile(
    r"^(arn:[a-z-]+:s3(?:-object-lambda)?:[a-z0-9-]*:\d{12}:accesspoint[/:][^/]+)(?:/(.*))?$"
)
# Only a *trailing* ?versionId=... is a version: keys may contain "?" themselves.
_VERSION_SUFFIX = re.compile(r"\?versionId=([^/?&]+)$")


@dataclass(frozen=True)
class S3Location:
    """A bucket, a key (possibly empty: a bucket or prefix) and an optional version id."""

    bucket: str
    key: str = ""
    version_id: str | None = None

    @classmethod
    def parse(cls, uri: str) -> S3Location:
        """Parse ``s3://bucket/key[?versionId=ID]``; InvalidInputError says why not in one line."""
        if not isinstance(uri, str) or not uri:
            raise InvalidInputError("empty S3 URI: expected s3://bucket/key")
        if not uri.startswith("s3://"):
            raise InvalidInputError(
                f"not an S3 URI: {uri!r} (expected s3://bucket/key; "
                "s3xcopy copies between S3 locations, not local files)"
            )
        rest = uri[len("s3://") :]
        version_id = None
        match = _VERSION_SUFFIX.search(rest)
        if match:
            version_id = match.group(1)
            rest = rest[: match.start()]
        ap = _ACCESS_POINT.match(rest)
        if ap:
            bucket, key = ap.group(1), ap.group(2) or ""
        else:
            bucket, _, key = rest.partition("/")
            if not bucket:
                raise InvalidInputError(f"no bucket in S3 URI: {uri!r}")
            if not _BUCKET.match(bucket):
                raise InvalidInputError(f"invalid bucket name {bucket!r} in {uri!r}")
        if version_id is not None and not key:
            raise InvalidInputError(f"versionId given without a key in {uri!r}")
        if len(key.encode("utf-8")) > 1024:
            raise InvalidInputError(f"key longer than S3's 1024-byte limit in {uri!r}")
        return cls(bucket=bucket, key=key, version_id=version_id)

    @property
    def is_prefix(self) -> bool:
        """True when this names a bucket or a "directory" (empty key or trailing slash)."""
        return self.key == "" or self.key.endswith("/")

    @property
    def basename(self) -> str:
        """The last path segment of the key (``b`` for ``a/b``)."""
        return self.key.rstrip("/").rsplit("/", 1)[-1]

    def join(self, name: str) -> S3Location:
        """The object ``name`` under this prefix (``s3://b/p/`` + ``k`` is ``s3://b/p/k``)."""
        return S3Location(self.bucket, self.key + name)

    def copy_source(self) -> dict[str, str]:
        """The ``CopySource`` dict boto3 takes for CopyObject / UploadPartCopy."""
        source = {"Bucket": self.bucket, "Key": self.key}
        if self.version_id:
            source["VersionId"] = self.version_id
        return source

    def bucket_arn(self, partition: str = "aws") -> str:
        """The bucket's ARN (the access point's ARN for an access point)."""
        if self.bucket.startswith("arn:"):
            return self.bucket
        return f"arn:{partition}:s3:::{self.bucket}"

    def object_arn(self, partition: str = "aws") -> str:
        """The object's ARN, as IAM policies and encryption contexts name it."""
        if self.bucket.startswith("arn:"):
            return f"{self.bucket}/object/{self.key}"
        return f"arn:{partition}:s3:::{self.bucket}/{self.key}"

    def __str__(self) -> str:
        text = f"s3://{self.bucket}/{self.key}"
        return f"{text}?versionId={self.version_id}" if self.version_id else text
