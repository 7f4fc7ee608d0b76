"""The modelled S3's state and rules: buckets, object sizes and metadata, multipart uploads.

No bytes are kept: an object is its size, ETag, headers, metadata and tags, so a 50 GiB
object costs a few hundred bytes. No I/O and no clock of its own (injectable), so the
rules (part sizes, part order, preconditions, listing) are testable without a server.
Copies are two-phase (check now, commit after the modelled copy time) so the server can
hold the response for ``size / rate`` and a source can still change meanwhile.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import itertools
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Generic, TypeVar

from ..limits import MAX_TAGS, MiB
from .costs import ModelParams

T = TypeVar("T")

#: Content headers an object keeps and a metadata-directive COPY carries over.
CONTENT_HEADERS = (
    "content-type",
    "content-encoding",
    "content-disposition",
    "content-language",
    "cache-control",
    "expires",
    "x-amz-website-redirect-location",
)
#: Encryption headers (never copied from the source: they come from the request or the default).
SSE_HEADERS = ("x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id")
DEFAULT_CONTENT_TYPE = "binary/octet-stream"
#: Every S3 bucket has SSE-S3 default encryption since January 2023, so objects report it.
DEFAULT_SSE = "AES256"

_FILLER_BLOCK = bytes(range(256)) * (4096 + 1)  # 1 MiB + 256: any offset can start a slice
_FILLER_CHUNK = MiB
#: Seeded objects up to this size get the real MD5 of their filler as ETag.
_REAL_MD5_LIMIT = 16 * MiB


class S3Error(Exception):
    """An S3 error answer: HTTP status, S3's error code, message, and the resource."""

    def __init__(self, status: int, code: str, message: str, resource: str = "") -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.resource = resource


def no_such_bucket(bucket: str) -> S3Error:
    return S3Error(404, "NoSuchBucket", "The specified bucket does not exist", bucket)


def no_such_key(bucket: str, key: str) -> S3Error:
    return S3Error(404, "NoSuchKey", "The specified key does not exist.", f"{bucket}/{key}")


def no_such_upload(upload_id: str) -> S3Error:
    return S3Error(
        404,
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, "
        "or the upload may have been aborted or completed.",
        upload_id,
    )


def filler(offset: int, length: int) -> Iterator[bytes]:
    """The deterministic bytes a GET returns: byte ``i`` of any object is ``i % 256``."""
    end = offset + length
    while offset < end:
        n = min(_FILLER_CHUNK, end - offset)
        start = offset % 256
        yield _FILLER_BLOCK[start : start + n]
        offset += n


@functools.lru_cache(maxsize=64)
def filler_md5(size: int) -> str:
    """MD5 (hex) of the filler of an object of ``size`` bytes."""
    digest = hashlib.md5(usedforsecurity=False)
    for chunk in filler(0, size):
        digest.update(chunk)
    return digest.hexdigest()


def fake_md5(*parts: object) -> str:
    """A well-formed, deterministic MD5-looking ETag for bytes the model never had."""
    text = "\0".join(str(p) for p in parts)
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def multipart_etag(part_etags: list[str]) -> str:
    """S3's multipart ETag: MD5 of the concatenated binary part MD5s, then ``-N``."""
    joined = b"".join(bytes.fromhex(e) for e in part_etags)
    return f"{hashlib.md5(joined, usedforsecurity=False).hexdigest()}-{len(part_etags)}"


def unquote_etag(etag: str) -> str:
    etag = etag.strip()
    if etag.startswith("W/"):
        etag = etag[2:]
    return etag.strip('"')


def parse_tagging(text: str) -> dict[str, str]:
    """Tags from an ``x-amz-tagging`` header (``k=v&k2=v2``, URL-encoded)."""
    from urllib.parse import parse_qsl

    tags = dict(parse_qsl(text, keep_blank_values=True))
    check_tags(tags)
    return tags


