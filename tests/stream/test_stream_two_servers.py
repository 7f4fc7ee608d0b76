"""Streaming between two separate S3 servers (two SeaweedFS processes) end to end."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config

from s3xcopy import (
    CopyConfig,
    InvalidInputError,
    S3Location,
    SourceChangedError,
    VerificationError,
    copy_object,
)
from s3xcopy.clients import s3_client
from s3xcopy.engine import CopyEngine
from s3xcopy.events import Event, RequestRetried
from s3xcopy.limits import MiB
from s3xcopy.seaweed import SeaweedServer

from .faultproxy import Fault, FaultProxy

pytestmark = pytest.mark.seaweed

SIZE = 64 * MiB
PART = 8 * MiB
#: Through the (pure Python) fault proxy: smaller, still six parts.
PROXIED_PART = 5 * MiB
PROXIED_SIZE = 6 * PROXIED_PART
PROPERTIES = (
    "ContentLength",
    "ContentType",
    "ContentEncoding",
    "ContentDisposition",
    "ContentLanguage",
    "CacheControl",
    "Expires",
    "Metadata",
    "ChecksumCRC64NVME",
)


def payload(size: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(size)


def put_source(client: Any, bucket: str, key: str, data: bytes) -> None:
    client.put_object(
        Bucket=bucket,
        Key=key,
        Body=data,
        ChecksumAlgorithm="CRC64NVME",
        Metadata={"owner": "etl", "batch": "2024-06-01"},
        ContentType="application/x-parquet",
        ContentEncoding="identity",
        ContentDisposition='attachment; filename="part.parquet"',
        ContentLanguage="en",
        CacheControl="max-age=3600",
        Expires=dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc),
        Tagging="team=data&stage=raw",
    )


def session(server: SeaweedServer) -> boto3.session.Session:
    kwargs = server.client_kwargs()
    return boto3.session.Session(
        aws_access_key_id=kwargs["aws_access_key_id"],
        aws_secret_access_key=kwargs["aws_secret_access_key"],
        region_name=kwargs["region_name"],
    )


def engine(
    source_url: str,
    dest: SeaweedServer,
    config: CopyConfig,
    events: list[Event],
    sleeps: list[float],
) -> CopyEngine:
    """An engine whose retries sleep into ``sleeps`` (never really)."""
    return CopyEngine(
        s3_client(session(dest), endpoint_url=dest.endpoint_url),
        source_client=s3_client(session(dest), endpoint_url=source_url),
        config=config,
        listener=events.append,
        sleep=sleeps.append,
    )


def described(client: Any, bucket: str, key: str) -> dict[str, Any]:
    head = client.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    tags = client.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
    body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    return {
        **{name: head.get(name) for name in PROPERTIES},
        "tags": sorted((t["Key"], t["Value"]) for t in tags),
        "sha256": hashlib.sha256(body).hexdigest(),
    }


def open_uploads(client: Any, bucket: str) -> list[Any]:
    return list(client.list_multipart_uploads(Bucket=bucket).get("Uploads", []))


def no_object(client: Any, bucket: str, key: str) -> bool:
    return client.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount", 0) == 0


@pytest.fixture
def buckets(
    make_source_bucket: Callable[[str], str], make_bucket: Callable[[str], str]
) -> tuple[str, str]:
    return make_source_bucket("src"), make_bucket("dst")


def test_copy_between_two_servers_streams_an_identical_object(
    seaweed: SeaweedServer,
    source_seaweed: SeaweedServer,
    source_s3: Any,
    s3: Any,
    buckets: tuple[str, str],
) -> None:
    src, dst = buckets
    put_source(source_s3, src, "dir/big file+1.bin", payload(SIZE))
    result = copy_object(
        f"s3://{src}/dir/big file+1.bin",
        f"s3://{dst}/copies/",
        config=CopyConfig(part_size=PART, max_concurrency=4),
        session=session(seaweed),
        endpoint_url=seaweed.endpoint_url,
        source_endpoint_url=source_seaweed.endpoint_url,
    )
    assert result.strategy == "stream"
    assert result.parts == SIZE // PART
    assert result.part_size == PART
    assert result.fallback is not None
    assert "different endpoints" in result.fallback
    assert result.dest == f"s3://{dst}/copies/big file+1.bin"
    source = described(source_s3, src, "dir/big file+1.bin")
    copied = described(s3, dst, "copies/big file+1.bin")
    assert copied == source
    assert copied["ChecksumCRC64NVME"]  # the source's full-object checksum, kept
    assert (
        s3.head_object(Bucket=dst, Key="copies/big file+1.bin", ChecksumMode="ENABLED")[
            "ChecksumType"
        ]
        == "FULL_OBJECT"
    )
    assert open_uploads(s3, dst) == []


@pytest.mark.parametrize("size", [0, 1, 5 * MiB + 3])
def test_small_objects_stream_as_one_put(
    seaweed: SeaweedServer,
    source_seaweed: SeaweedServer,
    source_s3: Any,
    s3: Any,
    buckets: tuple[str, str],
    size: int,
) -> None:
    src, dst = buckets
    put_source(source_s3, src, "small", payload(size, seed=size))
    result = copy_object(
        f"s3://{src}/small",
        f"s3://{dst}/small",
        session=session(seaweed),
        endpoint_url=seaweed.endpoint_url,
        source_endpoint_url=source_seaweed.endpoint_url,
    )
    assert (result.strategy, result.parts, result.part_size) == ("stream", 1, None)
    assert described(s3, dst, "small") == described(source_s3, src, "small")


def test_a_flipped_byte_in_one_ranged_get_is_caught_and_the_upload_aborted(
    seaweed: SeaweedServer,
    source_s3: Any,
    s3: Any,
    buckets: tuple[str, str],
    fault_proxy: FaultProxy,
) -> None:
    src, dst = buckets
    put_source(source_s3, src, "k", payload(PROXIED_SIZE))
    flip = fault_proxy.add(
        Fault("GET", "flip", path_contains="/k", range_start=3 * PROXIED_PART, at=777)
    )
    events: list[Event] = []
    copier = engine(
        fault_proxy.endpoint_url,
        seaweed,
        CopyConfig(part_size=PROXIED_PART, max_concurrency=4),
        events,
        [],
    )
    with pytest.raises(VerificationError, match="corrupted in transit") as caught:
        copier.copy(S3Location(src, "k"), S3Location(dst, "k"))
    assert flip.hits == 1
    assert "CRC64NVME" in str(caught.value)
    assert open_uploads(s3, dst) == []
    assert no_object(s3, dst, "k")


def test_a_body_cut_short_is_read_again(
    seaweed: SeaweedServer,
    source_s3: Any,
    s3: Any,
    buckets: tuple[str, str],
    fault_proxy: FaultProxy,
) -> None:
    src, dst = buckets
    put_source(source_s3, src, "k", payload(PROXIED_SIZE))
    cut = fault_proxy.add(Fault("GET", "cut", path_contains="/k", range_start=2 * PROXIED_PART))
    slow = fault_proxy.add(
        Fault("GET", "slowdown", path_contains="/k", range_start=5 * PROXIED_PART)
    )
    events: list[Event] = []
    sleeps: list[float] = []
    copier = engine(
        fault_proxy.endpoint_url, seaweed, CopyConfig(part_size=PROXIED_PART), events, sleeps
    )
    result = copier.copy(S3Location(src, "k"), S3Location(dst, "k"))
    assert result.strategy == "stream"
    assert (cut.hits, slow.hits) == (1, 1)
    retried = sorted(e.code for e in events if isinstance(e, RequestRetried))
    assert len(retried) == 2
    assert "SlowDown" in retried
    assert len(sleeps) == 2  # injected: nothing really slept
    assert described(s3, dst, "k") == described(source_s3, src, "k")


def test_a_source_overwritten_mid_stream_aborts(
    seaweed: SeaweedServer,
    source_s3: Any,
    s3: Any,
    buckets: tuple[str, str],
    fault_proxy: FaultProxy,
) -> None:
    src, dst = buckets
    put_source(source_s3, src, "k", payload(PROXIED_SIZE))

    def overwrite() -> None:
        source_s3.put_object(Bucket=src, Key="k", Body=payload(PROXIED_SIZE, seed=2))

    fault_proxy.add(
        Fault("GET", "hook", path_contains="/k", range_start=4 * PROXIED_PART, hook=overwrite)
    )
    copier = engine(fault_proxy.endpoint_url, seaweed, CopyConfig(part_size=PROXIED_PART), [], [])
    with pytest.raises(SourceChangedError, match="changed during the copy"):
        copier.copy(S3Location(src, "k"), S3Location(dst, "k"))
    assert open_uploads(s3, dst) == []
    assert no_object(s3, dst, "k")


def test_no_stream_between_two_servers_is_refused_before_writing(
    seaweed: SeaweedServer,
    source_seaweed: SeaweedServer,
    source_s3: Any,
    s3: Any,
    buckets: tuple[str, str],
) -> None:
    src, dst = buckets
    put_source(source_s3, src, "k", payload(1000))
    with pytest.raises(InvalidInputError, match=r"different endpoints.*--no-stream"):
        copy_object(
            f"s3://{src}/k",
            f"s3://{dst}/k",
            config=CopyConfig(stream="never"),
            session=session(seaweed),
            endpoint_url=seaweed.endpoint_url,
            source_endpoint_url=source_seaweed.endpoint_url,
        )
    assert no_object(s3, dst, "k")


def test_forced_stream_on_one_server_gives_the_same_object_as_a_server_side_copy(
    seaweed: SeaweedServer, s3: Any, make_bucket: Callable[[str], str]
) -> None:
    bucket = make_bucket("one")
    put_source(s3, bucket, "src", payload(20 * MiB))
    common = {"session": session(seaweed), "endpoint_url": seaweed.endpoint_url}
    config = CopyConfig(part_size=5 * MiB)
    server_side = copy_object(f"s3://{bucket}/src", f"s3://{bucket}/mp", config=config, **common)
    streamed = copy_object(
        f"s3://{bucket}/src",
        f"s3://{bucket}/st",
        config=CopyConfig(part_size=5 * MiB, stream="always"),
        **common,
    )
    assert (server_side.strategy, streamed.strategy) == ("multipart", "stream")
    assert streamed.fallback is None  # asked for, not a change of strategy
    assert (
        described(s3, bucket, "st") == described(s3, bucket, "mp") == described(s3, bucket, "src")
    )


def test_the_same_bucket_and_key_on_two_servers_are_two_objects(
    seaweed: SeaweedServer, source_seaweed: SeaweedServer, source_s3: Any, s3: Any
) -> None:
    bucket = f"same-name-{os.getpid()}"
    source_s3.create_bucket(Bucket=bucket)
    s3.create_bucket(Bucket=bucket)
    put_source(source_s3, bucket, "k", payload(1000))
    result = copy_object(
        f"s3://{bucket}/k",
        f"s3://{bucket}/k",
        session=session(seaweed),
        endpoint_url=seaweed.endpoint_url,
        source_endpoint_url=source_seaweed.endpoint_url,
    )
    assert result.strategy == "stream"
    assert described(s3, bucket, "k") == described(source_s3, bucket, "k")


@pytest.mark.parametrize("size", [PROXIED_SIZE, 1000], ids=["parts", "one-put"])
def test_without_a_source_checksum_a_flipped_byte_fails_the_md5_etag_check(
    seaweed: SeaweedServer,
    source_seaweed: SeaweedServer,
    s3: Any,
    buckets: tuple[str, str],
    fault_proxy: FaultProxy,
    size: int,
) -> None:
    """An object put without a checksum has only its ETag (the MD5 of its bytes): the
    bytes read are hashed in order against it, so a flipped byte is caught before the
    upload completes (parts) or is sent (one PutObject); a clean copy passes the check."""
    src, dst = buckets
    bare = boto3.client(
        "s3", config=Config(request_checksum_calculation="when_required"),
        **source_seaweed.client_kwargs(),
    )  # fmt: skip
    bare.put_object(Bucket=src, Key="bare", Body=payload(size, seed=7))
    head = bare.head_object(Bucket=src, Key="bare", ChecksumMode="ENABLED")
    assert not [name for name in head if name.startswith("Checksum")]
    config = CopyConfig(part_size=PROXIED_PART, max_concurrency=4)
    copier = engine(fault_proxy.endpoint_url, seaweed, config, [], [])
    copier.copy(S3Location(src, "bare"), S3Location(dst, "clean"))
    assert s3.get_object(Bucket=dst, Key="clean")["Body"].read() == payload(size, seed=7)
    where = {"range_start": 3 * PROXIED_PART} if size > PROXIED_PART else {}
    flip = fault_proxy.add(Fault("GET", "flip", path_contains="/bare", at=77, **where))
    with pytest.raises(VerificationError, match=r"have MD5 .* not the source's ETag") as caught:
        copier.copy(S3Location(src, "bare"), S3Location(dst, "flipped"))
    assert flip.hits == 1
    assert caught.value.code == "ChecksumMismatch"
    assert open_uploads(s3, dst) == []
    assert no_object(s3, dst, "flipped")
