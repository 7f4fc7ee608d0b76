"""The stream strategy's exact call sequences on two clients, against botocore's Stubber.

One part in flight, so the order is fixed. These pin down: which client sends what
(reads on the source's, writes on the destination's), the ETag pin on every ranged
GET, owner checks on the right side, the CRCs sent, the check against the source's
checksum before completion, the abort after any failure, body reads retried inside
the attempt, resume, and the switch to streaming when the destination may not read.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber
from urllib3.exceptions import ProtocolError

from s3xcopy import (
    AccessDeniedError,
    CopyConfig,
    CopyInterruptedError,
    InvalidInputError,
    S3Location,
    S3xCopyError,
    SourceChangedError,
    VerificationError,
)
from s3xcopy.clients import client_config
from s3xcopy.engine import CopyEngine, MultipartObserver, ResumeState
from s3xcopy.events import BytesCopied, Event, RequestRetried, StrategyChanged
from s3xcopy.limits import MiB
from s3xcopy.planning import CopyPlan
from s3xcopy.stream import checksums

SRC = S3Location("src-bucket", "in/data.bin")
DST = S3Location("dst-bucket", "out/data.bin")
#: The source's ETag: a multipart upload's, which is not the MD5 of the bytes, so only CRCs
#: check them here; the tests of the MD5 check give the harness a plain MD5 ETag.
ETAG = '"1b2cf535f27731c974343645a3985328-3"'
PART = 5 * MiB
DATA = bytes(range(256)) * (12 * MiB // 256)  # 12 MiB: parts of 5, 5 and 2 MiB
CONFIG = CopyConfig(multipart_threshold=8 * MiB, part_size=PART, max_concurrency=1, stream="always")
SOURCE_OWNER = {"ExpectedBucketOwner": "111111111111"}
DEST_OWNER = {"ExpectedBucketOwner": "222222222222"}
OWNERS = {"ExpectedSourceBucketOwner": "111111111111", "ExpectedBucketOwner": "222222222222"}


class BodyOf:
    """Matches a request body (bytes or a file-like map) holding exactly ``data``."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __eq__(self, other: object) -> bool:
        if isinstance(other, bytes | bytearray):
            return bytes(other) == self.data
        seek, read = getattr(other, "seek", None), getattr(other, "read", None)
        if seek is None or read is None:
            return False
        seek(0)
        content = read()
        seek(0)
        return bool(content == self.data)

    def __hash__(self) -> int:
        return hash(self.data)

    def __repr__(self) -> str:  # short: a failed match must not print megabytes
        return f"<body of {len(self.data)} bytes, crc64 {b64('CRC64NVME', self.data)}>"


def b64(algorithm: str, data: bytes) -> str:
    return checksums.encode(algorithm, checksums.crc(algorithm, data))


def client(endpoint_url: str | None = None) -> Any:
    return boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url=endpoint_url,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="not-a-secret",
        config=client_config(1),
    )