def check_tags(tags: Mapping[str, str]) -> None:
    if len(tags) > MAX_TAGS:
        raise S3Error(400, "BadRequest", "Object tags cannot be greater than 10")


@dataclass
class StoredObject:
    """An object as the model keeps it: everything but its bytes."""

    size: int
    etag: str
    last_modified: float
    headers: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    storage_class: str = "STANDARD"
    #: Sizes of the parts it was built from (empty for a single PUT or CopyObject).
    part_sizes: tuple[int, ...] = ()


@dataclass
class Part:
    size: int
    etag: str
    last_modified: float


@dataclass
class Upload:
    """An open multipart upload and the settings its object will get on completion."""

    upload_id: str
    key: str
    initiated: float
    headers: dict[str, str]
    metadata: dict[str, str]
    tags: dict[str, str]
    storage_class: str
    parts: dict[int, Part] = field(default_factory=dict)


@dataclass
class Bucket:
    name: str
    created: float
    objects: dict[str, StoredObject] = field(default_factory=dict)
    uploads: dict[str, Upload] = field(default_factory=dict)
    _sorted: list[str] | None = None

    def keys(self) -> list[str]:
        """Keys in S3's order (UTF-8 byte order, which is code-point order)."""
        if self._sorted is None:
            self._sorted = sorted(self.objects)
        return self._sorted

    def put(self, key: str, obj: StoredObject) -> None:
        if key not in self.objects:
            self._sorted = None
        self.objects[key] = obj

    def remove(self, key: str) -> bool:
        if self.objects.pop(key, None) is None:
            return False
        self._sorted = None
        return True


@dataclass(frozen=True)
class Pending(Generic[T]):
    """A checked copy: ``nbytes`` to move at the copy rate, then ``commit()`` makes it real."""

    nbytes: int
    commit: Callable[[], T]


@dataclass(frozen=True)
class CopyConditions:
    """The ``x-amz-copy-source-if-*`` headers (None when absent)."""

    if_match: str | None = None
    if_none_match: str | None = None
    if_modified_since: str | None = None
    if_unmodified_since: str | None = None


@dataclass(frozen=True)
class ObjectSettings:
    """What a write request says about the object it makes (headers, metadata, tags, class)."""

    headers: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] | None = None
    storage_class: str | None = None


@dataclass(frozen=True)
class Listing:
    """One page of a listing."""

    entries: list[tuple[str, StoredObject]]
    common_prefixes: list[str]
    truncated: bool
    #: The last key or common prefix returned: where the next page resumes.
    last: str | None


