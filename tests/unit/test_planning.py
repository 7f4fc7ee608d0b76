"""The planner is pure: tables of sizes, configs and extra args in, plans out."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from s3xcopy import CopyConfig, InvalidInputError, S3Location
from s3xcopy.facts import Checksum, SourceFacts, etag_proves_copy
from s3xcopy.limits import GiB, KiB, MiB, TiB
from s3xcopy.planning import (
    auto_part_size,
    choose_strategy,
    listing_suffices,
    make_plan,
    part_ranges,
    resolve_dest,
    validate_extra_args,
)

SRC = S3Location("src-bucket", "dir/key.bin")
DST = S3Location("dst-bucket", "out/key.bin")


def facts(size: int, **changes: Any) -> SourceFacts:
    base: dict[str, Any] = {
        "location": SRC,
        "size": size,
        "etag": '"abc"',
        "metadata": {"owner": "etl"},
        "content_type": "text/csv",
        "cache_control": "max-age=60",
    }
    base.update(changes)
    return SourceFacts(**base)


@pytest.mark.parametrize(
    ("size", "threshold", "strategy"),
    [
        (0, 8 * MiB, "single"),
        (1, 8 * MiB, "single"),
        (8 * MiB - 1, 8 * MiB, "single"),
        (8 * MiB, 8 * MiB, "multipart"),  # aws s3 cp: size >= threshold goes multipart
        (8 * MiB + 1, 8 * MiB, "multipart"),
        (0, 0, "single"),  # nothing to copy in parts
        (1, 0, "multipart"),
        (5 * GiB, 6 * GiB, "single"),  # CopyObject takes up to 5 GiB inclusive
        (5 * GiB + 1, 6 * GiB, "multipart"),  # above it, always multipart
        (100 * GiB, 200 * GiB, "multipart"),
    ],
)
def test_choose_strategy(size: int, threshold: int, strategy: str) -> None:
    chosen, reason = choose_strategy(size, CopyConfig(multipart_threshold=threshold))
    assert chosen == strategy
    assert reason


def test_choose_strategy_refuses_objects_s3_cannot_hold() -> None:
    with pytest.raises(InvalidInputError, match="object limit"):
        choose_strategy(49 * TiB, CopyConfig())


@pytest.mark.parametrize(
    ("size", "part_size", "expected_part", "expected_parts"),
    [
        (64 * MiB, 8 * MiB, 8 * MiB, 8),
        (64 * MiB + 1, 8 * MiB, 8 * MiB, 9),
        (5 * MiB, 5 * MiB, 5 * MiB, 1),
        (1 * GiB, 5 * GiB, 5 * GiB, 1),
        # 100 GiB in 8 MiB parts would be 12,800 parts: doubled until <= 10,000.
        (100 * GiB, 8 * MiB, 16 * MiB, 6400),
        # 10,000 parts exactly is allowed.
        (10_000 * 8 * MiB, 8 * MiB, 8 * MiB, 10_000),
        (10_000 * 8 * MiB + 1, 8 * MiB, 16 * MiB, 5001),
        # The largest object: 10,000 parts of 5 GiB.
        (10_000 * 5 * GiB, 5 * MiB, 5 * GiB, 10_000),
    ],
)
def test_plan_part_sizes(
    size: int, part_size: int, expected_part: int, expected_parts: int
) -> None:
    plan = make_plan(facts(size), DST, CopyConfig(multipart_threshold=1, part_size=part_size))
    assert plan.strategy == "multipart"
    assert plan.part_size == expected_part
    assert len(plan.parts) == expected_parts
    assert plan.parts[0].start == 0 and plan.parts[-1].end == size - 1
    assert all(p.size == expected_part for p in plan.parts[:-1])
    assert (expected_part != part_size) == ("raised" in plan.reason)


@pytest.mark.parametrize(
    ("size", "concurrency", "expected"),
    [
        (8 * MiB, 10, 8 * MiB),  # never below 8 MiB (aws s3 cp's chunk)
        (64 * MiB, 10, 8 * MiB),
        (1 * GiB, 10, 26 * MiB),  # ~4 parts per slot, whole MiB
        (50 * GiB, 10, 1280 * MiB),
        (50 * GiB, 32, 400 * MiB),
        (5 * TiB, 10, 5 * GiB),  # capped at S3's 5 GiB
        (48 * TiB, 10, 5 * GiB),
    ],
)
def test_auto_part_size(size: int, concurrency: int, expected: int) -> None:
    part = auto_part_size(size, concurrency)
    assert part == expected
    assert 5 * MiB <= part <= 5 * GiB
    assert -(-size // part) <= 10_000


def test_part_ranges_cover_every_byte_once() -> None:
    ranges = part_ranges(20 * MiB + 3, 8 * MiB)
    assert [r.range_header for r in ranges] == [
        f"bytes=0-{8 * MiB - 1}",
        f"bytes={8 * MiB}-{16 * MiB - 1}",
        f"bytes={16 * MiB}-{20 * MiB + 2}",
    ]
    assert sum(r.size for r in ranges) == 20 * MiB + 3
    assert part_ranges(0, 8 * MiB) == ()


@pytest.mark.parametrize(
    ("source", "dest", "expected"),
    [
        ("s3://a1a/dir/k.txt", "s3://b1b/", "s3://b1b/k.txt"),
        ("s3://a1a/dir/k.txt", "s3://b1b", "s3://b1b/k.txt"),
        ("s3://a1a/dir/k.txt", "s3://b1b/out/", "s3://b1b/out/k.txt"),
        ("s3://a1a/dir/k.txt", "s3://b1b/out/new.txt", "s3://b1b/out/new.txt"),
        ("s3://a1a/k?versionId=v1", "s3://b1b/", "s3://b1b/k"),
    ],
)
def test_resolve_dest(source: str, dest: str, expected: str) -> None:
    assert str(resolve_dest(S3Location.parse(source), S3Location.parse(dest))) == expected


@pytest.mark.parametrize(
    ("source", "dest", "reason"),
    [
        ("s3://a1a/dir/", "s3://b1b/", "must be an object"),
        ("s3://a1a", "s3://b1b/", "must be an object"),
        ("s3://a1a/k", "s3://b1b/k?versionId=1", "cannot have a versionId"),
    ],
)
def test_resolve_dest_refuses(source: str, dest: str, reason: str) -> None:
    with pytest.raises(InvalidInputError, match=reason):
        resolve_dest(S3Location.parse(source), S3Location.parse(dest))


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"Bogus": 1}, "unsupported extra_args Bogus"),
        ({"MetadataDirective": "MERGE"}, "COPY or REPLACE"),
        ({"TaggingDirective": "copy"}, "COPY or REPLACE"),
        ({"Metadata": {"a": 1}}, "strings to strings"),
        ({"Tagging": "&".join(f"k{i}=v" for i in range(11))}, "at most 10"),
        ({"Tagging": "a=1&a=2"}, "repeats"),
        ({"Tagging": "a=b&&=c"}, "tag key '': S3 takes 1 to 128"),
        ({"Tagging": "k" * 129 + "=v"}, "1 to 128 characters"),
        ({"Tagging": "k=" + "v" * 257}, "257 characters; S3 takes at most 256"),
        ({"Expires": "notadate"}, "not a timestamp"),
        ({"Expires": ""}, "not a timestamp"),
        ({"ACL": "private", "GrantFullControl": "id=a"}, "ACL cannot be combined"),
    ],
)
def test_extra_args_refused(extra: dict[str, Any], reason: str) -> None:
    with pytest.raises(InvalidInputError, match=reason):
        validate_extra_args(extra)


@pytest.mark.parametrize(
    "extra",
    [
        {"Tagging": "k" * 128 + "=" + "v" * 256},
        {"Tagging": "empty-value="},
        {"Tagging": "caf%C3%A9=%E2%9C%93"},  # characters, not bytes, are counted
        {"Expires": "2030-01-01T00:00:00Z"},
        {"Expires": "Wed, 21 Oct 2015 07:28:00 GMT"},
        {"Expires": dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)},
    ],
)
def test_extra_args_at_s3s_limits_are_taken(extra: dict[str, Any]) -> None:
    assert validate_extra_args(extra) == extra


def test_self_copy_without_changes_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="onto itself"):
        make_plan(facts(10), SRC, CopyConfig())
    # Changing the storage class (or metadata) makes it a legal in-place copy.
    plan = make_plan(facts(10), SRC, CopyConfig(), {"StorageClass": "STANDARD_IA"})
    assert plan.requests.copy_object["StorageClass"] == "STANDARD_IA"


# --- both paths carry the same destination object ----------------------------------------


def _both(extra: dict[str, Any], **fact_changes: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    plan = make_plan(facts(64 * MiB, **fact_changes), DST, CopyConfig(), extra)
    return plan.requests.copy_object, plan.requests.create_multipart


def test_default_copy_keeps_source_properties() -> None:
    single, multi = _both({}, tags=(("team", "data"),), tag_count=1)
    # S3 copies metadata and tags itself on the single path...
    assert single["MetadataDirective"] == "COPY" and single["TaggingDirective"] == "COPY"
    assert "Metadata" not in single
    # ...and the multipart path sends what HeadObject / GetObjectTagging said.
    assert multi["Metadata"] == {"owner": "etl"}
    assert multi["ContentType"] == "text/csv" and multi["CacheControl"] == "max-age=60"
    assert multi["Tagging"] == "team=data"
    assert "MetadataDirective" not in multi


def test_content_header_override_keeps_the_rest() -> None:
    single, multi = _both({"ContentType": "application/json"})
    for request in (single, multi):
        assert request["ContentType"] == "application/json"
        assert request["CacheControl"] == "max-age=60"
        assert request["Metadata"] == {"owner": "etl"}
    assert single["MetadataDirective"] == "REPLACE"


def test_metadata_replace_is_the_same_in_both_paths() -> None:
    single, multi = _both({"Metadata": {"new": "1"}})  # implies REPLACE, as aws s3 cp
    for request in (single, multi):
        assert request["Metadata"] == {"new": "1"}
        assert "ContentType" not in request and "CacheControl" not in request
    assert single["MetadataDirective"] == "REPLACE"


def test_tagging_replace_is_the_same_in_both_paths() -> None:
    single, multi = _both({"Tagging": "a=1&b=two%20words"}, tags=(("old", "x"),), tag_count=1)
    assert single["TaggingDirective"] == "REPLACE"
    assert single["Tagging"] == multi["Tagging"] == "a=1&b=two%20words"


def test_long_tags_are_put_after_completion() -> None:
    long_tags = tuple((f"key{i}", "v" * 250) for i in range(10))  # > 2 KiB encoded
    plan = make_plan(facts(64 * MiB, tags=long_tags, tag_count=10), DST, CopyConfig())
    assert "Tagging" not in plan.requests.create_multipart
    assert plan.requests.put_tagging is not None
    assert len(plan.requests.put_tagging["Tagging"]["TagSet"]) == 10


@pytest.mark.parametrize(
    "extra",
    [
        {"StorageClass": "STANDARD_IA"},
        {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "arn:aws:kms:us-east-1:1:key/k"},
        {"ServerSideEncryption": "AES256"},
        {"ACL": "bucket-owner-full-control"},
        {"ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": dt.datetime(2030, 1, 1)},
        {"BucketKeyEnabled": True},
        {"RequestPayer": "requester"},
        {"ExpectedBucketOwner": "987654321098"},
        {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": "k" * 32},
    ],
)
def test_destination_settings_in_both_paths(extra: dict[str, Any]) -> None:
    single, multi = _both(extra)
    for name, value in extra.items():
        assert single[name] == value
        assert multi[name] == value


def test_owner_checks_go_to_the_right_side() -> None:
    plan = make_plan(
        facts(64 * MiB),
        DST,
        CopyConfig(),
        {"ExpectedBucketOwner": "987654321098", "ExpectedSourceBucketOwner": "123456789012"},
    )
    r = plan.requests
    for dest_request in (r.create_multipart, r.complete_multipart, r.abort_multipart, r.head_dest):
        assert dest_request["ExpectedBucketOwner"] == "987654321098"
        assert "ExpectedSourceBucketOwner" not in dest_request
    for copy_request in (r.copy_object, r.upload_part_copy):
        assert copy_request["ExpectedBucketOwner"] == "987654321098"
        assert copy_request["ExpectedSourceBucketOwner"] == "123456789012"


def test_every_copy_request_is_pinned_to_the_source_etag() -> None:
    plan = make_plan(facts(64 * MiB), DST, CopyConfig())
    assert plan.requests.copy_object["CopySourceIfMatch"] == '"abc"'
    assert plan.requests.upload_part_copy["CopySourceIfMatch"] == '"abc"'
    assert plan.requests.copy_object["CopySource"] == {"Bucket": "src-bucket", "Key": "dir/key.bin"}


def test_source_checksum_algorithm_is_kept_as_full_object() -> None:
    checksum = Checksum("CRC32C", "AAAA", "FULL_OBJECT")
    single, multi = _both({}, checksum=checksum)
    assert single["ChecksumAlgorithm"] == "CRC32C"
    assert multi["ChecksumAlgorithm"] == "CRC32C" and multi["ChecksumType"] == "FULL_OBJECT"
    # A SHA256 source cannot be summed whole by a multipart upload: keep S3's default.
    single, multi = _both({}, checksum=Checksum("SHA256", "x", "FULL_OBJECT"))
    assert "ChecksumAlgorithm" not in single and "ChecksumAlgorithm" not in multi


def test_forcing_single_above_5_gib_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="5 GiB"):
        make_plan(facts(6 * GiB), DST, CopyConfig(), strategy="single")
    plan = make_plan(facts(6 * GiB), DST, CopyConfig())
    assert plan.strategy == "multipart" and not plan.single_possible


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"part_size": 4 * MiB}, "outside S3's limits"),
        ({"part_size": 6 * GiB}, "outside S3's limits"),
        ({"max_concurrency": 0}, "at least 1"),
        ({"max_concurrency": 5000}, "above"),
        ({"max_attempts": 0}, "at least 1"),
        ({"multipart_threshold": -1}, "at least 0"),
        ({"multipart_threshold": 1.5}, "whole number"),
        ({"verify": "yes"}, "True or False"),
        ({"wait_for_permissions": -1}, "seconds"),
    ],
)
def test_config_validation(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(InvalidInputError, match=reason):
        CopyConfig(**changes)


def test_facts_from_head() -> None:
    head = {
        "ContentLength": 3 * KiB,
        "ETag": '"d41d8cd98f00b204e9800998ecf8427e-3"',
        "Metadata": {"a": "b"},
        "ChecksumCRC64NVME": "TM+ZbTyCcJQ=",
        "ChecksumType": "FULL_OBJECT",
        "TagCount": 2,
        "ServerSideEncryption": "aws:kms",
        "SSEKMSKeyId": "arn:aws:kms:us-east-1:123456789012:key/k",
        "BucketKeyEnabled": True,
    }
    f = SourceFacts.from_head(SRC, head)
    assert (f.size, f.source_parts, f.tag_count, f.bucket_key_enabled) == (3 * KiB, 3, 2, True)
    assert f.checksum == Checksum("CRC64NVME", "TM+ZbTyCcJQ=", "FULL_OBJECT")
    assert f.sse_kms_key_id and f.sse_kms_key_id.endswith("key/k")


@pytest.mark.parametrize(
    ("changes", "server_side"),
    [
        ({}, 64),  # left at aws s3 cp's 10: server-side parts scale (no bytes through us)
        ({"max_concurrency": 4}, 4),  # a cap the caller chose holds everywhere
        ({"max_concurrency": 200}, 200),
        ({"copy_concurrency": 16}, 16),
        ({"max_concurrency": 4, "copy_concurrency": 32}, 32),
    ],
)
def test_server_side_concurrency(changes: dict[str, Any], server_side: int) -> None:
    config = CopyConfig(**changes)
    assert config.server_side_concurrency == server_side
    assert CopyConfig().max_concurrency == 10  # the contract's default is unchanged


def test_default_plan_for_a_large_object_uses_the_server_side_concurrency() -> None:
    plan = make_plan(facts(50 * GiB), DST, CopyConfig())
    assert plan.part_size == 200 * MiB  # 50 GiB / (64 slots x 4 waves)
    assert len(plan.parts) == 256


# --- when a listing suffices (no HeadObject of the source) --------------------------------


@pytest.mark.parametrize(
    ("config", "args", "size", "location", "needs_head"),
    [
        (CopyConfig(), {}, 4 * KiB, SRC, None),
        (CopyConfig(), {}, 0, SRC, None),
        (CopyConfig(), {"ACL": "private", "StorageClass": "GLACIER_IR"}, 10, SRC, None),
        (CopyConfig(), {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "k"}, 10, SRC, None),
        (CopyConfig(), {"MetadataDirective": "COPY", "TaggingDirective": "COPY"}, 10, SRC, None),
        (CopyConfig(), {"RequestPayer": "requester"}, 10, SRC, None),
        (CopyConfig(), {}, 8 * MiB, SRC, "multipart"),
        (CopyConfig(multipart_threshold=5 * GiB + 1), {}, 5 * GiB + 1, SRC, "multipart"),
        (CopyConfig(), {"Metadata": {"a": "b"}}, 10, SRC, "metadata"),
        (CopyConfig(), {"MetadataDirective": "REPLACE"}, 10, SRC, "metadata"),
        (CopyConfig(), {"CacheControl": "no-cache"}, 10, SRC, "content headers"),
        (CopyConfig(), {"Tagging": "a=b"}, 10, SRC, "tags"),
        (CopyConfig(), {"TaggingDirective": "REPLACE"}, 10, SRC, "tags"),
        (CopyConfig(), {"SSECustomerKey": "k", "SSECustomerAlgorithm": "AES256"}, 10, SRC, "SSE-C"),
        (CopyConfig(), {"CopySourceSSECustomerKey": "k"}, 10, SRC, "SSE-C"),
        (CopyConfig(), {"CopySourceIfMatch": '"abc"'}, 10, SRC, "ETag"),
        (CopyConfig(), {}, 10, S3Location("src-bucket", "dir/key.bin", "v1"), "version"),
        (CopyConfig(preflight=True), {}, 10, SRC, "preflight"),
        (CopyConfig(stream="always"), {}, 10, SRC, "streamed"),
        (CopyConfig(), {}, 10_000 * 5 * GiB + 1, SRC, "object limit"),
    ],
)
def test_listing_suffices_for_one_copy_object_with_copy_directives(
    config: CopyConfig,
    args: dict[str, Any],
    size: int,
    location: S3Location,
    needs_head: str | None,
) -> None:
    why = listing_suffices(SourceFacts(location, size, '"abc"'), config, args)
    if needs_head is None:
        assert why is None
    else:
        assert why is not None and needs_head in why


MD5 = '"1b2cf535f27731c974343645a3985328"'
MULTI = '"0123456789abcdef0123456789abcdef-3"'


@pytest.mark.parametrize(
    ("source", "answer", "proves"),
    [
        (MD5, {"CopyObjectResult": {"ETag": MD5}}, True),
        (MD5, {"CopyObjectResult": {"ETag": MD5.strip('"').upper()}}, True),  # bare, any case
        (MD5, {"CopyObjectResult": {"ETag": MD5}, "ServerSideEncryption": "AES256"}, True),
        (MD5, {"CopyObjectResult": {"ETag": '"2b2cf535f27731c974343645a3985328"'}}, False),
        (MD5, {"CopyObjectResult": {"ETag": MD5}, "ServerSideEncryption": "aws:kms"}, False),
        (MD5, {"CopyObjectResult": {"ETag": MD5}, "ServerSideEncryption": "aws:kms:dsse"}, False),
        (MD5, {"CopyObjectResult": {"ETag": MD5}, "SSECustomerAlgorithm": "AES256"}, False),
        (MULTI, {"CopyObjectResult": {"ETag": MULTI}}, False),
        ('"not-an-md5"', {"CopyObjectResult": {"ETag": '"not-an-md5"'}}, False),
        (MD5, {"CopyObjectResult": {}}, False),
        (MD5, {}, False),
    ],
)
def test_a_copy_etag_proves_the_bytes_only_when_it_is_the_sources_plain_md5(
    source: str, answer: dict[str, Any], proves: bool
) -> None:
    assert etag_proves_copy(source, answer) is proves


@pytest.mark.parametrize(
    ("source", "dest"),
    [
        ("s3://a1a/p/data/", "s3://b1b/q/data/"),  # a listed object whose key ends in '/'
        ("s3://a1a/p/k.txt", "s3://b1b/q/k.txt"),
    ],
)
def test_resolve_dest_exact_keeps_the_mapped_key(source: str, dest: str) -> None:
    resolved = resolve_dest(S3Location.parse(source), S3Location.parse(dest), exact=True)
    assert str(resolved) == dest