class Harness:
    """A destination client and a source client (another identity), each with a Stubber."""

    def __init__(
        self,
        config: CopyConfig = CONFIG,
        *,
        source_identity: bool = True,
        source_endpoint: str | None = None,
        etag: str = ETAG,
    ) -> None:
        self.etag = etag
        self.dest = client()
        self.source = client(source_endpoint)
        self.dest_stub = Stubber(self.dest)
        self.source_stub = Stubber(self.source)
        self.events: list[Event] = []
        self.sleeps: list[float] = []
        self.engine = CopyEngine(
            self.dest,
            source_client=self.source,
            config=config,
            listener=self.events.append,
            sleep=self.sleeps.append,
            source_identity=source_identity,
        )

    def __enter__(self) -> Harness:
        self.dest_stub.activate()
        self.source_stub.activate()
        return self

    def __exit__(self, *exc: object) -> None:
        self.dest_stub.deactivate()
        self.source_stub.deactivate()

    def done(self) -> None:
        self.dest_stub.assert_no_pending_responses()
        self.source_stub.assert_no_pending_responses()

    # --- source side ---------------------------------------------------------------------

    def head(self, data: bytes = DATA, **extra: Any) -> None:
        self.source_stub.add_response(
            "head_object",
            {"ContentLength": len(data), "ETag": self.etag, **extra},
            {
                "Bucket": "src-bucket",
                "Key": "in/data.bin",
                "ChecksumMode": "ENABLED",
                **SOURCE_OWNER,
            },
        )

    def get(self, start: int, end: int, body: bytes | None = None) -> None:
        data = DATA[start : end + 1] if body is None else body
        self.source_stub.add_response(
            "get_object",
            {"Body": StreamingBody(io.BytesIO(data), len(data)), "ContentLength": len(data)},
            {
                "Bucket": "src-bucket",
                "Key": "in/data.bin",
                "IfMatch": self.etag,
                "Range": f"bytes={start}-{end}",
                **SOURCE_OWNER,
            },
        )

    # --- destination side ---------------------------------------------------------------

    def create(self, algorithm: str = "CRC64NVME") -> None:
        self.dest_stub.add_response(
            "create_multipart_upload",
            {"UploadId": "up-1", "Bucket": "dst-bucket", "Key": "out/data.bin"},
            {
                "Bucket": "dst-bucket",
                "Key": "out/data.bin",
                "Metadata": {},
                "ChecksumAlgorithm": algorithm,
                "ChecksumType": "FULL_OBJECT",
                **DEST_OWNER,
            },
        )

    def upload(self, number: int, start: int, end: int, algorithm: str = "CRC64NVME") -> None:
        data = DATA[start : end + 1]
        field = checksums.field_name(algorithm)
        self.dest_stub.add_response(
            "upload_part",
            {"ETag": f'"etag-{number}"', field: b64(algorithm, data)},
            {
                "Bucket": "dst-bucket",
                "Key": "out/data.bin",
                "UploadId": "up-1",
                "PartNumber": number,
                "Body": BodyOf(data),
                field: b64(algorithm, data),
                **DEST_OWNER,
            },
        )

    def complete(self, algorithm: str = "CRC64NVME") -> None:
        field = checksums.field_name(algorithm)
        parts = [(1, 0, PART - 1), (2, PART, 2 * PART - 1), (3, 2 * PART, len(DATA) - 1)]
        self.dest_stub.add_response(
            "complete_multipart_upload",
            {"ETag": '"whole-3"', field: b64(algorithm, DATA), "ChecksumType": "FULL_OBJECT"},
            {
                "Bucket": "dst-bucket",
                "Key": "out/data.bin",
                "UploadId": "up-1",
                "MultipartUpload": {
                    "Parts": [
                        {
                            "PartNumber": n,
                            "ETag": f'"etag-{n}"',
                            field: b64(algorithm, DATA[a : b + 1]),
                        }
                        for n, a, b in parts
                    ]
                },
                field: b64(algorithm, DATA),
                "ChecksumType": "FULL_OBJECT",
                "MpuObjectSize": len(DATA),
                **DEST_OWNER,
            },
        )

    def verify(self, size: int = len(DATA)) -> None:
        self.dest_stub.add_response(
            "head_object",
            {"ContentLength": size, "ETag": '"whole-3"'},
            {"Bucket": "dst-bucket", "Key": "out/data.bin", **DEST_OWNER},
        )

    def abort(self) -> None:
        self.dest_stub.add_response(
            "abort_multipart_upload",
            {},
            {"Bucket": "dst-bucket", "Key": "out/data.bin", "UploadId": "up-1", **DEST_OWNER},
        )
        self.dest_stub.add_client_error("list_parts", "NoSuchUpload", http_status_code=404)

    def copy(self, **kwargs: Any) -> Any:
        return self.engine.copy(SRC, DST, OWNERS, **kwargs)


@pytest.fixture
def h() -> Iterator[Harness]:
    with Harness() as harness:
        yield harness
        harness.done()


def three_parts(h: Harness, algorithm: str = "CRC64NVME") -> None:
    h.create(algorithm)
    h.get(0, PART - 1)
    h.upload(1, 0, PART - 1, algorithm)
    h.get(PART, 2 * PART - 1)
    h.upload(2, PART, 2 * PART - 1, algorithm)
    h.get(2 * PART, len(DATA) - 1)
    h.upload(3, 2 * PART, len(DATA) - 1, algorithm)


def test_stream_reads_with_the_source_client_and_writes_with_the_destination(h: Harness) -> None:
    h.head(ChecksumCRC64NVME=b64("CRC64NVME", DATA), ChecksumType="FULL_OBJECT")
    three_parts(h)
    h.complete()
    h.verify()
    result = h.copy()
    assert result.strategy == "stream"
    assert result.parts == 3
    assert result.part_size == PART
    assert result.fallback is None  # asked for, not a change of strategy
    assert result.etag == '"whole-3"'
    copied = [e for e in h.events if isinstance(e, BytesCopied)]
    assert sum(e.bytes for e in copied) == len(DATA)


