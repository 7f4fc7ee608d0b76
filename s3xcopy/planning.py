"""Pure planning: source facts + config + destination args -> CopyPlan. No I/O here.

The plan holds every request the engine will send (CopyObject for the single
path; CreateMultipartUpload, UploadPartCopy, CompleteMultipartUpload and
AbortMultipartUpload for the multipart path), so a plan can be printed by
``--dryrun``, compared in tests, and used for a fallback without re-planning.
Both paths carry the same destination properties: user metadata, content
headers, tags, storage class, SSE, ACL, object lock and checksum algorithm.

The ``stream`` strategy (bytes through the client: ranged GetObject with the
source's credentials, UploadPart or PutObject with the destination's) reuses the
multipart path's CreateMultipartUpload properties, so it writes the same object;
the rules for when to stream and its part layout are pure functions here too.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import botocore.utils
from s3transfer.manager import TransferManager
from s3transfer.utils import ChunksizeAdjuster

from .config import CopyConfig, StreamMode
from .errors import InvalidInputError
from .facts import FULL_OBJECT_ALGORITHMS, SourceFacts
from .limits import (
    MAX_COPY_OBJECT_SIZE,
    MAX_INLINE_TAGGING_BYTES,
    MAX_OBJECT_SIZE,
    MAX_PART_SIZE,
    MAX_PARTS,
    MAX_TAG_KEY_LENGTH,
    MAX_TAG_VALUE_LENGTH,
    MAX_TAGS,
    MIN_PART_SIZE,
    MiB,
)
from .location import S3Location
from .results import Strategy
from .units import format_size

#: Destination arguments accepted in boto3's ExtraArgs form: s3transfer's list for copies,
#: plus the source owner check s3transfer lacks (and mixes up: s3transfer issue #232).
ALLOWED_EXTRA_ARGS: frozenset[str] = frozenset(TransferManager.ALLOWED_COPY_ARGS) | {
    "ExpectedSourceBucketOwner",
    "BucketKeyEnabled",
}

#: Content headers that are part of an object's "metadata" for MetadataDirective.
CONTENT_HEADERS = (
    "ContentType",
    "ContentEncoding",
    "ContentDisposition",
    "ContentLanguage",
    "CacheControl",
    "Expires",
    "WebsiteRedirectLocation",
)
#: The grants that may be sent instead of a canned ACL (S3 takes one or the other).
GRANT_FIELDS = ("GrantFullControl", "GrantRead", "GrantReadACP", "GrantWriteACP")
#: The object ACL's fields: a canned ACL or grants (each needs s3:PutObjectAcl).
ACL_FIELDS = ("ACL", *GRANT_FIELDS)
#: Destination settings sent the same way on CopyObject and CreateMultipartUpload.
_DEST_SETTINGS = (
    *ACL_FIELDS,
    "StorageClass",
    "ServerSideEncryption",
    "SSEKMSKeyId",
    "SSEKMSEncryptionContext",
    "BucketKeyEnabled",
    "ObjectLockMode",
    "ObjectLockRetainUntilDate",
    "ObjectLockLegalHoldStatus",
)
_DEST_SSE_C = ("SSECustomerAlgorithm", "SSECustomerKey", "SSECustomerKeyMD5")
_SOURCE_SSE_C = (
    "CopySourceSSECustomerAlgorithm",
    "CopySourceSSECustomerKey",
    "CopySourceSSECustomerKeyMD5",
)
_SOURCE_CONDITIONS = (
    "CopySourceIfModifiedSince",
    "CopySourceIfNoneMatch",
    "CopySourceIfUnmodifiedSince",
)
_DIRECTIVES = ("COPY", "REPLACE")

#: Smallest automatic part: aws s3 cp's chunk size, so mid-sized objects still split into
#: enough parts to run in parallel.
AUTO_MIN_PART_SIZE = 8 * MiB
#: The automatic rule aims for this many parts per concurrent request slot, so a slow part
#: does not leave the other slots idle at the end of a copy.
AUTO_WAVES = 4

#: Part size of the stream strategy when none is given: aws s3 cp's upload chunk size.
#: A streamed part is held in memory while it is sent, so memory is part size x concurrency;
#: the size only grows when an object needs it to stay within 10,000 parts.
STREAM_PART_SIZE = 8 * MiB
#: The full-object checksum a stream computes and sends when the source has none to keep
#: (S3's default for new objects).
STREAM_DEFAULT_CHECKSUM = "CRC64NVME"
#: Hosts of AWS's own S3 endpoints; two of them in one partition can copy server-side.
AWS_ENDPOINT_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn", ".api.aws")


@dataclass(frozen=True)
class PartRange:
    """One part of a multipart copy: its number (from 1) and inclusive byte range."""

    number: int
    start: int
    end: int

    @property
    def size(self) -> int:
        return self.end - self.start + 1

    @property
    def range_header(self) -> str:
        return f"bytes={self.start}-{self.end}"


@dataclass(frozen=True)
class CopyRequests:
    """Every request of both paths, with the destination properties already resolved."""

    copy_object: dict[str, Any]
    create_multipart: dict[str, Any]
    upload_part_copy: dict[str, Any]
    complete_multipart: dict[str, Any]
    abort_multipart: dict[str, Any]
    #: PutObjectTagging after completion, for tags too long to send inline; else None.
    put_tagging: dict[str, Any] | None
    head_dest: dict[str, Any]
    #: The stream path: ranged GetObject on the source (pinned to its ETag, with the source's
    #: SSE-C, RequestPayer and owner check), UploadPart and PutObject on the destination.
    get_object: dict[str, Any] = field(default_factory=dict)
    upload_part: dict[str, Any] = field(default_factory=dict)
    put_object: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CopyPlan:
    """What the engine will do for one object, and why."""

    source: S3Location
    dest: S3Location
    strategy: Strategy
    size: int
    part_size: int | None
    parts: tuple[PartRange, ...]
    reason: str
    requests: CopyRequests = field(repr=False)
    #: The single path is possible (size <= 5 GiB): a multipart plan may fall back to it.
    single_possible: bool = True
    #: The full-object checksum a stream computes while it reads and sends to S3.
    checksum_algorithm: str | None = None

    @property
    def part_count(self) -> int:
        # A stream small enough for one PutObject has no part size, like a single copy.
        return 1 if self.strategy == "single" or self.part_size is None else len(self.parts)

    def describe(self) -> str:
        """One line for people: ``multipart: 8 parts of 8.0 MiB (size 64.0 MiB >= ...)``."""
        if self.strategy == "single":
            return f"single CopyObject ({self.reason})"
        if self.part_size is None:
            return f"{self.strategy}: one GetObject + PutObject ({self.reason})"
        assert self.part_size is not None
        return (
            f"{self.strategy}: {len(self.parts)} parts of {format_size(self.part_size)} "
            f"({self.reason})"
        )


# --- pure helpers -------------------------------------------------------------------------


def resolve_dest(source: S3Location, dest: S3Location, *, exact: bool = False) -> S3Location:
    """The destination object: ``s3://b/prefix/`` + the source's basename, as ``aws s3 cp``.

    ``exact``: ``dest`` is the object itself (bulk copies map each listed key, and an
    object's key may end in ``/``), so nothing is joined and no source is refused.
    """
    if dest.version_id:
        raise InvalidInputError(f"a destination cannot have a versionId: {dest}")
    if exact:
        return dest
    if not source.key or source.key.endswith("/"):
        raise InvalidInputError(
            f"the source must be an object, not a prefix: {source} (use --recursive for prefixes)"
        )
    return dest.join(source.basename) if dest.is_prefix else dest


def multipart_sized(size: int, config: CopyConfig) -> bool:
    """True when an object of ``size`` bytes is copied in parts (False when it cannot be)."""
    try:
        return choose_strategy(size, config)[0] == "multipart"
    except InvalidInputError:
        return False


def choose_strategy(size: int, config: CopyConfig) -> tuple[Strategy, str]:
    """Single CopyObject or multipart, and a one-line reason."""
    if size > MAX_OBJECT_SIZE:
        raise InvalidInputError(
            f"source is {format_size(size)}, above S3's {format_size(MAX_OBJECT_SIZE)} object limit"
        )
    if size == 0:
        return "single", "empty object"
    if size > MAX_COPY_OBJECT_SIZE:
        return "multipart", f"size {format_size(size)} > CopyObject's 5 GiB limit"
    if size >= config.multipart_threshold:
        return "multipart", (
            f"size {format_size(size)} >= threshold {format_size(config.multipart_threshold)}"
        )
    return (
        "single",
        f"size {format_size(size)} < threshold {format_size(config.multipart_threshold)}",
    )


def auto_part_size(size: int, max_concurrency: int) -> int:
    """The automatic part size: about ``AUTO_WAVES`` parts per request slot, at least 8 MiB.

    Server-side copies move no bytes through the client, so a part costs one request
    whatever its size; fewer, larger parts cut request overhead, while enough parts
    keep every slot busy. Whole MiB, within S3's 5 MiB..5 GiB and 10,000-part limits.
    """
    target = math.ceil(size / (max_concurrency * AUTO_WAVES))
    target = max(AUTO_MIN_PART_SIZE, math.ceil(target / MiB) * MiB)
    return fit_part_size(target, size)


def fit_part_size(part_size: int, size: int) -> int:
    """``part_size`` adjusted to S3's limits for an object of ``size`` (s3transfer's rule)."""
    adjusted: int = ChunksizeAdjuster(
        max_size=MAX_PART_SIZE, min_size=MIN_PART_SIZE, max_parts=MAX_PARTS
    ).adjust_chunksize(part_size, size)
    return adjusted


def part_ranges(size: int, part_size: int) -> tuple[PartRange, ...]:
    """Split ``size`` bytes into consecutive parts of ``part_size`` (the last may be shorter)."""
    if size <= 0:
        return ()
    count = math.ceil(size / part_size)
    return tuple(
        PartRange(n + 1, n * part_size, min(size, (n + 1) * part_size) - 1) for n in range(count)
    )


@dataclass(frozen=True)
class Endpoint:
    """Where one side of a copy is served: the client's endpoint URL and ARN partition."""

    url: str
    partition: str = "aws"

    @property
    def is_aws(self) -> bool:
        host = urllib.parse.urlsplit(self.url).hostname or ""
        return host.endswith(AWS_ENDPOINT_SUFFIXES)

    def origin(self) -> tuple[str, str, int | None]:
        """Scheme, host and port, with the scheme's default port made explicit."""
        parts = urllib.parse.urlsplit(self.url.lower())
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
        return parts.scheme, parts.hostname or "", port


