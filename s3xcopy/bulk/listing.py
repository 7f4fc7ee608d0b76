"""Streamed listings: prefixes as ``aws s3`` reads them, ListObjectsV2 page by page, merges.

Nothing here holds more than one page (1,000 keys) of a listing, so a prefix of
millions of keys costs the same memory as one of ten. Sync merges the source and
destination listings, both in S3's key order (UTF-8 bytes, which is the order of
Python's ``str`` comparison), and refuses to go on if either is out of order: a
wrong merge could delete objects that exist.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidInputError, S3xCopyError
from ..facts import Checksum, SourceFacts
from ..location import S3Location

#: Keys per ListObjectsV2 page (S3's maximum).
PAGE_SIZE = 1000

Call = Callable[..., dict[str, Any]]


@dataclass(frozen=True, slots=True)
class ListedObject:
    """One object as ListObjectsV2 describes it."""

    key: str
    size: int
    etag: str
    last_modified: dt.datetime
    storage_class: str | None = None
    #: The object's checksum algorithm and type as listed (S3 lists no checksum values).
    checksum_algorithm: str | None = None
    checksum_type: str | None = None

    @classmethod
    def from_listing(cls, item: Mapping[str, Any]) -> ListedObject:
        algorithms = item.get("ChecksumAlgorithm") or ()
        return cls(
            key=str(item["Key"]),
            size=int(item.get("Size", 0)),
            etag=str(item.get("ETag", "")),
            last_modified=item["LastModified"],
            storage_class=item.get("StorageClass"),
            checksum_algorithm=str(algorithms[0]) if algorithms else None,
            checksum_type=item.get("ChecksumType"),
        )

    def facts(self, bucket: str) -> SourceFacts:
        """What the listing says about this object, as the planner's facts.

        Only what a listing holds: size, ETag, last-modified, storage class and the checksum
        algorithm (its value unknown). Metadata, content headers, tags and encryption are
        unknown: :func:`s3xcopy.planning.listing_suffices` says when a copy needs none.
        """
        checksum = None
        if self.checksum_algorithm:
            checksum = Checksum(self.checksum_algorithm, "", self.checksum_type or "")
        return SourceFacts(
            location=S3Location(bucket, self.key),
            size=self.size,
            etag=self.etag,
            last_modified=self.last_modified,
            storage_class=self.storage_class,
            checksum=checksum,
        )

    @property
    def is_directory_marker(self) -> bool:
        """A zero-byte ``folder/`` object made by consoles; ``aws s3`` skips these."""
        return self.size == 0 and self.key.endswith("/")


def dir_prefix(location: S3Location) -> str:
    """The key prefix a recursive operation lists: the key with a trailing ``/`` (aws s3)."""
    if location.version_id:
        raise InvalidInputError(f"a prefix cannot have a versionId: {location}")
    key = location.key
    return key if key == "" or key.endswith("/") else key + "/"


def check_prefixes(source: S3Location, dest: S3Location, *, delete: bool) -> None:
    """Refuse source/destination pairs that would copy onto themselves or delete the source."""
    if source.bucket != dest.bucket:
        return
    src, dst = dir_prefix(source), dir_prefix(dest)
    where = f"s3://{source.bucket}/{src}"
    if src == dst:
        raise InvalidInputError(f"source and destination are the same prefix: {where}")
    if dst.startswith(src):
        raise InvalidInputError(
            f"the destination s3://{dest.bucket}/{dst} is inside the source {where}: the "
            "listing would find its own copies"
        )
    if delete and src.startswith(dst):
        raise InvalidInputError(
            f"the source {where} is inside the destination s3://{dest.bucket}/{dst}: --delete "
            "would delete the source's own objects"
        )


def list_objects(
    call: Call,
    bucket: str,
    prefix: str,
    extra: Mapping[str, Any] | None = None,
    *,
    page_size: int = PAGE_SIZE,
) -> Iterator[ListedObject]:
    """Every object under ``prefix``, ``page_size`` keys a request, through ``call``
    (retries, gate)."""
    token: str | None = None
    while True:
        args: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": page_size}
        args.update(extra or {})
        if token:
            args["ContinuationToken"] = token
        page = call("ListObjectsV2", **args)
        for item in page.get("Contents", ()):
            yield ListedObject.from_listing(item)
        if not page.get("IsTruncated"):
            return
        following = page.get("NextContinuationToken")
        if not following or following == token:
            raise S3xCopyError(
                f"the listing of s3://{bucket}/{prefix} is truncated but gives no new "
                "continuation token",
                operation="ListObjectsV2",
            )
        token = str(following)


def relative(
    objects: Iterator[ListedObject], prefix: str, where: str
) -> Iterator[tuple[str, ListedObject]]:
    """(key below ``prefix``, object) in listing order, checked to be strictly ascending."""
    previous: str | None = None
    for item in objects:
        if item.is_directory_marker:
            continue
        if previous is not None and item.key <= previous:
            raise S3xCopyError(
                f"the listing of {where} is not in key order ({item.key!r} came after "
                f"{previous!r}); stopping, since comparing unordered listings is unsafe",
                operation="ListObjectsV2",
            )
        previous = item.key
        yield item.key[len(prefix) :], item


Pair = tuple[str, ListedObject | None, ListedObject | None]


def merge(
    source: Iterator[tuple[str, ListedObject]], dest: Iterator[tuple[str, ListedObject]]
) -> Iterator[Pair]:
    """Walk two key-ordered listings together: (relative key, source or None, dest or None)."""
    src = next(source, None)
    dst = next(dest, None)
    while src is not None or dst is not None:
        if dst is None or (src is not None and src[0] < dst[0]):
            assert src is not None
            yield src[0], src[1], None
            src = next(source, None)
        elif src is None or dst[0] < src[0]:
            yield dst[0], None, dst[1]
            dst = next(dest, None)
        else:
            yield src[0], src[1], dst[1]
            src = next(source, None)
            dst = next(dest, None)