def test_stream_keeps_the_sources_algorithm(h: Harness) -> None:
    h.head(ChecksumCRC32C=b64("CRC32C", DATA), ChecksumType="FULL_OBJECT")
    three_parts(h, "CRC32C")
    h.complete("CRC32C")
    h.verify()
    assert h.copy().strategy == "stream"


def read_three_parts_the_second_with_a_flipped_byte(h: Harness, at: int) -> None:
    """Stub the three parts' GetObject and UploadPart; part 2 reads with byte ``at`` flipped
    (and its UploadPart takes those bytes: its CRC is of what was read)."""
    h.get(0, PART - 1)
    h.upload(1, 0, PART - 1)
    corrupt = bytearray(DATA[PART : 2 * PART])
    corrupt[at] ^= 0x01
    h.get(PART, 2 * PART - 1, bytes(corrupt))
    h.dest_stub.add_response("upload_part", {"ETag": '"etag-2"'}, None)
    h.get(2 * PART, len(DATA) - 1)
    h.upload(3, 2 * PART, len(DATA) - 1)


def test_a_corrupt_part_is_caught_before_completion_and_the_upload_aborted(h: Harness) -> None:
    h.head(ChecksumCRC64NVME=b64("CRC64NVME", DATA), ChecksumType="FULL_OBJECT")
    h.create()
    read_three_parts_the_second_with_a_flipped_byte(h, 12345)
    h.abort()  # no CompleteMultipartUpload: the stub would fail on it
    with pytest.raises(VerificationError, match="corrupted in transit") as caught:
        h.copy()
    assert caught.value.operation == "GetObject"
    assert caught.value.code == "ChecksumMismatch"