def server_side_obstacle(source: Endpoint, dest: Endpoint) -> str | None:
    """Why no server-side copy can read ``source`` and write ``dest``, or None when one can.

    A CopyObject / UploadPartCopy runs inside one S3 service: it crosses regions and
    accounts, not partitions nor S3-compatible servers. AWS endpoints of one partition
    (regional, FIPS, dual-stack, VPC) are one service; any other endpoint is its own.
    """
    if source.partition != dest.partition:
        return (
            f"source is in partition {source.partition}, destination in {dest.partition}: "
            "no server-side copy crosses partitions"
        )
    if source.is_aws and dest.is_aws:
        return None
    if source.origin() != dest.origin():
        return (
            f"source and destination are on different endpoints ({source.url} and {dest.url}): "
            "no server-side copy spans two services"
        )
    return None


def stream_reason(
    mode: StreamMode, obstacle: str | None, *, resuming_stream: bool = False
) -> str | None:
    """Why this copy must (or was asked to) stream through the client; None for server-side.

    ``obstacle`` comes from :func:`server_side_obstacle`; ``resuming_stream`` means the
    upload to resume was started by a stream. ``never`` with an obstacle is an error: no
    strategy is left.
    """
    if mode == "never":
        if obstacle is not None:
            raise InvalidInputError(f"{obstacle}, and streaming is off (--no-stream)")
        return None
    if mode == "always":
        return "streaming was asked for (--stream)"
    if obstacle is not None:
        return f"{obstacle}; streamed through this machine instead"
    if resuming_stream:
        return "resuming an upload a stream started"
    return None