class S3Store:
    """The whole modelled S3: buckets of objects and uploads, and the rules S3 enforces."""

    def __init__(self, params: ModelParams | None = None, clock: Callable[[], float] = time.time):
        self.params = params or ModelParams()
        self._clock = clock
        self.buckets: dict[str, Bucket] = {}
        self._upload_ids = itertools.count(1)

    # --- buckets ---------------------------------------------------------------------

    def bucket(self, name: str) -> Bucket:
        found = self.buckets.get(name)
        if found is None:
            raise no_such_bucket(name)
        return found

    def create_bucket(self, name: str) -> Bucket:
        if name in self.buckets:
            raise S3Error(
                409,
                "BucketAlreadyOwnedByYou",
                "Your previous request to create the named bucket succeeded "
                "and you already own it.",
                name,
            )
        if not 3 <= len(name) <= 63:
            raise S3Error(400, "InvalidBucketName", "The specified bucket is not valid.", name)
        bucket = self.buckets[name] = Bucket(name, self._clock())
        return bucket

    def delete_bucket(self, name: str) -> None:
        bucket = self.bucket(name)
        if bucket.objects or bucket.uploads:
            raise S3Error(
                409, "BucketNotEmpty", "The bucket you tried to delete is not empty", name
            )
        del self.buckets[name]

    # --- objects ---------------------------------------------------------------------

    def get_object(self, bucket: str, key: str) -> StoredObject:
        obj = self.bucket(bucket).objects.get(key)
        if obj is None:
            raise no_such_key(bucket, key)
        return obj

    def put_object(
        self, bucket: str, key: str, size: int, etag: str, settings: ObjectSettings
    ) -> StoredObject:
        target = self.bucket(bucket)
        obj = self._new_object(size, etag, settings)
        target.put(key, obj)
        return obj

    def _new_object(self, size: int, etag: str, settings: ObjectSettings) -> StoredObject:
        headers = {k: v for k, v in settings.headers.items() if k in CONTENT_HEADERS}
        headers.setdefault("content-type", DEFAULT_CONTENT_TYPE)
        headers.update(self._sse(settings.headers))
        return StoredObject(
            size=size,
            etag=etag,
            last_modified=self._clock(),
            headers=headers,
            metadata=dict(settings.metadata),
            tags=dict(settings.tags or {}),
            storage_class=settings.storage_class or "STANDARD",
        )

    @staticmethod
    def _sse(request_headers: Mapping[str, str]) -> dict[str, str]:
        sse = request_headers.get("x-amz-server-side-encryption") or DEFAULT_SSE
        out = {"x-amz-server-side-encryption": sse}
        kms_key = request_headers.get("x-amz-server-side-encryption-aws-kms-key-id")
        if kms_key and sse.startswith("aws:kms"):
            out["x-amz-server-side-encryption-aws-kms-key-id"] = kms_key
        return out

    def seed(self, bucket: str, prefix: str, count: int, size: int) -> list[str]:
        """Create objects of ``size`` bytes without any request cost (the harness's set-up).

        One object is named ``prefix`` itself; several are ``prefix`` + a zero-padded number.
        """
        if count < 1 or (count == 1 and not prefix):
            raise S3Error(400, "InvalidArgument", "seed needs count >= 1 and a key for one object")
        if bucket not in self.buckets:
            self.create_bucket(bucket)
        target = self.buckets[bucket]
        width = max(6, len(str(count - 1)))
        keys = [prefix] if count == 1 else [f"{prefix}{i:0{width}d}" for i in range(count)]
        for key in keys:
            etag = filler_md5(size) if size <= _REAL_MD5_LIMIT else fake_md5(bucket, key, size)
            target.put(key, self._new_object(size, etag, ObjectSettings()))
        return keys

    def delete_object(self, bucket: str, key: str) -> None:
        """Delete a key; deleting a missing key succeeds, as in S3."""
        self.bucket(bucket).remove(key)

    def delete_prefix(self, bucket: str, prefix: str) -> int:
        """Delete every object and upload under ``prefix`` (the harness's free clean-up)."""
        target = self.bucket(bucket)
        doomed = [k for k in target.objects if k.startswith(prefix)]
        for key in doomed:
            target.remove(key)
        for upload_id in [u for u, up in target.uploads.items() if up.key.startswith(prefix)]:
            del target.uploads[upload_id]
        return len(doomed)

    # --- copies ----------------------------------------------------------------------

    def copy_object(
        self,
        src_bucket: str,
        src_key: str,
        bucket: str,
        key: str,
        *,
        conditions: CopyConditions,
        settings: ObjectSettings,
        metadata_directive: str = "COPY",
        tagging_directive: str = "COPY",
    ) -> Pending[StoredObject]:
        """Check a CopyObject; the result commits the new object (after the copy time)."""
        target = self.bucket(bucket)
        source = self.get_object(src_bucket, src_key)
        metadata_directive = metadata_directive.upper()
        tagging_directive = tagging_directive.upper()
        if metadata_directive not in ("COPY", "REPLACE"):
            raise S3Error(400, "InvalidArgument", "Unknown metadata directive.")
        if tagging_directive not in ("COPY", "REPLACE"):
            raise S3Error(400, "InvalidArgument", "Unknown tagging directive.")
        check_preconditions(source, conditions, copy=True)
        if source.size > self.params.max_copy_object_size:
            raise S3Error(
                400,
                "InvalidRequest",
                "The specified copy source is larger than the maximum allowable size for a "
                f"copy source: {self.params.max_copy_object_size}",
            )
        changes = (
            metadata_directive == "REPLACE"
            or settings.storage_class is not None
            or any(h in settings.headers for h in SSE_HEADERS)
            or "x-amz-website-redirect-location" in settings.headers
        )
        if (src_bucket, src_key) == (bucket, key) and not changes:
            raise S3Error(
                400,
                "InvalidRequest",
                "This copy request is illegal because it is trying to copy an object to itself "
                "without changing the object's metadata, storage class, website redirect "
                "location or encryption attributes.",
            )
        if metadata_directive == "COPY":
            headers = {k: v for k, v in source.headers.items() if k in CONTENT_HEADERS}
            headers.update({k: v for k, v in settings.headers.items() if k in SSE_HEADERS})
            metadata = dict(source.metadata)
        else:
            headers, metadata = dict(settings.headers), dict(settings.metadata)
        tags = dict(source.tags) if tagging_directive == "COPY" else dict(settings.tags or {})
        # A single-part source keeps its MD5 ETag; a multipart one becomes a single object
        # whose MD5 the model cannot know, so it gets a stable made-up one.
        etag = source.etag if not source.part_sizes else fake_md5("copy", source.etag)
        new_settings = ObjectSettings(headers, metadata, tags, settings.storage_class)

        def commit() -> StoredObject:
            obj = self._new_object(source.size, etag, new_settings)
            target.put(key, obj)
            return obj

        return Pending(source.size, commit)

    # --- listing ---------------------------------------------------------------------

    def list_objects(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str = "",
        resume_after: str = "",
        max_keys: int = 1000,
    ) -> Listing:
        """One page of keys (and common prefixes) after ``resume_after``, in S3's order."""
        keys = self.bucket(bucket).keys()
        objects = self.bucket(bucket).objects
        start = bisect.bisect_left(keys, prefix)
        if resume_after:
            skip_to = resume_after
            if delimiter and resume_after.endswith(delimiter) and resume_after.startswith(prefix):
                skip_to = _after_prefix(resume_after)  # the whole common prefix was returned
                start = max(start, bisect.bisect_left(keys, skip_to))
            else:
                start = max(start, bisect.bisect_right(keys, skip_to))
        entries: list[tuple[str, StoredObject]] = []
        prefixes: list[str] = []
        last: str | None = None
        i = start
        while i < len(keys):
            key = keys[i]
            if not key.startswith(prefix):
                break
            if len(entries) + len(prefixes) >= max_keys:
                return Listing(entries, prefixes, True, last)
            cut = key.find(delimiter, len(prefix)) if delimiter else -1
            if cut >= 0:
                common = key[: cut + len(delimiter)]
                prefixes.append(common)
                last = common
                i = bisect.bisect_left(keys, _after_prefix(common), i + 1)
                continue
            entries.append((key, objects[key]))
            last = key
            i += 1
        return Listing(entries, prefixes, False, last)

    # --- multipart -------------------------------------------------------------------

    def create_multipart_upload(self, bucket: str, key: str, settings: ObjectSettings) -> Upload:
        target = self.bucket(bucket)
        upload_id = f"{next(self._upload_ids):06d}-{uuid.uuid4().hex}"
        headers = {k: v for k, v in settings.headers.items() if k in CONTENT_HEADERS}
        headers.setdefault("content-type", DEFAULT_CONTENT_TYPE)
        headers.update(self._sse(settings.headers))
        upload = Upload(
            upload_id=upload_id,
            key=key,
            initiated=self._clock(),
            headers=headers,
            metadata=dict(settings.metadata),
            tags=dict(settings.tags or {}),
            storage_class=settings.storage_class or "STANDARD",
        )
        target.uploads[upload_id] = upload
        return upload

    def upload(self, bucket: str, key: str, upload_id: str) -> Upload:
        upload = self.bucket(bucket).uploads.get(upload_id)
        if upload is None or upload.key != key:
            raise no_such_upload(upload_id)
        return upload

    def _check_part_number(self, part_number: int) -> None:
        if not 1 <= part_number <= self.params.max_parts:
            raise S3Error(
                400,
                "InvalidArgument",
                f"Part number must be an integer between 1 and {self.params.max_parts}, inclusive",
            )

    def _check_part_size(self, size: int) -> None:
        if size > self.params.max_part_size:
            raise S3Error(
                400,
                "EntityTooLarge",
                "Your proposed upload exceeds the maximum allowed object size.",
            )

    def upload_part(
        self, bucket: str, key: str, upload_id: str, part_number: int, size: int, etag: str
    ) -> Part:
        upload = self.upload(bucket, key, upload_id)
        self._check_part_number(part_number)
        self._check_part_size(size)
        part = upload.parts[part_number] = Part(size, etag, self._clock())
        return part

    def upload_part_copy(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        part_number: int,
        src_bucket: str,
        src_key: str,
        *,
        copy_range: str | None,
        conditions: CopyConditions,
    ) -> Pending[Part]:
        """Check an UploadPartCopy; the result commits the part (after the copy time)."""
        self.upload(bucket, key, upload_id)
        self._check_part_number(part_number)
        source = self.get_object(src_bucket, src_key)
        check_preconditions(source, conditions, copy=True)
        if copy_range is None:
            if source.size > self.params.max_copy_object_size:
                raise S3Error(
                    400,
                    "InvalidRequest",
                    "The specified copy source is larger than the maximum allowable size for a "
                    f"copy source: {self.params.max_copy_object_size}",
                )
            first, last = 0, source.size - 1
        else:
            first, last = _copy_range(copy_range, source.size)
        size = last - first + 1 if source.size else 0
        self._check_part_size(size)
        etag = fake_md5(src_bucket, src_key, source.etag, first, last)

        def commit() -> Part:
            upload = self.upload(bucket, key, upload_id)  # it may have been aborted meanwhile
            part = upload.parts[part_number] = Part(size, etag, self._clock())
            return part

        return Pending(size, commit)

    def list_parts(
        self, bucket: str, key: str, upload_id: str, *, marker: int = 0, max_parts: int = 1000
    ) -> tuple[list[tuple[int, Part]], bool]:
        upload = self.upload(bucket, key, upload_id)
        numbers = sorted(n for n in upload.parts if n > marker)
        page = numbers[:max_parts]
        return [(n, upload.parts[n]) for n in page], len(numbers) > len(page)

    def complete_multipart_upload(
        self, bucket: str, key: str, upload_id: str, parts: list[tuple[int, str]]
    ) -> StoredObject:
        """Assemble the listed parts in order, with S3's checks on order, ETags and sizes."""
        target = self.bucket(bucket)
        upload = self.upload(bucket, key, upload_id)
        if not parts:
            raise S3Error(
                400,
                "MalformedXML",
                "The XML you provided was not well-formed or did not validate against our "
                "published schema",
            )
        numbers = [n for n, _ in parts]
        if any(b <= a for a, b in itertools.pairwise(numbers)):
            raise S3Error(
                400,
                "InvalidPartOrder",
                "The list of parts was not in ascending order. The parts list must be specified "
                "in order by part number.",
            )
        chosen: list[Part] = []
        for number, etag in parts:
            part = upload.parts.get(number)
            if part is None or unquote_etag(etag) != part.etag:
                raise S3Error(
                    400,
                    "InvalidPart",
                    "One or more of the specified parts could not be found. The part might not "
                    "have been uploaded, or the specified entity tag might not have matched the "
                    "part's entity tag.",
                )
            chosen.append(part)
        for part in chosen[:-1]:
            if part.size < self.params.min_part_size:
                raise S3Error(
                    400,
                    "EntityTooSmall",
                    "Your proposed upload is smaller than the minimum allowed object size.",
                )
        obj = StoredObject(
            size=sum(p.size for p in chosen),
            etag=multipart_etag([p.etag for p in chosen]),
            last_modified=self._clock(),
            headers=dict(upload.headers),
            metadata=dict(upload.metadata),
            tags=dict(upload.tags),
            storage_class=upload.storage_class,
            part_sizes=tuple(p.size for p in chosen),
        )
        del target.uploads[upload_id]
        target.put(key, obj)
        return obj

    def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        self.upload(bucket, key, upload_id)
        del self.bucket(bucket).uploads[upload_id]

    def list_uploads(self, bucket: str, prefix: str = "") -> list[Upload]:
        uploads = self.bucket(bucket).uploads.values()
        return sorted(
            (u for u in uploads if u.key.startswith(prefix)), key=lambda u: (u.key, u.initiated)
        )

    # --- tagging ---------------------------------------------------------------------

    def put_tags(self, bucket: str, key: str, tags: dict[str, str]) -> None:
        check_tags(tags)
        self.get_object(bucket, key).tags = dict(tags)

    def delete_tags(self, bucket: str, key: str) -> None:
        self.get_object(bucket, key).tags = {}


