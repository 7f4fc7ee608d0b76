"""The stream strategy's pure rules: when to stream, its part layout, checksum and requests."""

from __future__ import annotations

from typing import Any

import pytest

from s3xcopy.config import CopyConfig, StreamMode
from s3xcopy.errors import InvalidInputError
from s3xcopy.facts import Checksum, SourceFacts
from s3xcopy.limits import GiB, MiB
from s3xcopy.location import S3Location
from s3xcopy.planning import (
    STREAM_PART_SIZE,
    Endpoint,
    make_plan,
    server_side_obstacle,
    stream_checksum_algorithm,
    stream_part_size,
    stream_reason,
    stream_uses_put,
)

SRC = S3Location.parse("s3://src-bucket/dir/key.bin")
DST = S3Location.parse("s3://dst-bucket/copy/key.bin")
AWS_US = Endpoint("https://s3.amazonaws.com", "aws")


def facts(size: int, checksum: Checksum | None = None, **kwargs: Any) -> SourceFacts:
    return SourceFacts(location=SRC, size=size, etag='"abc"', checksum=checksum, **kwargs)


@pytest.mark.parametrize(
    ("source", "dest", "expected"),
    [
        # one S3-compatible service, however its URL is spelled
        ("http://127.0.0.1:9000", "http://127.0.0.1:9000", None),
        ("http://127.0.0.1:9000", "HTTP://127.0.0.1:9000/", None),
        ("http://localhost", "http://localhost:80", None),
        ("https://minio.example", "https://minio.example:443/", None),
        # two services
        ("http://127.0.0.1:9000", "http://127.0.0.1:9001", "different endpoints"),
        ("http://127.0.0.1:9000", "https://127.0.0.1:9000", "different endpoints"),
        ("https://s3.us-east-1.amazonaws.com", "http://127.0.0.1:9000", "different endpoints"),
        # AWS: regions, FIPS and VPC endpoints of one partition are one service
        ("https://s3.amazonaws.com", "https://s3.eu-west-1.amazonaws.com", None),
        ("https://s3-fips.us-east-1.amazonaws.com", "https://s3.us-west-2.amazonaws.com", None),
        (
            "https://bucket.vpce-1a2b.s3.us-east-1.vpce.amazonaws.com",
            "https://s3.amazonaws.com",
            None,
        ),
    ],
)
def test_server_side_obstacle_by_endpoint(source: str, dest: str, expected: str | None) -> None:
    found = server_side_obstacle(Endpoint(source), Endpoint(dest))
    if expected is None:
        assert found is None
    else:
        assert found is not None
        assert expected in found
        assert source in found
        assert dest in found


@pytest.mark.parametrize(
    ("source", "dest"),
    [
        (Endpoint("https://s3.cn-north-1.amazonaws.com.cn", "aws-cn"), AWS_US),
        (Endpoint("https://s3.us-gov-west-1.amazonaws.com", "aws-us-gov"), AWS_US),
    ],
)
def test_server_side_obstacle_across_partitions(source: Endpoint, dest: Endpoint) -> None:
    found = server_side_obstacle(source, dest)
    assert found is not None
    assert "partition" in found
    assert source.partition in found
    assert dest.partition in found


@pytest.mark.parametrize(
    ("mode", "obstacle", "resuming", "expected"),
    [
        ("auto", None, False, None),
        ("auto", "two services", False, "two services; streamed through this machine"),
        ("auto", None, True, "resuming an upload a stream started"),
        ("auto", "two services", True, "two services"),
        ("always", None, False, "asked for (--stream)"),
        ("always", "two services", False, "asked for (--stream)"),
        ("never", None, False, None),
        ("never", None, True, None),
    ],
)
def test_stream_reason(
    mode: StreamMode, obstacle: str | None, resuming: bool, expected: str | None
) -> None:
    found = stream_reason(mode, obstacle, resuming_stream=resuming)
    if expected is None:
        assert found is None
    else:
        assert found is not None
        assert expected in found


def test_no_stream_with_an_obstacle_is_bad_input() -> None:
    with pytest.raises(InvalidInputError, match=r"two services, and streaming is off"):
        stream_reason("never", "two services")


@pytest.mark.parametrize(
    ("size", "asked", "expected"),
    [
        (0, None, STREAM_PART_SIZE),
        (1, None, STREAM_PART_SIZE),
        (1 * GiB, None, 8 * MiB),
        (1 * GiB, 16 * MiB, 16 * MiB),
        (10_000 * 8 * MiB, None, 8 * MiB),  # exactly 10,000 parts
        (10_000 * 8 * MiB + 1, None, 16 * MiB),  # one byte more: the part size doubles
        (100 * GiB, 5 * MiB, 20 * MiB),
    ],
)
def test_stream_part_size(size: int, asked: int | None, expected: int) -> None:
    assert stream_part_size(size, CopyConfig(part_size=asked)) == expected


@pytest.mark.parametrize(
    ("size", "threshold", "part_size", "expected"),
    [
        (0, 8 * MiB, 8 * MiB, True),
        (8 * MiB - 1, 8 * MiB, 8 * MiB, True),
        (8 * MiB, 8 * MiB, 8 * MiB, False),  # at the threshold: multipart, as server-side
        # a high threshold must not mean one huge buffer: memory stays bounded by the part
        (50 * MiB, 100 * MiB, 8 * MiB, False),
        (6 * MiB, 100 * MiB, 8 * MiB, True),
    ],
)
def test_stream_uses_put(size: int, threshold: int, part_size: int, expected: bool) -> None:
    config = CopyConfig(multipart_threshold=threshold)
    assert stream_uses_put(size, part_size, config) is expected