def stream_part_size(size: int, config: CopyConfig) -> int:
    """The stream's part size: the one asked for, else ``STREAM_PART_SIZE``, fitted to S3."""
    return fit_part_size(config.part_size or STREAM_PART_SIZE, size)


def stream_uses_put(size: int, part_size: int, config: CopyConfig) -> bool:
    """One GetObject + PutObject: below the multipart threshold *and* within one part.

    The second condition keeps memory bounded by the part size whatever the threshold.
    """
    return size < config.multipart_threshold and size <= part_size


def stream_checksum_algorithm(facts: SourceFacts, extra_args: Mapping[str, Any]) -> str:
    """The full-object checksum a stream computes and sends: asked, else the source's, else S3's.

    Keeping the source's algorithm makes the streamed bytes checkable against the source's
    own value before the upload completes. SHA1/SHA256 cannot cover a multipart object as
    one value, so they are refused rather than silently weakened.
    """
    asked = extra_args.get("ChecksumAlgorithm")
    if asked is not None:
        if asked not in FULL_OBJECT_ALGORITHMS:
            raise InvalidInputError(
                f"the stream strategy sends a full-object checksum; {asked} cannot be one "
                f"(use {', '.join(sorted(FULL_OBJECT_ALGORITHMS))})"
            )
        return str(asked)
    if facts.checksum is not None and facts.checksum.algorithm in FULL_OBJECT_ALGORITHMS:
        return facts.checksum.algorithm
    return STREAM_DEFAULT_CHECKSUM