def check_preconditions(obj: StoredObject, cond: CopyConditions, *, copy: bool) -> bool:
    """Apply if-match / if-none-match / if-(un)modified-since to ``obj``.

    Raises 412 PreconditionFailed; returns True when a GET/HEAD should answer 304 Not
    Modified (for a copy, ``copy=True``, that case is a 412 too). S3's pairing rule: a
    true if-match overrides a false if-unmodified-since, and a false if-none-match
    overrides a true if-modified-since, so each pair is one test.
    """
    failed = S3Error(
        412,
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
    )
    if cond.if_match is not None:
        wanted = [unquote_etag(e) for e in cond.if_match.split(",")]
        if "*" not in wanted and obj.etag not in wanted:
            raise failed
    elif (
        cond.if_unmodified_since is not None
        and obj.last_modified >= _http_time(cond.if_unmodified_since) + 1
    ):
        raise failed
    not_modified = False
    if cond.if_none_match is not None:
        refused = [unquote_etag(e) for e in cond.if_none_match.split(",")]
        not_modified = "*" in refused or obj.etag in refused
    elif cond.if_modified_since is not None:
        # HTTP dates have whole seconds: modified "since" means in a later second.
        not_modified = obj.last_modified < _http_time(cond.if_modified_since) + 1
    if not_modified and copy:
        raise failed
    return not_modified


def _after_prefix(prefix: str) -> str:
    """The smallest string greater than every string that starts with ``prefix``."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _http_time(text: str) -> float:
    try:
        return parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError) as exc:
        raise S3Error(400, "InvalidArgument", f"Invalid date: {text!r}") from exc


def _copy_range(text: str, size: int) -> tuple[int, int]:
    """``bytes=first-last`` of x-amz-copy-source-range, checked against the source size."""
    spec = text.strip()
    first_s, sep, last_s = spec.removeprefix("bytes=").partition("-")
    if not spec.startswith("bytes=") or not sep or not first_s.isdigit() or not last_s.isdigit():
        raise S3Error(
            400,
            "InvalidArgument",
            "The x-amz-copy-source-range value must be of the form bytes=first-last where "
            "first and last are the zero-based offsets of the first and last bytes to copy",
        )
    first, last = int(first_s), int(last_s)
    if first > last or last >= size:
        raise S3Error(
            400,
            "InvalidArgument",
            f"Range specified is not valid for source object of size: {size}",
        )
    return first, last