@pytest.mark.parametrize(
    ("source", "asked", "expected"),
    [
        (None, None, "CRC64NVME"),
        (Checksum("CRC64NVME", "AAAAAAAAAAA=", "FULL_OBJECT"), None, "CRC64NVME"),
        (Checksum("CRC32", "AAAAAA==", "FULL_OBJECT"), None, "CRC32"),
        (Checksum("CRC32C", "AAAAAA==-3", "COMPOSITE"), None, "CRC32C"),  # as server-side
        (Checksum("SHA256", "x" * 44, "COMPOSITE"), None, "CRC64NVME"),
        (Checksum("CRC32", "AAAAAA==", "FULL_OBJECT"), "CRC32C", "CRC32C"),
        (None, "CRC64NVME", "CRC64NVME"),
    ],
)
def test_stream_checksum_algorithm(
    source: Checksum | None, asked: str | None, expected: str
) -> None:
    args = {"ChecksumAlgorithm": asked} if asked else {}
    assert stream_checksum_algorithm(facts(1, source), args) == expected


@pytest.mark.parametrize("asked", ["SHA1", "SHA256"])
def test_stream_refuses_a_checksum_that_cannot_cover_the_whole_object(asked: str) -> None:
    with pytest.raises(InvalidInputError, match="full-object checksum"):
        make_plan(
            facts(64 * MiB), DST, CopyConfig(), {"ChecksumAlgorithm": asked}, strategy="stream"
        )


def test_stream_plan_layout_and_requests() -> None:
    extra = {
        "ExpectedBucketOwner": "222222222222",
        "ExpectedSourceBucketOwner": "111111111111",
        "ACL": "bucket-owner-full-control",
        "StorageClass": "STANDARD_IA",
        "CacheControl": "max-age=60",
    }
    source = facts(
        64 * MiB + 1,
        metadata={"owner": "etl"},
        content_type="text/csv",
        tags=(("team", "data"),),
        tag_count=1,
    )
    plan = make_plan(
        source, DST, CopyConfig(part_size=16 * MiB), extra, strategy="stream", reason="because"
    )
    assert plan.strategy == "stream"
    assert plan.reason == "because"
    assert plan.part_size == 16 * MiB
    assert plan.part_count == 5
    assert plan.parts[-1].size == 1
    assert plan.checksum_algorithm == "CRC64NVME"
    assert plan.describe() == "stream: 5 parts of 16.0 MiB (because)"
    requests = plan.requests
    # the source read: pinned to the ETag, the *source* owner check only
    assert requests.get_object == {
        "Bucket": "src-bucket",
        "Key": "dir/key.bin",
        "IfMatch": '"abc"',
        "ExpectedBucketOwner": "111111111111",
    }
    # the destination writes: the destination owner check only
    assert requests.upload_part == {
        "Bucket": "dst-bucket",
        "Key": "copy/key.bin",
        "ExpectedBucketOwner": "222222222222",
    }
    create = requests.create_multipart
    assert create["ChecksumAlgorithm"] == "CRC64NVME"
    assert create["ChecksumType"] == "FULL_OBJECT"
    assert create["ExpectedBucketOwner"] == "222222222222"
    assert create["Tagging"] == "team=data"
    # PutObject writes exactly CreateMultipartUpload's properties
    assert requests.put_object == {
        k: v for k, v in create.items() if k not in ("ChecksumAlgorithm", "ChecksumType")
    }


def test_stream_writes_the_same_properties_as_the_multipart_path() -> None:
    source = facts(
        64 * MiB,
        metadata={"a": "1"},
        content_type="image/png",
        content_disposition="inline",
        cache_control="no-cache",
        tags=(("k", "v"),),
        tag_count=1,
        checksum=Checksum("CRC32", "AAAAAA==", "FULL_OBJECT"),
    )
    extra = {
        "SSEKMSKeyId": "arn:aws:kms:us-east-1:222222222222:key/k",
        "ServerSideEncryption": "aws:kms",
    }
    multipart = make_plan(source, DST, CopyConfig(), extra)
    stream = make_plan(source, DST, CopyConfig(), extra, strategy="stream")
    assert multipart.strategy == "multipart"
    assert stream.requests.create_multipart == multipart.requests.create_multipart
    assert stream.checksum_algorithm == "CRC32"


@pytest.mark.parametrize(("size", "parts"), [(0, 0), (5, 1), (8 * MiB - 1, 1)])
def test_small_stream_is_one_put(size: int, parts: int) -> None:
    plan = make_plan(facts(size), DST, CopyConfig(), strategy="stream", reason="two services")
    assert plan.strategy == "stream"  # even when empty: no server-side copy may be possible
    assert plan.part_size is None
    assert plan.part_count == 1
    assert len(plan.parts) == parts
    assert plan.describe() == "stream: one GetObject + PutObject (two services)"


def test_explicit_stream_part_size_is_raised_to_fit_10000_parts() -> None:
    plan = make_plan(
        facts(100 * GiB), DST, CopyConfig(part_size=5 * MiB), strategy="stream", reason="r"
    )
    assert plan.part_size == 20 * MiB
    assert "part size raised from 5.0 MiB to 20.0 MiB" in plan.reason


def test_same_bucket_and_key_on_two_services_is_not_a_self_copy() -> None:
    same = S3Location(SRC.bucket, SRC.key)
    with pytest.raises(InvalidInputError, match="onto itself"):
        make_plan(facts(10), same, CopyConfig(), strategy="stream")
    plan = make_plan(facts(10), same, CopyConfig(), strategy="stream", same_service=False)
    assert plan.dest == same
