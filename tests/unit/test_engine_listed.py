"""Copies planned from a listing (bulk): the exact requests, against botocore's Stubber.

One CopyObject with COPY directives needs nothing HeadObject would tell, so a listed
object is copied with that one request and verified by the copy's own ETag when it is
the source's plain MD5. Every other case keeps the full path, HeadObject first.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from s3xcopy import (
    AccessDeniedError,
    CopyConfig,
    NotFoundError,
    S3Location,
    SourceChangedError,
    VerificationError,
)
from s3xcopy.bulk.listing import ListedObject
from s3xcopy.events import CopyFailed, CopyPlanned, CopySucceeded
from s3xcopy.facts import Checksum, SourceFacts
from s3xcopy.limits import MiB

from .stubbed import StubbedEngine as Harness

SRC = S3Location("src-bucket", "in/data.bin")
DST = S3Location("dst-bucket", "out/data.bin")
MD5 = '"1b2cf535f27731c974343645a3985328"'
WHEN = dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc)
PIN = {
    "Bucket": "dst-bucket",
    "Key": "out/data.bin",
    "CopySource": {"Bucket": "src-bucket", "Key": "in/data.bin"},
    "CopySourceIfMatch": MD5,
    "MetadataDirective": "COPY",
    "TaggingDirective": "COPY",
}


def listed(etag: str = MD5, size: int = 1024, **extra: Any) -> SourceFacts:
    return SourceFacts(SRC, size, etag, last_modified=WHEN, storage_class="STANDARD", **extra)


@pytest.fixture
def h() -> Iterator[Harness]:
    harness = Harness(CopyConfig())
    with harness.stub:
        yield harness
        harness.stub.assert_no_pending_responses()


HEAD_SOURCE = {"Bucket": "src-bucket", "Key": "in/data.bin", "ChecksumMode": "ENABLED"}
HEAD_DEST = {"Bucket": "dst-bucket", "Key": "out/data.bin"}


def test_one_copy_object_pinned_to_the_listed_etag_and_nothing_else(h: Harness) -> None:
    h.ok("copy_object", {"CopyObjectResult": {"ETag": MD5}}, PIN)
    result = h.engine.copy(SRC, DST, listed=listed())
    assert (result.strategy, result.size, result.parts, result.etag) == ("single", 1024, 1, MD5)
    kinds = [type(e) for e in h.events]
    assert kinds[0] is CopyPlanned and kinds[-1] is CopySucceeded


def test_the_listed_checksum_algorithm_is_asked_for_as_head_object_would_have(h: Harness) -> None:
    crc = Checksum("CRC64NVME", "", "FULL_OBJECT")
    h.ok(
        "copy_object",
        {"CopyObjectResult": {"ETag": MD5, "ChecksumCRC64NVME": "AAAAAAAAAAA="}},
        {**PIN, "ChecksumAlgorithm": "CRC64NVME"},
    )
    assert h.engine.copy(SRC, DST, listed=listed(checksum=crc)).etag == MD5


def test_destination_settings_and_owner_checks_go_on_the_one_request(h: Harness) -> None:
    args = {
        "ACL": "bucket-owner-full-control",
        "StorageClass": "STANDARD_IA",
        "ExpectedBucketOwner": "111111111111",
        "ExpectedSourceBucketOwner": "222222222222",
        "RequestPayer": "requester",
    }
    h.ok("copy_object", {"CopyObjectResult": {"ETag": MD5}}, {**PIN, **args})
    h.engine.copy(SRC, DST, args, listed=listed())


@pytest.mark.parametrize(
    ("etag", "answer", "why"),
    [
        ('"0123456789abcdef0123456789abcdef-2"', {}, "a multipart source ETag is no MD5"),
        (MD5, {"ServerSideEncryption": "aws:kms"}, "an SSE-KMS copy's ETag is no MD5"),
        (MD5, {"ServerSideEncryption": "aws:kms:dsse"}, "neither is a DSSE-KMS copy's"),
    ],
)
def test_an_etag_that_proves_nothing_is_checked_by_head_object(
    h: Harness, etag: str, answer: dict[str, Any], why: str
) -> None:
    h.ok(
        "copy_object",
        {"CopyObjectResult": {"ETag": '"opaque"'}, **answer},
        {**PIN, "CopySourceIfMatch": etag},
    )
    h.ok("head_object", {"ContentLength": 1024, "ETag": '"opaque"'}, HEAD_DEST)
    assert h.engine.copy(SRC, DST, listed=listed(etag=etag)).etag == '"opaque"', why


def test_a_copy_of_another_size_fails_verification_and_is_deleted(h: Harness) -> None:
    etag = '"0123456789abcdef0123456789abcdef-2"'
    h.ok("copy_object", {"CopyObjectResult": {"ETag": '"x"'}}, {**PIN, "CopySourceIfMatch": etag})
    h.ok("head_object", {"ContentLength": 1000, "ETag": '"x"'}, HEAD_DEST)
    h.ok("delete_object", {}, HEAD_DEST)
    with pytest.raises(VerificationError, match="size 1000 != source size 1024"):
        h.engine.copy(SRC, DST, listed=listed(etag=etag))
    assert isinstance(h.events[-1], CopyFailed)


def copied_under_kms(h: Harness) -> None:
    """The listed copy answered with an SSE-KMS ETag (no MD5 proof) and a CRC64NVME."""
    h.ok(
        "copy_object",
        {
            "CopyObjectResult": {"ETag": '"k"', "ChecksumCRC64NVME": "BBBBBBBBBBB="},
            "ServerSideEncryption": "aws:kms",
        },
        {**PIN, "ChecksumAlgorithm": "CRC64NVME"},
    )


def test_checksums_are_compared_with_the_source_read_after_the_copy(h: Harness) -> None:
    """KMS: no ETag proof; the copy's checksum is compared with the source's, as before."""
    crc = Checksum("CRC64NVME", "", "FULL_OBJECT")
    copied_under_kms(h)
    h.ok(
        "head_object",
        {
            "ContentLength": 1024,
            "ETag": MD5,
            "ChecksumCRC64NVME": "AAAAAAAAAAA=",
            "ChecksumType": "FULL_OBJECT",
        },
        HEAD_SOURCE,
    )
    h.ok("head_object", {"ContentLength": 1024, "ETag": '"k"'}, HEAD_DEST)
    h.ok("delete_object", {}, HEAD_DEST)
    with pytest.raises(VerificationError, match="CRC64NVME BBBBBBBBBBB= != source's AAAAAAAAAAA="):
        h.engine.copy(SRC, DST, listed=listed(checksum=crc))


def test_a_source_replaced_since_the_listing_gives_no_checksum_to_compare(h: Harness) -> None:
    crc = Checksum("CRC64NVME", "", "FULL_OBJECT")
    copied_under_kms(h)
    h.ok(
        "head_object",
        {"ContentLength": 5, "ETag": '"newer"', "ChecksumCRC64NVME": "CCCCCCCCCCC="},
        HEAD_SOURCE,
    )
    h.ok("head_object", {"ContentLength": 1024, "ETag": '"k"'}, HEAD_DEST)
    assert h.engine.copy(SRC, DST, listed=listed(checksum=crc)).etag == '"k"'


def test_without_verify_the_copy_is_all(h: Harness) -> None:
    harness = Harness(CopyConfig(verify=False))
    with harness.stub:
        etag = '"0123456789abcdef0123456789abcdef-2"'
        harness.ok(
            "copy_object", {"CopyObjectResult": {"ETag": '"x"'}}, {**PIN, "CopySourceIfMatch": etag}
        )
        harness.engine.copy(SRC, DST, listed=listed(etag=etag))
        harness.stub.assert_no_pending_responses()


def test_a_source_changed_since_the_listing_is_refused_and_nothing_else_is_sent(
    h: Harness,
) -> None:
    h.error("copy_object", "PreconditionFailed", 412, params=PIN)
    with pytest.raises(SourceChangedError, match="changed since it was listed") as info:
        h.engine.copy(SRC, DST, listed=listed())
    assert info.value.operation == "CopyObject"
    assert info.value.__cause__ is not None
    assert isinstance(h.events[-1], CopyFailed)


def test_a_refused_copy_is_redone_by_the_full_path_which_diagnoses_it(h: Harness) -> None:
    h.error("copy_object", "AccessDenied", 403, params=PIN)
    h.ok("head_object", {"ContentLength": 1024, "ETag": MD5}, HEAD_SOURCE)
    h.error("copy_object", "AccessDenied", 403, params=PIN)
    with pytest.raises(AccessDeniedError) as info:
        h.engine.copy(SRC, DST, listed=listed())
    assert info.value.operation == "CopyObject"
    assert info.value.findings  # diagnosed with the source's facts, as a single cp is


def test_a_source_deleted_since_the_listing_is_reported_missing(h: Harness) -> None:
    h.error("copy_object", "NoSuchKey", 404, params=PIN)
    h.error("head_object", "404", 404, params=HEAD_SOURCE)
    with pytest.raises(NotFoundError, match=r"source not found: s3://src-bucket/in/data\.bin"):
        h.engine.copy(SRC, DST, listed=listed())


def test_other_failures_are_retried_then_raised_as_before(h: Harness) -> None:
    harness = Harness(CopyConfig(max_attempts=2))
    with harness.stub:
        harness.error("copy_object", "InternalError", 500, PIN)
        harness.error("copy_object", "InternalError", 500, PIN)
        with pytest.raises(Exception, match=r"InternalError.*after 2 attempts"):
            harness.engine.copy(SRC, DST, listed=listed())
        harness.stub.assert_no_pending_responses()


# --- every case that keeps the full path: HeadObject of the source first ------------------

FULL_PATH = [
    pytest.param(CopyConfig(multipart_threshold=5 * MiB), {}, 6 * MiB, id="multipart-sized"),
    pytest.param(CopyConfig(), {"Metadata": {"a": "1"}}, 10, id="metadata-replaced"),
    pytest.param(CopyConfig(), {"MetadataDirective": "REPLACE"}, 10, id="metadata-directive"),
    pytest.param(CopyConfig(), {"ContentType": "text/csv"}, 10, id="content-header-override"),
    pytest.param(CopyConfig(), {"Tagging": "a=1"}, 10, id="tags-replaced"),
    pytest.param(CopyConfig(), {"TaggingDirective": "REPLACE"}, 10, id="tagging-directive"),
    pytest.param(
        CopyConfig(),
        {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": "k" * 32},
        10,
        id="sse-c-dest",
    ),
    pytest.param(
        CopyConfig(),
        {"CopySourceSSECustomerAlgorithm": "AES256", "CopySourceSSECustomerKey": "k" * 32},
        10,
        id="sse-c-source",
    ),
    pytest.param(CopyConfig(preflight=True), {}, 10, id="preflight"),
    pytest.param(CopyConfig(stream="always"), {}, 10, id="stream"),
    pytest.param(CopyConfig(), {"CopySourceIfMatch": MD5}, 10, id="etag-to-check"),
]


class Stop(Exception):
    """Ends a full-path copy after its first request: only its first request matters here."""


@pytest.mark.parametrize(("config", "args", "size"), FULL_PATH)
def test_cases_that_need_the_source_read_start_with_head_object(
    config: CopyConfig, args: dict[str, Any], size: int
) -> None:
    harness = Harness(config)
    sent: list[str] = []

    def stop(params: Any, model: Any, **kwargs: Any) -> None:
        sent.append(model.name)
        raise Stop

    harness.client.meta.events.register("before-call.s3", stop)
    with pytest.raises(Stop):
        harness.engine.copy(SRC, DST, args, listed=listed(size=size))
    assert sent == ["HeadObject"]


def test_a_version_of_the_source_is_read_first() -> None:
    harness = Harness(CopyConfig())
    source = S3Location("src-bucket", "in/data.bin", "v1")
    with harness.stub:
        harness.error("head_object", "404", 404, {**HEAD_SOURCE, "VersionId": "v1"})
        with pytest.raises(NotFoundError):
            harness.engine.copy(source, DST, listed=dataclasses.replace(listed(), location=source))
        harness.stub.assert_no_pending_responses()


def test_listed_objects_carry_their_checksum_algorithm_but_no_value() -> None:
    item = ListedObject.from_listing(
        {
            "Key": "k",
            "Size": 3,
            "ETag": MD5,
            "LastModified": WHEN,
            "StorageClass": "STANDARD",
            "ChecksumAlgorithm": ["CRC32"],
            "ChecksumType": "FULL_OBJECT",
        }
    )
    facts = item.facts("b")
    assert (facts.location, facts.size, facts.etag) == (S3Location("b", "k"), 3, MD5)
    assert facts.checksum == Checksum("CRC32", "", "FULL_OBJECT")
    assert facts.checksum is not None and not facts.checksum.known
    known = Checksum("CRC32", "AAAAAA==", "FULL_OBJECT")
    assert not facts.checksum.comparable_with(known)
    assert not known.comparable_with(facts.checksum)
    plain = ListedObject.from_listing({"Key": "k", "Size": 3, "ETag": MD5, "LastModified": WHEN})
    assert plain.facts("b").checksum is None