def stream_requests(requests: CopyRequests, algorithm: str) -> CopyRequests:
    """The requests of a stream: the multipart path's properties with a FULL_OBJECT checksum.

    PutObject carries exactly CreateMultipartUpload's properties (same object either way);
    the checksum value itself is added by the stream once it has read the bytes.
    """
    create = {
        k: v
        for k, v in requests.create_multipart.items()
        if k not in ("ChecksumAlgorithm", "ChecksumType")
    }
    return dataclasses.replace(
        requests,
        create_multipart={**create, "ChecksumAlgorithm": algorithm, "ChecksumType": "FULL_OBJECT"},
        put_object=create,
    )


def validate_extra_args(extra_args: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check destination args (boto3 ExtraArgs form); unknown keys are refused, not ignored."""
    args = dict(extra_args or {})
    unknown = sorted(set(args) - ALLOWED_EXTRA_ARGS)
    if unknown:
        raise InvalidInputError(
            f"unsupported extra_args {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(ALLOWED_EXTRA_ARGS))}"
        )
    for name in ("MetadataDirective", "TaggingDirective"):
        if name in args and args[name] not in _DIRECTIVES:
            raise InvalidInputError(f"{name} must be COPY or REPLACE, got {args[name]!r}")
    metadata = args.get("Metadata")
    if metadata is not None and (
        not isinstance(metadata, Mapping)
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())
    ):
        raise InvalidInputError("Metadata must map strings to strings")
    if "Tagging" in args:
        parse_tagging(args["Tagging"])
    if "ACL" in args and any(name in args for name in GRANT_FIELDS):
        raise InvalidInputError(
            "ACL cannot be combined with Grant* fields: S3 takes one or the other"
        )
    expires = args.get("Expires")
    if expires is not None and not isinstance(expires, dt.datetime):
        try:
            botocore.utils.parse_timestamp(expires)  # what botocore will make of it
        except (ValueError, TypeError):
            raise InvalidInputError(
                f"Expires {expires!r} is not a timestamp (e.g. 2030-01-01T00:00:00Z)"
            ) from None
    return args


def parse_tagging(tagging: object) -> tuple[tuple[str, str], ...]:
    """Parse a URL-encoded tag set (``k1=v1&k2=v2``), as the x-amz-tagging header carries it."""
    if not isinstance(tagging, str):
        raise InvalidInputError("Tagging must be a URL-encoded string like 'k1=v1&k2=v2'")
    pairs = tuple(urllib.parse.parse_qsl(tagging, keep_blank_values=True, strict_parsing=False))
    if len(pairs) > MAX_TAGS:
        raise InvalidInputError(f"{len(pairs)} tags given; S3 allows at most {MAX_TAGS}")
    if len({k for k, _ in pairs}) != len(pairs):
        raise InvalidInputError("Tagging repeats a tag key")
    for key, value in pairs:
        if not 1 <= len(key) <= MAX_TAG_KEY_LENGTH:
            raise InvalidInputError(
                f"tag key {key!r}: S3 takes 1 to {MAX_TAG_KEY_LENGTH} characters"
            )
        if len(value) > MAX_TAG_VALUE_LENGTH:
            raise InvalidInputError(
                f"tag {key!r}: its value is {len(value)} characters; S3 takes at most "
                f"{MAX_TAG_VALUE_LENGTH}"
            )
    return pairs


def encode_tagging(tags: tuple[tuple[str, str], ...]) -> str:
    """URL-encode tags for the x-amz-tagging header."""
    return urllib.parse.urlencode(tags, quote_via=urllib.parse.quote)


def metadata_directive(extra_args: Mapping[str, Any]) -> str:
    """COPY unless asked, or unless new Metadata was given (then REPLACE, as ``aws s3 cp``)."""
    return str(
        extra_args.get("MetadataDirective") or ("REPLACE" if "Metadata" in extra_args else "COPY")
    )


def tagging_directive(extra_args: Mapping[str, Any]) -> str:
    """COPY unless asked, or unless new Tagging was given (then REPLACE)."""
    return str(
        extra_args.get("TaggingDirective") or ("REPLACE" if "Tagging" in extra_args else "COPY")
    )


def needs_source_tags(
    facts: SourceFacts, strategy: Strategy, extra_args: Mapping[str, Any]
) -> bool:
    """True when the multipart path must read the source's tags to carry them."""
    return (
        strategy != "single"
        and facts.tag_count > 0
        and facts.tags is None
        and tagging_directive(extra_args) == "COPY"
    )


def listing_suffices(
    facts: SourceFacts, config: CopyConfig, extra_args: Mapping[str, Any]
) -> str | None:
    """Why the source must be read (HeadObject) before copying; None when its listing suffices.

    A listing suffices for one CopyObject with COPY directives and nothing to override: S3
    copies the metadata, content headers and tags itself, and the pin (CopySourceIfMatch)
    is the listed ETag, so a source changed since the listing is refused, never copied.
    Everything else needs a value only HeadObject gives, or a path that does.
    """
    if facts.location.version_id:
        return "a version of the source is named"
    if config.stream == "always":
        return "the copy is streamed"
    if config.preflight:
        return "the preflight probes with the source's facts"
    try:
        strategy, _ = choose_strategy(facts.size, config)
    except InvalidInputError as exc:
        return str(exc)
    if strategy != "single":
        return "multipart copies send the metadata, content headers and tags themselves"
    if metadata_directive(extra_args) != "COPY" or any(n in extra_args for n in CONTENT_HEADERS):
        return "metadata or content headers are set (multipart-style: from HeadObject)"
    if tagging_directive(extra_args) != "COPY":
        return "tags are replaced"
    if any(n in extra_args for n in (*_DEST_SSE_C, *_SOURCE_SSE_C)):
        return "SSE-C"
    if "CopySourceIfMatch" in extra_args:
        return "an ETag to check before copying"
    return None


def source_read_args(source: S3Location, extra_args: Mapping[str, Any]) -> dict[str, Any]:
    """Arguments for reads of the source (HeadObject, GetObjectTagging, GetObject).

    The source owner check goes as ExpectedBucketOwner *on source requests only*.
    """
    args: dict[str, Any] = {"Bucket": source.bucket, "Key": source.key}
    if source.version_id:
        args["VersionId"] = source.version_id
    for copy_name, name in zip(_SOURCE_SSE_C, _DEST_SSE_C, strict=True):
        if copy_name in extra_args:
            args[name] = extra_args[copy_name]
    args.update(source_list_args(extra_args))  # who pays, the source's owner
    return args


def source_list_args(extra_args: Mapping[str, Any]) -> dict[str, Any]:
    """Arguments for listings of the source, besides Bucket and Prefix (who pays, the owner)."""
    args: dict[str, Any] = {}
    if "RequestPayer" in extra_args:
        args["RequestPayer"] = extra_args["RequestPayer"]
    if "ExpectedSourceBucketOwner" in extra_args:
        args["ExpectedBucketOwner"] = extra_args["ExpectedSourceBucketOwner"]
    return args


def dest_bucket_args(extra_args: Mapping[str, Any]) -> dict[str, Any]:
    """Arguments for requests to the destination outside a copy (its listing, deletions)."""
    return _pick(extra_args, ("RequestPayer", "ExpectedBucketOwner"))


def _pick(args: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: args[name] for name in names if name in args}


def _source_properties(facts: SourceFacts) -> dict[str, Any]:
    values = {
        "ContentType": facts.content_type,
        "ContentEncoding": facts.content_encoding,
        "ContentDisposition": facts.content_disposition,
        "ContentLanguage": facts.content_language,
        "CacheControl": facts.cache_control,
        "Expires": facts.expires,
        "WebsiteRedirectLocation": facts.website_redirect_location,
    }
    return {k: v for k, v in values.items() if v is not None}


def _checksum_args(
    facts: SourceFacts, extra_args: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """ChecksumAlgorithm for (CopyObject, CreateMultipartUpload), the same in both paths.

    The source's own full-object algorithm is kept, so the copy can be verified by
    comparing checksums; multipart asks for a FULL_OBJECT checksum so S3 computes one
    value over the whole object, comparable with a single copy's.
    """
    algorithm = extra_args.get("ChecksumAlgorithm")
    if algorithm is None and facts.checksum and facts.checksum.algorithm in FULL_OBJECT_ALGORITHMS:
        algorithm = facts.checksum.algorithm
    if algorithm is None:
        return {}, {}
    create: dict[str, Any] = {"ChecksumAlgorithm": algorithm}
    if algorithm in FULL_OBJECT_ALGORITHMS:
        create["ChecksumType"] = "FULL_OBJECT"
    return {"ChecksumAlgorithm": algorithm}, create


def build_requests(
    facts: SourceFacts, dest: S3Location, extra_args: Mapping[str, Any]
) -> CopyRequests:
    """Every request of both paths for copying ``facts.location`` to ``dest``."""
    source = facts.location
    dest_base: dict[str, Any] = {"Bucket": dest.bucket, "Key": dest.key}
    common_dest = _pick(extra_args, ("RequestPayer", "ExpectedBucketOwner"))
    sse_c = _pick(extra_args, _DEST_SSE_C)
    source_pins: dict[str, Any] = {
        "CopySource": source.copy_source(),
        "CopySourceIfMatch": facts.etag,
        **_pick(extra_args, _SOURCE_CONDITIONS),
        **_pick(extra_args, _SOURCE_SSE_C),
    }
    if "ExpectedSourceBucketOwner" in extra_args:
        source_pins["ExpectedSourceBucketOwner"] = extra_args["ExpectedSourceBucketOwner"]
    settings = _pick(extra_args, _DEST_SETTINGS)
    copy_checksum, create_checksum = _checksum_args(facts, extra_args)

    # Metadata and content headers: COPY keeps the source's, given headers override them;
    # REPLACE keeps only what was given. The single path lets S3 copy them when nothing
    # overrides (exact by construction); multipart must send them from HeadObject.
    overrides = _pick(extra_args, CONTENT_HEADERS)
    if metadata_directive(extra_args) == "COPY":
        metadata = dict(facts.metadata)
        properties = {**_source_properties(facts), **overrides}
        single_meta: dict[str, Any] = (
            {"MetadataDirective": "REPLACE", "Metadata": metadata, **properties}
            if overrides
            else {"MetadataDirective": "COPY"}
        )
    else:
        metadata = dict(extra_args.get("Metadata") or {})
        properties = overrides
        single_meta = {"MetadataDirective": "REPLACE", "Metadata": metadata, **properties}

    # Tags: COPY carries the source's, REPLACE sets the given ones, in both paths.
    if tagging_directive(extra_args) == "COPY":
        single_tags: dict[str, Any] = {"TaggingDirective": "COPY"}
        tags = facts.tags or ()
        if facts.tag_count and facts.tags is None:
            tags = ()  # the multipart path reads them first (needs_source_tags)
    else:
        tags = parse_tagging(extra_args.get("Tagging", ""))
        single_tags = {"TaggingDirective": "REPLACE", "Tagging": encode_tagging(tags)}
    tagging = encode_tagging(tags)
    inline_tags = bool(tags) and len(tagging.encode()) <= MAX_INLINE_TAGGING_BYTES

    copy_object = {
        **dest_base,
        **source_pins,
        **common_dest,
        **sse_c,
        **settings,
        **single_meta,
        **single_tags,
        **copy_checksum,
    }
    create_multipart = {
        **dest_base,
        **common_dest,
        **sse_c,
        **settings,
        "Metadata": metadata,
        **properties,
        **({"Tagging": tagging} if inline_tags else {}),
        **create_checksum,
    }
    put_tagging = None
    if tags and not inline_tags:
        put_tagging = {
            **dest_base,
            **common_dest,
            "Tagging": {"TagSet": [{"Key": k, "Value": v} for k, v in tags]},
        }
    return CopyRequests(
        copy_object=copy_object,
        create_multipart=create_multipart,
        upload_part_copy={**dest_base, **source_pins, **common_dest, **sse_c},
        complete_multipart={**dest_base, **common_dest, **sse_c},
        abort_multipart={**dest_base, **common_dest},
        put_tagging=put_tagging,
        head_dest={**dest_base, **common_dest, **sse_c, "ChecksumMode": "ENABLED"},
        get_object={**source_read_args(source, extra_args), "IfMatch": facts.etag},
        upload_part={**dest_base, **common_dest, **sse_c},
    )


def _check_not_self_copy(
    facts: SourceFacts, dest: S3Location, extra_args: Mapping[str, Any]
) -> None:
    source = facts.location
    if (source.bucket, source.key) != (dest.bucket, dest.key) or source.version_id:
        return
    changes = metadata_directive(extra_args) == "REPLACE" or any(
        name in extra_args
        for name in (
            *CONTENT_HEADERS,
            "StorageClass",
            "ServerSideEncryption",
            "SSEKMSKeyId",
            "SSECustomerKey",
        )
    )
    if not changes:
        raise InvalidInputError(
            f"cannot copy {source} onto itself without changing its metadata, storage class "
            "or encryption"
        )


def make_plan(
    facts: SourceFacts,
    dest: S3Location,
    config: CopyConfig,
    extra_args: Mapping[str, Any] | None = None,
    *,
    strategy: Strategy | None = None,
    reason: str | None = None,
    same_service: bool = True,
    exact_dest: bool = False,
) -> CopyPlan:
    """Plan the copy of ``facts.location`` to ``dest``; ``strategy`` forces one, for ``reason``.

    A stream is planned even for an empty object: no server-side copy may be possible.
    ``same_service=False`` (two endpoints) means equal bucket and key name two objects.
    ``exact_dest``: ``dest`` is the object itself (see :func:`resolve_dest`).
    """
    args = validate_extra_args(extra_args)
    dest = resolve_dest(facts.location, dest, exact=exact_dest)
    if same_service:
        _check_not_self_copy(facts, dest, args)
    chosen, why = choose_strategy(facts.size, config)
    if strategy is not None and strategy != chosen and (facts.size > 0 or strategy == "stream"):
        if strategy == "single" and facts.size > MAX_COPY_OBJECT_SIZE:
            raise InvalidInputError(
                f"a single CopyObject cannot copy {format_size(facts.size)} (limit 5 GiB)"
            )
        chosen, why = strategy, reason or f"{strategy} requested"
    requests = build_requests(facts, dest, args)
    single_possible = facts.size <= MAX_COPY_OBJECT_SIZE
    if chosen == "stream":
        return _stream_plan(facts, dest, config, args, requests, why, single_possible)
    reason = why
    if chosen == "single":
        return CopyPlan(facts.location, dest, "single", facts.size, None, (), reason, requests)
    if config.part_size is None:
        part_size = auto_part_size(facts.size, config.server_side_concurrency)
    else:
        part_size = fit_part_size(config.part_size, facts.size)
        if part_size != config.part_size:
            reason += (
                f"; part size raised from {format_size(config.part_size)} to "
                f"{format_size(part_size)} to stay within {MAX_PARTS:,} parts"
            )
    parts = part_ranges(facts.size, part_size)
    return CopyPlan(
        facts.location,
        dest,
        chosen,
        facts.size,
        part_size,
        parts,
        reason,
        requests,
        single_possible,
    )


def _stream_plan(
    facts: SourceFacts,
    dest: S3Location,
    config: CopyConfig,
    args: Mapping[str, Any],
    requests: CopyRequests,
    reason: str,
    single_possible: bool,
) -> CopyPlan:
    algorithm = stream_checksum_algorithm(facts, args)
    part_size = stream_part_size(facts.size, config)
    if config.part_size is not None and part_size != config.part_size:
        reason += (
            f"; part size raised from {format_size(config.part_size)} to "
            f"{format_size(part_size)} to stay within {MAX_PARTS:,} parts"
        )
    parts = part_ranges(facts.size, part_size)
    return CopyPlan(
        facts.location,
        dest,
        "stream",
        facts.size,
        None if stream_uses_put(facts.size, part_size, config) else part_size,
        parts,
        reason,
        stream_requests(requests, algorithm),
        single_possible,
        checksum_algorithm=algorithm,
    )
