"""The engine's exact call sequences, against botocore's Stubber (one part in flight).

These pin down the safety properties: the source ETag on every copy request, the
abort after any failure, owner checks on the right side, fallback when allowed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import ANY

from s3xcopy import (
    AccessDeniedError,
    CopyConfig,
    InvalidInputError,
    NotFoundError,
    S3Location,
    SourceChangedError,
    VerificationError,
)
from s3xcopy.events import BytesCopied, Event, RequestRetried, StrategyChanged
from s3xcopy.limits import MiB

from .stubbed import StubbedEngine as Harness

SRC = S3Location("src-bucket", "in/data.bin")
DST = S3Location("dst-bucket", "out/data.bin")
ETAG = '"1b2cf535f27731c974343645a3985328"'
SIZE = 12 * MiB
CONFIG = CopyConfig(multipart_threshold=8 * MiB, part_size=5 * MiB, max_concurrency=1)


@pytest.fixture
def h() -> Iterator[Harness]:
    harness = Harness(CONFIG)
    with harness.stub:
        yield harness
        harness.stub.assert_no_pending_responses()


def head_source(h: Harness, size: int = SIZE, **extra: Any) -> None:
    h.ok(
        "head_object",
        {"ContentLength": size, "ETag": ETAG, **extra},
        {"Bucket": "src-bucket", "Key": "in/data.bin", "ChecksumMode": "ENABLED"},
    )


def head_dest(h: Harness, size: int = SIZE) -> None:
    h.ok(
        "head_object",
        {"ContentLength": size, "ETag": '"dest"'},
        {"Bucket": "dst-bucket", "Key": "out/data.bin"},
    )


def part(h: Harness, number: int, first: int, last: int) -> None:
    h.ok(
        "upload_part_copy",
        {"CopyPartResult": {"ETag": f'"p{number}"'}},
        {
            "Bucket": "dst-bucket",
            "Key": "out/data.bin",
            "UploadId": "u-1",
            "PartNumber": number,
            "CopySource": {"Bucket": "src-bucket", "Key": "in/data.bin"},
            "CopySourceIfMatch": ETAG,
            "CopySourceRange": f"bytes={first}-{last}",
        },
    )


def create(h: Harness, **expected: Any) -> None:
    h.ok(
        "create_multipart_upload",
        {"UploadId": "u-1", "Bucket": "dst-bucket", "Key": "out/data.bin"},
        {"Bucket": "dst-bucket", "Key": "out/data.bin", "Metadata": {}, **expected},
    )


def aborted(h: Harness) -> None:
    h.ok(
        "abort_multipart_upload",
        {},
        {"Bucket": "dst-bucket", "Key": "out/data.bin", "UploadId": "u-1"},
    )
    h.error("list_parts", "NoSuchUpload", 404)


def test_single_copy_sequence(h: Harness) -> None:
    head_source(h, size=1024)
    h.ok(
        "copy_object",
        {"CopyObjectResult": {"ETag": '"dest"'}},
        {
            "Bucket": "dst-bucket",
            "Key": "out/data.bin",
            "CopySource": {"Bucket": "src-bucket", "Key": "in/data.bin"},
            "CopySourceIfMatch": ETAG,
            "MetadataDirective": "COPY",
            "TaggingDirective": "COPY",
        },
    )
    head_dest(h, size=1024)
    result = h.engine.copy(SRC, DST)
    assert (result.strategy, result.parts, result.part_size, result.etag) == (
        "single",
        1,
        None,
        '"dest"',
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"Bogus": 1}, "unsupported extra_args Bogus"),
        ({"Tagging": "=empty-key"}, "tag key ''"),
        ({"Expires": "someday"}, "not a timestamp"),
        ({"ACL": "private", "GrantRead": "id=a"}, "ACL cannot be combined with Grant"),
        ({"StorageClass": 5}, "Invalid type for parameter StorageClass"),  # botocore's check
        ({"BucketKeyEnabled": "yes"}, "Invalid type for parameter BucketKeyEnabled"),
    ],
)
def test_bad_destination_settings_are_refused_before_any_request(
    h: Harness, extra: dict[str, Any], message: str
) -> None:
    """No response is stubbed: the source is not even read (HeadObject) first."""
    with pytest.raises(InvalidInputError, match=message):
        h.engine.copy(SRC, DST, extra)
    with pytest.raises(InvalidInputError, match=message):
        h.engine.plan(SRC, DST, extra)


def test_a_bulk_run_checks_the_types_of_its_settings_before_listing() -> None:
    """copy_prefix() refuses them at once (nothing listens on port 9: nothing is sent)."""
    from s3xcopy.bulk import copy_prefix

    with pytest.raises(InvalidInputError, match="Invalid type for parameter StorageClass"):
        copy_prefix(
            "s3://src-bucket/p/", "s3://dst-bucket/q/", extra_args={"StorageClass": 5},
            endpoint_url="http://127.0.0.1:9", session=boto3.session.Session(
                aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x", region_name="us-east-1"
            ),
        )  # fmt: skip


@pytest.mark.parametrize(
    "answer",
    [{}, {"ServerSideEncryption": "AES256"}],
    ids=["plain", "sse-s3"],
)
def test_a_copy_with_the_sources_md5_etag_needs_no_head(h: Harness, answer: dict[str, Any]) -> None:
    head_source(h, size=1024)
    h.ok("copy_object", {"CopyObjectResult": {"ETag": ETAG}, **answer})
    result = h.engine.copy(SRC, DST)  # the stub has no HeadObject of the copy to give
    assert (result.strategy, result.etag) == ("single", ETAG)


def test_an_encrypted_copys_etag_proves_nothing_so_it_is_checked(h: Harness) -> None:
    head_source(h, size=1024)
    h.ok(
        "copy_object",
        {"CopyObjectResult": {"ETag": ETAG}, "ServerSideEncryption": "aws:kms"},
    )
    h.ok("head_object", {"ContentLength": 1000, "ETag": ETAG})
    h.ok("delete_object", {})
    with pytest.raises(VerificationError, match="size 1000 != source size 1024"):
        h.engine.copy(SRC, DST)


def test_multipart_sequence_pins_every_part_and_carries_tags(h: Harness) -> None:
    head_source(h, TagCount=1, Metadata={"m": "1"}, ContentType="text/csv")
    h.ok(
        "get_object_tagging",
        {"TagSet": [{"Key": "team", "Value": "data"}]},
        {"Bucket": "src-bucket", "Key": "in/data.bin"},
    )
    create(h, Metadata={"m": "1"}, ContentType="text/csv", Tagging="team=data")
    part(h, 1, 0, 5 * MiB - 1)
    part(h, 2, 5 * MiB, 10 * MiB - 1)
    part(h, 3, 10 * MiB, SIZE - 1)
    h.ok(
        "complete_multipart_upload",
        {"ETag": '"dest-3"'},
        {
            "Bucket": "dst-bucket",
            "Key": "out/data.bin",
            "UploadId": "u-1",
            "MultipartUpload": {"Parts": [{"PartNumber": n, "ETag": f'"p{n}"'} for n in (1, 2, 3)]},
        },
    )
    head_dest(h)
    result = h.engine.copy(SRC, DST)
    assert (result.strategy, result.parts, result.part_size) == ("multipart", 3, 5 * MiB)


def test_source_change_aborts_the_upload(h: Harness) -> None:
    head_source(h)
    create(h)
    part(h, 1, 0, 5 * MiB - 1)
    h.error("upload_part_copy", "PreconditionFailed", 412)
    aborted(h)
    with pytest.raises(SourceChangedError, match="changed during the copy") as info:
        h.engine.copy(SRC, DST)
    assert info.value.operation == "UploadPartCopy"
    assert info.value.__cause__ is not None


def test_any_part_failure_aborts_and_keeps_the_cause(h: Harness) -> None:
    head_source(h)
    create(h)
    h.error("upload_part_copy", "InvalidRequest", 400, "bad range")
    aborted(h)
    with pytest.raises(Exception, match="bad range") as info:
        h.engine.copy(SRC, DST)
    assert info.value.__cause__ is not None


def test_ctrl_c_aborts_the_upload(h: Harness) -> None:
    head_source(h)
    create(h)
    part(h, 1, 0, 5 * MiB - 1)
    aborted(h)

    def interrupt_after_first_part(event: Event) -> None:
        if isinstance(event, BytesCopied):
            raise KeyboardInterrupt  # what SIGINT does to the main thread

    h.engine.listener = interrupt_after_first_part
    with pytest.raises(KeyboardInterrupt):
        h.engine.copy(SRC, DST)


def test_abort_that_fails_is_reported_with_the_command_to_run(h: Harness) -> None:
    head_source(h)
    create(h)
    h.error("upload_part_copy", "InvalidRequest", 400, "boom")
    h.error("abort_multipart_upload", "AccessDenied", 403, "Access Denied")
    with pytest.raises(Exception, match=r"could NOT be aborted.*abort-multipart-upload"):
        h.engine.copy(SRC, DST)


def test_owner_checks_on_the_right_side() -> None:
    harness = Harness(CONFIG)
    owners = {"ExpectedBucketOwner": "987654321098", "ExpectedSourceBucketOwner": "123456789012"}
    with harness.stub:
        harness.ok(
            "head_object",
            {"ContentLength": 10, "ETag": ETAG},
            # Source reads carry the *source* owner, as ExpectedBucketOwner (s3transfer #232).
            {
                "Bucket": "src-bucket",
                "Key": "in/data.bin",
                "ChecksumMode": "ENABLED",
                "ExpectedBucketOwner": "123456789012",
            },
        )
        harness.ok(
            "copy_object",
            {"CopyObjectResult": {"ETag": '"d"'}},
            {
                "Bucket": "dst-bucket",
                "Key": "out/data.bin",
                "CopySource": ANY,
                "CopySourceIfMatch": ETAG,
                "MetadataDirective": "COPY",
                "TaggingDirective": "COPY",
                **owners,
            },
        )
        harness.ok(
            "head_object",
            {"ContentLength": 10, "ETag": '"d"'},
            {"Bucket": "dst-bucket", "Key": "out/data.bin", "ExpectedBucketOwner": "987654321098"},
        )
        harness.engine.copy(SRC, DST, owners)
        harness.stub.assert_no_pending_responses()


def test_throttling_is_retried_with_backoff(h: Harness) -> None:
    head_source(h, size=10)
    h.error("copy_object", "SlowDown", 503, "Please reduce your request rate.")
    h.error("copy_object", "InternalError", 500)
    h.ok("copy_object", {"CopyObjectResult": {"ETag": '"d"'}})
    h.ok("head_object", {"ContentLength": 10, "ETag": '"d"'})
    h.engine.copy(SRC, DST)
    retried = [e for e in h.events if isinstance(e, RequestRetried)]
    assert [(e.operation, e.code) for e in retried] == [
        ("CopyObject", "SlowDown"),
        ("CopyObject", "InternalError"),
    ]
    assert len(h.sleeps) == 2 and all(0 <= s <= 20 for s in h.sleeps)


def test_retries_stop_at_max_attempts() -> None:
    harness = Harness(CopyConfig(max_attempts=3))
    with harness.stub:
        head_source(harness, size=10)
        for _ in range(3):
            harness.error("copy_object", "SlowDown", 503)
        with pytest.raises(Exception, match=r"SlowDown.*after 3 attempts"):
            harness.engine.copy(SRC, DST)
        harness.stub.assert_no_pending_responses()


def test_access_denied_is_not_retried(h: Harness) -> None:
    head_source(h, size=10)
    h.error("copy_object", "AccessDenied", 403, "Access Denied")
    with pytest.raises(AccessDeniedError) as info:
        h.engine.copy(SRC, DST)
    assert isinstance(info.value, PermissionError)
    assert info.value.operation == "CopyObject"
    assert h.sleeps == []


def test_wait_for_permissions_retries_denials_for_a_while() -> None:
    harness = Harness(CopyConfig(wait_for_permissions=600))
    with harness.stub:
        head_source(harness, size=10)
        for _ in range(3):
            harness.error("copy_object", "AccessDenied", 403, "Access Denied")
        harness.ok("copy_object", {"CopyObjectResult": {"ETag": '"d"'}})
        harness.ok("head_object", {"ContentLength": 10, "ETag": '"d"'})
        harness.engine.copy(SRC, DST)
        assert len(harness.sleeps) == 3


def test_multipart_denied_falls_back_to_one_copy_object(h: Harness) -> None:
    head_source(h)
    create(h)
    h.error("upload_part_copy", "AccessDenied", 403, "Access Denied")
    aborted(h)
    h.ok("copy_object", {"CopyObjectResult": {"ETag": '"single"'}})
    head_dest(h)
    result = h.engine.copy(SRC, DST)
    assert result.strategy == "single"
    assert result.fallback and "UploadPartCopy" in result.fallback
    assert any(isinstance(e, StrategyChanged) for e in h.events)


def test_no_fallback_stops_with_access_denied() -> None:
    harness = Harness(CopyConfig(**{**CONFIG.__dict__, "fallback": False}))
    with harness.stub:
        head_source(harness)
        create(harness)
        harness.error("upload_part_copy", "AccessDenied", 403, "Access Denied")
        aborted(harness)
        with pytest.raises(AccessDeniedError, match="UploadPartCopy"):
            harness.engine.copy(SRC, DST)
        harness.stub.assert_no_pending_responses()


def test_explicit_denial_of_a_grant_copy_object_also_needs_does_not_fall_back(h: Harness) -> None:
    head_source(h)
    create(h)
    h.error(
        "upload_part_copy",
        "AccessDenied",
        403,
        "User: arn:aws:sts::123456789012:assumed-role/EC2Role/i-1 is not authorized to perform: "
        's3:GetObject on resource: "arn:aws:s3:::src-bucket/in/data.bin" because no '
        "identity-based policy allows the s3:GetObject action",
    )
    aborted(h)
    with pytest.raises(AccessDeniedError, match="s3:GetObject"):
        h.engine.copy(SRC, DST)


def test_verification_failure_is_an_error_and_removes_the_bad_copy(h: Harness) -> None:
    head_source(h, size=10)
    h.ok("copy_object", {"CopyObjectResult": {"ETag": '"d"'}})
    h.ok("head_object", {"ContentLength": 9, "ETag": '"d"'})
    h.ok("delete_object", {}, {"Bucket": "dst-bucket", "Key": "out/data.bin"})
    with pytest.raises(VerificationError, match=r"size 9 != source size 10.*deleted"):
        h.engine.copy(SRC, DST)


def test_checksum_mismatch_is_caught(h: Harness) -> None:
    head_source(h, size=10, ChecksumCRC64NVME="AAAAAAAAAAA=", ChecksumType="FULL_OBJECT")
    h.ok(
        "copy_object",
        {"CopyObjectResult": {"ETag": '"d"', "ChecksumCRC64NVME": "BBBBBBBBBBB="}},
    )
    h.ok("head_object", {"ContentLength": 10, "ETag": '"d"'})
    h.ok("delete_object", {})
    with pytest.raises(VerificationError, match="CRC64NVME"):
        h.engine.copy(SRC, DST)


def test_unreadable_destination_is_not_a_verification_failure(h: Harness) -> None:
    head_source(h, size=10, ChecksumCRC64NVME="AAAAAAAAAAA=", ChecksumType="FULL_OBJECT")
    h.ok("copy_object", {"CopyObjectResult": {"ETag": '"d"', "ChecksumCRC64NVME": "AAAAAAAAAAA="}})
    h.error("head_object", "403", 403, "Forbidden")
    assert h.engine.copy(SRC, DST).etag == '"d"'


def test_missing_source_is_not_found(h: Harness) -> None:
    h.error("head_object", "404", 404, "Not Found")
    with pytest.raises(NotFoundError, match=r"source not found: s3://src-bucket/in/data.bin"):
        h.engine.copy(SRC, DST)


def test_missing_destination_bucket_is_named(h: Harness) -> None:
    head_source(h, size=10)
    h.error("copy_object", "NoSuchBucket", 404, "The specified bucket does not exist")
    h.error("head_bucket", "404", 404, "Not Found")
    with pytest.raises(NotFoundError, match="destination bucket does not exist: s3://dst-bucket/"):
        h.engine.copy(SRC, DST)


def test_resume_copies_only_missing_parts(h: Harness) -> None:
    from s3xcopy.engine import ResumeState

    head_source(h)
    h.ok(
        "list_parts",
        {
            "Parts": [
                {"PartNumber": 1, "ETag": '"p1"', "Size": 5 * MiB},
                {"PartNumber": 3, "ETag": '"p3"', "Size": 2 * MiB},
            ],
            "IsTruncated": False,
        },
        {"Bucket": "dst-bucket", "Key": "out/data.bin", "UploadId": "u-1", "PartNumberMarker": 0},
    )
    part(h, 2, 5 * MiB, 10 * MiB - 1)
    h.ok("complete_multipart_upload", {"ETag": '"dest-3"'})
    head_dest(h)
    result = h.engine.copy(SRC, DST, resume=ResumeState("u-1", ETAG, 5 * MiB))
    assert result.parts == 3


def test_resume_after_source_change_starts_over(h: Harness) -> None:
    from s3xcopy.engine import ResumeState

    head_source(h)
    h.ok(
        "abort_multipart_upload",
        {},
        {"Bucket": "dst-bucket", "Key": "out/data.bin", "UploadId": "old"},
    )
    h.error("list_parts", "NoSuchUpload", 404)
    h.ok("create_multipart_upload", {"UploadId": "u-1"})
    part(h, 1, 0, 5 * MiB - 1)
    part(h, 2, 5 * MiB, 10 * MiB - 1)
    part(h, 3, 10 * MiB, SIZE - 1)
    h.ok("complete_multipart_upload", {"ETag": '"dest-3"'})
    head_dest(h)
    h.engine.copy(SRC, DST, resume=ResumeState("old", '"older-etag"', 5 * MiB))


def long_tags(h: Harness) -> list[dict[str, str]]:
    """Ten tags too long to send inline: the multipart path sets them after completing."""
    tags = [{"Key": f"k{n}-" + "k" * 100, "Value": "v" * 250} for n in range(10)]
    head_source(h, TagCount=10)
    h.ok("get_object_tagging", {"TagSet": tags}, {"Bucket": "src-bucket", "Key": "in/data.bin"})
    create(h)
    part(h, 1, 0, 5 * MiB - 1)
    part(h, 2, 5 * MiB, 10 * MiB - 1)
    part(h, 3, 10 * MiB, SIZE - 1)
    h.ok("complete_multipart_upload", {"ETag": '"dest-3"', "VersionId": "v-7"})
    return tags


def test_long_tags_are_set_after_completion(h: Harness) -> None:
    tags = long_tags(h)
    h.ok(
        "put_object_tagging",
        {},
        {"Bucket": "dst-bucket", "Key": "out/data.bin", "VersionId": "v-7",
         "Tagging": {"TagSet": tags}},
    )  # fmt: skip
    h.ok("head_object", {"ContentLength": SIZE, "ETag": '"dest-3"'})
    assert h.engine.copy(SRC, DST).strategy == "multipart"


def test_a_copy_whose_tags_could_not_be_set_is_removed(h: Harness) -> None:
    # Left there, it would look complete to the next sync (same size, newer) for ever.
    long_tags(h)
    h.error("put_object_tagging", "AccessDenied", 403, "Access Denied")
    h.ok("delete_object", {}, {"Bucket": "dst-bucket", "Key": "out/data.bin", "VersionId": "v-7"})
    with pytest.raises(AccessDeniedError) as raised:
        h.engine.copy(SRC, DST)
    assert raised.value.operation == "PutObjectTagging"
    assert "the copy, written without its tags, was deleted" in str(raised.value)
    assert "s3:PutObjectTagging" in {f.action for f in raised.value.findings}


def test_a_copy_whose_tags_could_not_be_set_nor_removed_says_so(h: Harness) -> None:
    long_tags(h)
    h.error("put_object_tagging", "InvalidTag", 400, "bad tag")
    h.error("delete_object", "AccessDenied", 403, "Access Denied")
    with pytest.raises(InvalidInputError) as raised:
        h.engine.copy(SRC, DST)
    assert str(raised.value).endswith(
        "; the copy is there WITHOUT its tags and could not be deleted: delete it with 'aws "
        "s3api delete-object --bucket dst-bucket --key out/data.bin --version-id v-7'"
    )