def test_a_body_cut_mid_read_is_read_again_within_one_retry_budget(h: Harness) -> None:
    class Cut(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            raise ProtocolError("Connection broken: IncompleteRead")

    h.head()
    h.create()
    h.source_stub.add_response(
        "get_object", {"Body": StreamingBody(Cut(), PART), "ContentLength": PART}, None
    )
    three_parts_after_create = [
        (h.get, (0, PART - 1)),
        (h.upload, (1, 0, PART - 1)),
        (h.get, (PART, 2 * PART - 1)),
        (h.upload, (2, PART, 2 * PART - 1)),
        (h.get, (2 * PART, len(DATA) - 1)),
        (h.upload, (3, 2 * PART, len(DATA) - 1)),
    ]
    for add, args in three_parts_after_create:
        add(*args)
    h.complete()
    h.verify()
    assert h.copy().strategy == "stream"
    retried = [e for e in h.events if isinstance(e, RequestRetried)]
    assert [(e.operation, e.code) for e in retried] == [("GetObject", "ResponseStreamingError")]
    assert len(h.sleeps) == 1  # injected: no real sleeping


def test_a_source_changed_mid_stream_aborts(h: Harness) -> None:
    h.head()
    h.create()
    h.get(0, PART - 1)
    h.upload(1, 0, PART - 1)
    h.source_stub.add_client_error("get_object", "PreconditionFailed", http_status_code=412)
    h.abort()
    with pytest.raises(SourceChangedError, match="changed during the copy"):
        h.copy()


def test_a_failed_upload_part_aborts(h: Harness) -> None:
    h.head()
    h.create()
    h.get(0, PART - 1)
    h.dest_stub.add_client_error("upload_part", "BadDigest", http_status_code=400)
    h.abort()
    with pytest.raises(S3xCopyError, match="BadDigest"):
        h.copy()


def test_resume_rereads_parts_whose_checksum_the_server_does_not_list(h: Harness) -> None:
    h.head(ChecksumCRC64NVME=b64("CRC64NVME", DATA), ChecksumType="FULL_OBJECT")
    h.dest_stub.add_response(
        "list_parts",
        {"Parts": [{"PartNumber": 1, "ETag": '"etag-1"', "Size": PART}], "IsTruncated": False},
        {
            "Bucket": "dst-bucket",
            "Key": "out/data.bin",
            "UploadId": "up-1",
            "PartNumberMarker": 0,
            **DEST_OWNER,
        },
    )
    h.get(PART, 2 * PART - 1)
    h.upload(2, PART, 2 * PART - 1)
    h.get(2 * PART, len(DATA) - 1)
    h.upload(3, 2 * PART, len(DATA) - 1)
    h.get(0, PART - 1)  # part 1 again, read only: its CRC is needed for the whole object
    h.complete()
    h.verify()
    resume = ResumeState("up-1", ETAG, PART, strategy="stream")
    assert h.copy(resume=resume).strategy == "stream"


def test_resume_of_a_server_side_upload_starts_the_stream_over(h: Harness) -> None:
    h.head()
    h.abort()  # the UploadPartCopy upload is not continued by UploadPart
    three_parts(h)
    h.complete()
    h.verify()
    assert h.copy(resume=ResumeState("up-1", ETAG, PART)).strategy == "stream"


def test_small_stream_is_one_get_and_one_put_with_tags() -> None:
    data = b"x" * 1000
    with Harness() as h:
        h.head(data, TagCount=1, ChecksumCRC32=b64("CRC32", data), ContentType="text/plain")
        h.source_stub.add_response(
            "get_object_tagging",
            {"TagSet": [{"Key": "team", "Value": "data"}]},
            {"Bucket": "src-bucket", "Key": "in/data.bin", **SOURCE_OWNER},
        )
        h.source_stub.add_response(
            "get_object",
            {"Body": StreamingBody(io.BytesIO(data), len(data))},
            {"Bucket": "src-bucket", "Key": "in/data.bin", "IfMatch": ETAG, **SOURCE_OWNER},
        )
        h.dest_stub.add_response(
            "put_object",
            {"ETag": '"p"', "ChecksumCRC32": b64("CRC32", data)},
            {
                "Bucket": "dst-bucket",
                "Key": "out/data.bin",
                "Metadata": {},
                "ContentType": "text/plain",
                "Tagging": "team=data",
                "Body": BodyOf(data),
                "ChecksumCRC32": b64("CRC32", data),
                **DEST_OWNER,
            },
        )
        h.verify(len(data))
        result = h.copy()
        h.done()
    assert result.strategy == "stream"
    assert result.part_size is None
    assert result.parts == 1


def test_small_stream_whose_long_tags_are_refused_leaves_nothing() -> None:
    data = b"x" * 1000
    tags = [{"Key": f"k{n}-" + "k" * 100, "Value": "v" * 250} for n in range(10)]  # not inline
    with Harness() as h:
        h.head(data, TagCount=10, ChecksumCRC32=b64("CRC32", data))
        h.source_stub.add_response("get_object_tagging", {"TagSet": tags}, None)
        h.source_stub.add_response(
            "get_object", {"Body": StreamingBody(io.BytesIO(data), len(data))}, None
        )
        h.dest_stub.add_response("put_object", {"ETag": '"p"', "VersionId": "v-2"}, None)
        h.dest_stub.add_client_error("put_object_tagging", "AccessDenied", http_status_code=403)
        h.dest_stub.add_response(
            "delete_object",
            {},
            {"Bucket": "dst-bucket", "Key": "out/data.bin", "VersionId": "v-2", **DEST_OWNER},
        )
        with pytest.raises(AccessDeniedError, match="written without its tags, was deleted"):
            h.copy()
        h.done()


def test_small_corrupt_stream_writes_nothing() -> None:
    data = b"x" * 1000
    with Harness() as h:
        h.head(data, ChecksumCRC32=b64("CRC32", b"y" * 1000))
        h.source_stub.add_response(
            "get_object", {"Body": StreamingBody(io.BytesIO(data), len(data))}, None
        )
        with pytest.raises(VerificationError, match="nothing was written"):
            h.copy()
        h.done()  # no PutObject was sent


# --- the switch from server-side to stream on a source-side denial -------------------------


def denied_copy(h: Harness, data: bytes) -> None:
    """Single CopyObject refused; the destination's identity may not read the source either."""
    h.head(data)
    h.dest_stub.add_client_error("copy_object", "AccessDenied", http_status_code=403)
    h.dest_stub.add_client_error(
        "get_object",
        "AccessDenied",
        http_status_code=403,
        expected_params={
            "Bucket": "src-bucket",
            "Key": "in/data.bin",
            "IfMatch": ETAG,
            "Range": "bytes=0-0",
            **SOURCE_OWNER,
        },
    )


def test_denied_copy_streams_with_the_source_identity() -> None:
    data = b"z" * 100
    with Harness(CopyConfig(max_concurrency=1)) as h:
        denied_copy(h, data)
        h.source_stub.add_response(
            "get_object", {"Body": StreamingBody(io.BytesIO(data), len(data))}, None
        )
        h.dest_stub.add_response("put_object", {"ETag": '"p"'}, ANY_PUT)
        h.verify(len(data))
        result = h.copy()
        h.done()
    assert result.strategy == "stream"
    assert result.fallback is not None
    assert "denied at CopyObject (AccessDenied)" in result.fallback
    assert "cannot read the source" in result.fallback
    changed = [e for e in h.events if isinstance(e, StrategyChanged)]
    assert [(e.old, e.new) for e in changed] == [("single", "stream")]


ANY_PUT = {
    "Bucket": "dst-bucket",
    "Key": "out/data.bin",
    "Metadata": {},
    "Body": ANY,
    "ChecksumCRC64NVME": ANY,
    **DEST_OWNER,
}


@pytest.mark.parametrize(
    ("config", "source_identity"),
    [
        (CopyConfig(stream="never"), True),
        (CopyConfig(fallback=False), True),
        (CopyConfig(), False),  # no second identity: streaming would meet the same denial
    ],
)
def test_no_switch_without_a_second_identity_or_when_forbidden(
    config: CopyConfig, source_identity: bool
) -> None:
    data = b"z" * 100
    with Harness(config, source_identity=source_identity) as h:
        h.head(data)
        h.dest_stub.add_client_error("copy_object", "AccessDenied", http_status_code=403)
        with pytest.raises(AccessDeniedError):
            h.copy()
        h.done()  # and no probe was sent


def test_no_switch_when_the_destination_may_read_the_source() -> None:
    data = b"z" * 100
    with Harness(CopyConfig()) as h:
        h.head(data)
        h.dest_stub.add_client_error("copy_object", "AccessDenied", http_status_code=403)
        h.dest_stub.add_response(
            "get_object", {"Body": StreamingBody(io.BytesIO(b"z"), 1)}, None
        )  # the probe passes: the denial is on the destination side
        with pytest.raises(AccessDeniedError):
            h.copy()
        h.done()


def test_two_endpoints_with_no_stream_is_bad_input() -> None:
    config = CopyConfig(stream="never")
    with Harness(config, source_endpoint="http://127.0.0.1:9") as h:
        h.source_stub.add_response("head_object", {"ContentLength": 1, "ETag": ETAG}, None)
        with pytest.raises(InvalidInputError, match=r"different endpoints .*\(--no-stream\)"):
            h.copy()
        h.done()


def test_two_endpoints_stream_without_being_asked() -> None:
    data = b"q" * 10
    with Harness(CopyConfig(), source_endpoint="http://127.0.0.1:9") as h:
        h.source_stub.add_response("head_object", {"ContentLength": 10, "ETag": ETAG}, None)
        h.source_stub.add_response(
            "get_object", {"Body": StreamingBody(io.BytesIO(data), len(data))}, None
        )
        h.dest_stub.add_response("put_object", {"ETag": '"p"'}, ANY_PUT)
        h.verify(len(data))
        result = h.copy()
        h.done()
    assert result.strategy == "stream"
    assert result.fallback is not None
    assert "different endpoints (http://127.0.0.1:9 and https://s3.amazonaws.com)" in (
        result.fallback
    )


# --- journal hooks and interruption, as the multipart path ------------------------------


class Recorder(MultipartObserver):
    """Records the journal hooks' calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def upload_started(self, plan: CopyPlan, upload_id: str, source_etag: str) -> None:
        self.calls.append(("started", (plan.strategy, upload_id, source_etag)))

    def part_done(self, plan: CopyPlan, upload_id: str, entry: dict[str, Any]) -> None:
        self.calls.append(("part", dict(entry)))

    def upload_finished(self, plan: CopyPlan, upload_id: str) -> None:
        self.calls.append(("finished", upload_id))


def test_the_journal_hooks_see_a_stream_like_a_multipart_copy(h: Harness) -> None:
    h.head()
    three_parts(h)
    h.complete()
    h.verify()
    recorder = Recorder()
    h.copy(observer=recorder)
    assert recorder.calls[0] == ("started", ("stream", "up-1", ETAG))
    parts = [call[1] for call in recorder.calls if call[0] == "part"]
    assert [p["PartNumber"] for p in parts] == [1, 2, 3]
    assert parts[0]["ChecksumCRC64NVME"] == b64("CRC64NVME", DATA[:PART])
    assert recorder.calls[-1] == ("finished", "up-1")


@pytest.mark.parametrize("keep", [False, True])
def test_an_interrupted_stream_aborts_or_keeps_its_upload_for_resume(keep: bool) -> None:
    with Harness() as h:
        h.head()
        h.create()
        h.get(0, PART - 1)
        h.upload(1, 0, PART - 1)
        if not keep:
            h.abort()

        def interrupt(event: Event) -> None:
            if isinstance(event, BytesCopied):
                h.engine.cancel.set()  # as Ctrl-C does, once the first part is sent

        h.engine.listener = interrupt
        recorder = Recorder()
        with pytest.raises(CopyInterruptedError):
            h.copy(observer=recorder, keep_upload_on_interrupt=keep)
        h.done()  # part 2 was never read: the task saw the cancel first
    finished = [call for call in recorder.calls if call[0] == "finished"]
    assert finished == ([] if keep else [("finished", "up-1")])


# --- sources without a full-object checksum: their ETag, when it is the MD5 -----------------


def md5_etag(data: bytes) -> str:
    return f'"{hashlib.md5(data, usedforsecurity=False).hexdigest()}"'


def test_the_bytes_of_a_source_without_checksum_are_checked_against_its_md5_etag() -> None:
    with Harness(etag=md5_etag(DATA)) as h:
        h.head()  # no ChecksumCRC*: only the ETag says what the bytes are
        three_parts(h)
        h.complete()
        h.verify()
        assert h.copy().strategy == "stream"
        h.done()


@pytest.mark.parametrize("verify", [True, False])
def test_a_corrupt_part_fails_the_md5_check_before_completion(verify: bool) -> None:
    """The part's own CRC matches what was read, so only the ETag can tell; --no-verify
    (verify=False) skips that check, for servers whose ETags are not MD5s."""
    with Harness(dataclasses.replace(CONFIG, verify=verify), etag=md5_etag(DATA)) as h:
        h.head()
        h.create()
        read_three_parts_the_second_with_a_flipped_byte(h, 4321)
        if verify:
            h.abort()  # no CompleteMultipartUpload: the stub would fail on it
            with pytest.raises(VerificationError, match=r"have MD5 .* not the source.s ETag"):
                h.copy()
        else:
            h.dest_stub.add_response("complete_multipart_upload", {"ETag": '"whole-3"'}, None)
            assert h.copy().strategy == "stream"
        h.done()


@pytest.mark.parametrize(
    ("extra", "checked"),
    [
        ({}, True),
        ({"ServerSideEncryption": "AES256"}, True),  # SSE-S3 on AWS: still the MD5
        ({"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "k"}, False),
    ],
)
def test_a_small_source_is_checked_before_its_put(extra: dict[str, Any], checked: bool) -> None:
    data, corrupt = b"w" * 1000, b"w" * 999 + b"v"
    with Harness(etag=md5_etag(data)) as h:
        h.head(data, **extra)
        h.source_stub.add_response(
            "get_object", {"Body": StreamingBody(io.BytesIO(corrupt), len(corrupt))}, None
        )
        if checked:
            with pytest.raises(VerificationError, match="nothing was written"):
                h.copy()
        else:  # SSE-KMS: the ETag is not the MD5, nothing to check it against
            h.dest_stub.add_response("put_object", {"ETag": '"p"'}, ANY_PUT)
            h.verify(len(corrupt))
            h.copy()
        h.done()  # when checked, no PutObject was sent


def test_a_resumed_stream_does_not_hash_parts_it_did_not_read() -> None:
    """Parts sent by an earlier run are not read again for the MD5 (their CRCs still are
    checked): the ETag check needs every byte, in order."""
    with Harness(etag='"00000000000000000000000000000000"') as h:
        h.head()
        h.dest_stub.add_response(
            "list_parts",
            {"Parts": [{"PartNumber": 1, "ETag": '"etag-1"', "Size": PART,
                        "ChecksumCRC64NVME": b64("CRC64NVME", DATA[:PART])}]},
            None,
        )  # fmt: skip
        h.get(PART, 2 * PART - 1)
        h.upload(2, PART, 2 * PART - 1)
        h.get(2 * PART, len(DATA) - 1)
        h.upload(3, 2 * PART, len(DATA) - 1)
        h.complete()
        h.verify()
        resume = ResumeState("up-1", h.etag, PART, strategy="stream")
        assert h.copy(resume=resume).strategy == "stream"
        h.done()
