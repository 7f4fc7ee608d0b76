"""End to end on a real S3 server (SeaweedFS): what arrives is what was sent, whatever the path."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from s3xcopy import CopyConfig, SourceChangedError, copy_object
from s3xcopy.api import build_engine
from s3xcopy.engine import CopyEngine
from s3xcopy.events import BytesCopied, Event, RequestRetried
from s3xcopy.limits import MiB
from s3xcopy.location import S3Location
from s3xcopy.seaweed import SeaweedServer
from tests.conftest import create_bucket_pair

pytestmark = pytest.mark.seaweed

MULTIPART = CopyConfig(multipart_threshold=8 * MiB, part_size=5 * MiB, max_concurrency=4)
SINGLE = CopyConfig(multipart_threshold=1024 * MiB)
PROPERTIES: dict[str, Any] = {
    "Metadata": {"pipeline": "nightly", "owner": "data-team"},
    "ContentType": "application/x-parquet",
    "ContentEncoding": "identity",
    "ContentDisposition": 'attachment; filename="part.parquet"',
    "ContentLanguage": "fr-CA",
    "CacheControl": "max-age=3600",
    "Expires": dt.datetime(2031, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc),
    "Tagging": "classification=internal&retention=90d",
}
COMPARED = (
    "ContentLength",
    "Metadata",
    "ContentType",
    "ContentEncoding",
    "ContentDisposition",
    "ContentLanguage",
    "CacheControl",
    "Expires",
    "ChecksumCRC64NVME",
)


def engine(seaweed: SeaweedServer, session: Any, config: CopyConfig, **kwargs: Any) -> CopyEngine:
    return build_engine(
        config, session=session, endpoint_url=seaweed.endpoint_url, sleep=lambda _: None, **kwargs
    )


def described(s3: Any, bucket: str, key: str) -> dict[str, Any]:
    head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    tags = s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
    facts = {name: head.get(name) for name in COMPARED}
    facts["Tags"] = sorted((t["Key"], t["Value"]) for t in tags)
    return facts


def no_uploads(s3: Any, bucket: str) -> bool:
    return not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")


def put_source(s3: Any, bucket: str, size: int) -> tuple[str, str, bytes]:
    body = os.urandom(size)
    s3.put_object(
        Bucket=bucket,
        Key="data/big.parquet",
        Body=body,
        ChecksumAlgorithm="CRC64NVME",
        **PROPERTIES,
    )
    return bucket, "data/big.parquet", body


@pytest.fixture
def source_object(s3: Any, make_bucket: Any) -> tuple[str, str, bytes]:
    """A 21 MiB source (5 parts of 5 MiB) with metadata, content headers and tags."""
    return put_source(s3, make_bucket("src"), 20 * MiB + 12345)


@pytest.fixture(scope="module")
def bucket_pair(seaweed: SeaweedServer) -> tuple[str, str]:
    """Two buckets shared by a module's tests."""
    return create_bucket_pair(seaweed, "pair")[1]


def test_multipart_and_single_copies_are_identical(
    seaweed: SeaweedServer, seaweed_session: Any, s3: Any, make_bucket: Any
) -> None:
    src_bucket, key, body = put_source(s3, make_bucket("src"), 64 * MiB + 12345)
    dst = make_bucket("dst")
    multi = engine(seaweed, seaweed_session, MULTIPART).copy(
        S3Location(src_bucket, key), S3Location(dst, "multi/big.parquet")
    )
    single = engine(seaweed, seaweed_session, SINGLE).copy(
        S3Location(src_bucket, key), S3Location(dst, "single/big.parquet")
    )
    assert (multi.strategy, multi.parts, multi.part_size) == ("multipart", 13, 5 * MiB)
    assert (single.strategy, single.parts) == ("single", 1)
    source = described(s3, src_bucket, key)
    assert described(s3, dst, "multi/big.parquet") == source
    assert described(s3, dst, "single/big.parquet") == source
    assert source["ChecksumCRC64NVME"]  # so the comparison above covered the bytes
    assert s3.get_object(Bucket=dst, Key="multi/big.parquet")["Body"].read() == body
    assert no_uploads(s3, dst)


@pytest.mark.parametrize("config", [MULTIPART, SINGLE], ids=["multipart", "single"])
def test_replace_directives_behave_the_same(
    seaweed: SeaweedServer, seaweed_session: Any, s3: Any, make_bucket: Any, source_object: Any,
    config: CopyConfig,
) -> None:  # fmt: skip
    src_bucket, key, _ = source_object
    dst = make_bucket("dst")
    engine(seaweed, seaweed_session, config).copy(
        S3Location(src_bucket, key),
        S3Location(dst, "out"),
        {"Metadata": {"fresh": "1"}, "ContentType": "text/plain", "Tagging": "new=tag"},
    )
    got = described(s3, dst, "out")
    assert got["Metadata"] == {"fresh": "1"}
    assert got["ContentType"] == "text/plain"
    assert got["CacheControl"] is None  # REPLACE keeps only what was given
    assert got["Tags"] == [("new", "tag")]


@pytest.mark.parametrize(
    "config", [CopyConfig(multipart_threshold=1), SINGLE], ids=["multipart", "single"]
)
@pytest.mark.parametrize(
    "key",
    [
        "with space/and more.bin",
        "ünïcødé/日本語/ファイル",
        "plus+sign+",
        "100%/%2F%20",
        "what?x=1&y",
    ],
)
def test_awkward_keys(
    seaweed: SeaweedServer, seaweed_session: Any, s3: Any, bucket_pair: tuple[str, str], key: str,
    config: CopyConfig,
) -> None:  # fmt: skip
    src, dst = bucket_pair
    body = os.urandom(64 * 1024)
    s3.put_object(Bucket=src, Key=key, Body=body)
    dest_prefix = f"copy-{'single' if config is SINGLE else 'multi'}/"
    result = copy_object(
        f"s3://{src}/{key}", f"s3://{dst}/{dest_prefix}", config=config, session=seaweed_session,
        endpoint_url=seaweed.endpoint_url,
    )  # fmt: skip
    name = key.rsplit("/", 1)[-1]
    assert result.dest == f"s3://{dst}/{dest_prefix}{name}"
    assert result.strategy == ("single" if config is SINGLE else "multipart")
    assert s3.get_object(Bucket=dst, Key=dest_prefix + name)["Body"].read() == body


def test_source_overwritten_mid_copy_raises_and_leaves_nothing(
    seaweed: SeaweedServer, seaweed_session: Any, s3: Any, make_bucket: Any, source_object: Any
) -> None:
    src_bucket, key, _ = source_object
    dst = make_bucket("dst")
    config = CopyConfig(multipart_threshold=8 * MiB, part_size=5 * MiB, max_concurrency=1)

    def overwrite_after_first_part(event: Event) -> None:
        if isinstance(event, BytesCopied) and event.part_number == 1:
            s3.put_object(Bucket=src_bucket, Key=key, Body=b"a new version")

    with pytest.raises(SourceChangedError, match="changed during the copy"):
        engine(seaweed, seaweed_session, config, listener=overwrite_after_first_part).copy(
            S3Location(src_bucket, key), S3Location(dst, "out")
        )
    assert "Contents" not in s3.list_objects_v2(Bucket=dst)
    assert no_uploads(s3, dst)


def test_injected_slowdown_on_a_third_of_parts_still_copies(
    seaweed: SeaweedServer, seaweed_session: Any, s3: Any, make_bucket: Any, source_object: Any
) -> None:
    src_bucket, key, body = source_object
    dst = make_bucket("dst")
    events: list[Event] = []
    copier = engine(seaweed, seaweed_session, MULTIPART, listener=events.append)
    calls = {"n": 0}

    def slow_down_every_third(request: Any, **kwargs: Any) -> AWSResponse | None:
        calls["n"] += 1
        if calls["n"] % 3:
            return None
        xml = (
            b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>SlowDown</Code>"
            b"<Message>Please reduce your request rate.</Message></Error>"
        )
        raw = _Raw(xml)
        return AWSResponse(request.url, 503, {"Content-Type": "application/xml"}, raw)

    copier.dest.client.meta.events.register("before-send.s3.UploadPartCopy", slow_down_every_third)
    result = copier.copy(S3Location(src_bucket, key), S3Location(dst, "out"))
    assert result.parts == 5
    throttled = [e for e in events if isinstance(e, RequestRetried) and e.code == "SlowDown"]
    assert len(throttled) >= 5 // 3
    assert s3.get_object(Bucket=dst, Key="out")["Body"].read() == body
    assert no_uploads(s3, dst)


def test_interrupt_mid_copy_aborts_the_upload(
    seaweed: SeaweedServer, seaweed_session: Any, s3: Any, make_bucket: Any, source_object: Any
) -> None:
    src_bucket, key, _ = source_object
    dst = make_bucket("dst")

    def interrupt(event: Event) -> None:
        if isinstance(event, BytesCopied):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        engine(seaweed, seaweed_session, MULTIPART, listener=interrupt).copy(
            S3Location(src_bucket, key), S3Location(dst, "out")
        )
    assert no_uploads(s3, dst)
    assert "Contents" not in s3.list_objects_v2(Bucket=dst)


def test_progress_callable_gets_every_byte_once(
    seaweed: SeaweedServer, seaweed_session: Any, make_bucket: Any, source_object: Any
) -> None:
    src_bucket, key, body = source_object
    seen: list[int] = []
    copy_object(
        f"s3://{src_bucket}/{key}", f"s3://{make_bucket('dst')}/out", config=MULTIPART,
        session=seaweed_session, endpoint_url=seaweed.endpoint_url, progress=seen.append,
    )  # fmt: skip
    assert sum(seen) == len(body) and len(seen) == 5


class _Raw:
    """The minimal urllib3-like body botocore reads from a short-circuited response."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, *args: Any, **kwargs: Any) -> Any:
        yield self._data

    def read(self, *args: Any, **kwargs: Any) -> bytes:
        data, self._data = self._data, b""
        return data


def test_session_with_default_credentials_chain_is_used(seaweed: SeaweedServer) -> None:
    # boto3's default chain (environment variables here) is what copy_object uses without a session.
    kwargs = seaweed.client_kwargs()
    env = {
        "AWS_ACCESS_KEY_ID": kwargs["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": kwargs["aws_secret_access_key"],
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        s3 = boto3.client("s3", endpoint_url=seaweed.endpoint_url)
        for bucket in ("chain-src", "chain-dst"):
            s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket="chain-src", Key="k", Body=b"x")
        result = copy_object(
            "s3://chain-src/k", "s3://chain-dst/k", endpoint_url=seaweed.endpoint_url
        )
        assert result.size == 1
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
