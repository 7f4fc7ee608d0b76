"""The modelled S3 answers boto3 as S3 does: one test per operation or rule, no timing."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError

from s3xcopy.bench import ModelParams, ModelServer
from s3xcopy.limits import GiB, MiB

from .conftest import client


def code_of(info: pytest.ExceptionInfo[ClientError]) -> str:
    return str(info.value.response["Error"]["Code"])


def test_buckets(s3: Any, bucket: str) -> None:
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert bucket in names
    s3.head_bucket(Bucket=bucket)
    assert s3.get_bucket_location(Bucket=bucket).get("LocationConstraint") is None
    with pytest.raises(ClientError) as again:
        s3.create_bucket(Bucket=bucket)
    assert code_of(again) == "BucketAlreadyOwnedByYou"
    with pytest.raises(ClientError) as missing:
        s3.head_bucket(Bucket="no-such-bucket-here")
    assert missing.value.response["Error"]["Code"] == "404"


def test_put_head_get(s3: Any, bucket: str) -> None:
    put = s3.put_object(
        Bucket=bucket,
        Key="dir/obj.txt",
        Body=b"hello world",
        ContentType="text/plain",
        CacheControl="max-age=60",
        Metadata={"colour": "blue"},
        Tagging="a=1&b=2",
    )
    assert put["ETag"] == '"5eb63bbbe01eeed093cb22bb8f5acdc3"'  # the real MD5 of the body
    head = s3.head_object(Bucket=bucket, Key="dir/obj.txt")
    assert head["ContentLength"] == 11
    assert head["ContentType"] == "text/plain"
    assert head["CacheControl"] == "max-age=60"
    assert head["Metadata"] == {"colour": "blue"}
    assert head["ServerSideEncryption"] == "AES256"
    # The model keeps sizes, not bytes: a GET returns filler of the right length.
    got = s3.get_object(Bucket=bucket, Key="dir/obj.txt")
    assert got["Body"].read() == bytes(range(11))
    assert got["TagCount"] == 2
    with pytest.raises(ClientError) as missing:
        s3.get_object(Bucket=bucket, Key="dir/nope")
    assert code_of(missing) == "NoSuchKey"


def test_get_ranges_of_a_large_seeded_object(model: ModelServer, s3: Any, bucket: str) -> None:
    model.seed(bucket, "big.bin", 1, 3 * GiB)
    assert s3.head_object(Bucket=bucket, Key="big.bin")["ContentLength"] == 3 * GiB
    part = s3.get_object(Bucket=bucket, Key="big.bin", Range="bytes=1000-1009")
    assert part["ContentRange"] == f"bytes 1000-1009/{3 * GiB}"
    assert part["Body"].read() == bytes(i % 256 for i in range(1000, 1010))
    tail = s3.get_object(Bucket=bucket, Key="big.bin", Range="bytes=-3")["Body"].read()
    assert tail == bytes(i % 256 for i in range(3 * GiB - 3, 3 * GiB))
    with pytest.raises(ClientError) as beyond:
        s3.get_object(Bucket=bucket, Key="big.bin", Range=f"bytes={3 * GiB}-")
    assert code_of(beyond) == "InvalidRange"


def test_seeded_small_objects_have_the_md5_of_their_bytes(
    model: ModelServer, s3: Any, bucket: str
) -> None:
    import hashlib

    model.seed(bucket, "small/", 3, 4096)
    body = s3.get_object(Bucket=bucket, Key="small/000001")["Body"].read()
    etag = s3.head_object(Bucket=bucket, Key="small/000001")["ETag"].strip('"')
    assert etag == hashlib.md5(body).hexdigest()


def test_list_objects_v2_pages_and_delimiter(model: ModelServer, s3: Any, bucket: str) -> None:
    model.seed(bucket, "many/", 2500, 1)
    model.seed(bucket, "other/x", 1, 1)
    model.seed(bucket, "top", 1, 1)
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="many/")
    keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
    assert len(keys) == 2500
    assert keys == sorted(keys)
    first = s3.list_objects_v2(Bucket=bucket, MaxKeys=2)
    assert first["IsTruncated"] is True
    assert first["KeyCount"] == 2
    rest = s3.list_objects_v2(
        Bucket=bucket, MaxKeys=2, ContinuationToken=first["NextContinuationToken"]
    )
    assert [o["Key"] for o in rest["Contents"]] == ["many/000002", "many/000003"]
    rolled = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in rolled["CommonPrefixes"]] == ["many/", "other/"]
    assert [o["Key"] for o in rolled["Contents"]] == ["top"]
    # A page that ends on a common prefix resumes after all of it.
    one = s3.list_objects_v2(Bucket=bucket, Delimiter="/", MaxKeys=1)
    two = s3.list_objects_v2(
        Bucket=bucket, Delimiter="/", MaxKeys=1, ContinuationToken=one["NextContinuationToken"]
    )
    assert [p["Prefix"] for p in two["CommonPrefixes"]] == ["other/"]


def test_list_objects_v1_marker(model: ModelServer, s3: Any, bucket: str) -> None:
    model.seed(bucket, "v1/", 1500, 1)
    pages = s3.get_paginator("list_objects").paginate(Bucket=bucket)
    keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
    assert len(keys) == 1500
    page = s3.list_objects(Bucket=bucket, Marker="v1/000010", MaxKeys=1)
    assert [o["Key"] for o in page["Contents"]] == ["v1/000011"]


def test_keys_with_awkward_characters_round_trip(s3: Any, bucket: str) -> None:
    keys = ["a b+c/%d?e", "ünï/cödé", "plus+sign"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert sorted(listed) == sorted(keys)
    for key in keys:
        assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == 1


def test_copy_object_metadata_and_tagging_directives(s3: Any, bucket: str) -> None:
    s3.put_object(
        Bucket=bucket, Key="src", Body=b"abc", ContentType="text/csv", Metadata={"m": "1"},
        Tagging="t=1",
    )  # fmt: skip
    src = {"Bucket": bucket, "Key": "src"}
    etag = s3.head_object(Bucket=bucket, Key="src")["ETag"]
    copied = s3.copy_object(Bucket=bucket, Key="copy", CopySource=src)
    assert copied["CopyObjectResult"]["ETag"] == etag  # a single-part source keeps its MD5
    head = s3.head_object(Bucket=bucket, Key="copy")
    assert (head["ContentType"], head["Metadata"]) == ("text/csv", {"m": "1"})
    assert s3.get_object_tagging(Bucket=bucket, Key="copy")["TagSet"] == [
        {"Key": "t", "Value": "1"}
    ]
    s3.copy_object(
        Bucket=bucket, Key="replaced", CopySource=src, MetadataDirective="REPLACE",
        ContentType="application/json", Metadata={"n": "2"}, TaggingDirective="REPLACE",
        Tagging="u=2",
    )  # fmt: skip
    head = s3.head_object(Bucket=bucket, Key="replaced")
    assert (head["ContentType"], head["Metadata"]) == ("application/json", {"n": "2"})
    assert s3.get_object_tagging(Bucket=bucket, Key="replaced")["TagSet"] == [
        {"Key": "u", "Value": "2"}
    ]


def test_copy_object_if_match_answers_412_when_the_source_changed(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"v1")
    old = s3.head_object(Bucket=bucket, Key="src")["ETag"]
    s3.copy_object(Bucket=bucket, Key="ok", CopySource={"Bucket": bucket, "Key": "src"},
                   CopySourceIfMatch=old)  # fmt: skip
    s3.put_object(Bucket=bucket, Key="src", Body=b"v2")
    with pytest.raises(ClientError) as changed:
        s3.copy_object(Bucket=bucket, Key="late", CopySource={"Bucket": bucket, "Key": "src"},
                       CopySourceIfMatch=old)  # fmt: skip
    assert code_of(changed) == "PreconditionFailed"
    assert changed.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="late")


def test_copy_object_refuses_self_copy_and_sources_over_5_gib(
    model: ModelServer, s3: Any, bucket: str
) -> None:
    s3.put_object(Bucket=bucket, Key="same", Body=b"x")
    with pytest.raises(ClientError) as itself:
        s3.copy_object(Bucket=bucket, Key="same", CopySource={"Bucket": bucket, "Key": "same"})
    assert code_of(itself) == "InvalidRequest"
    s3.copy_object(Bucket=bucket, Key="same", CopySource={"Bucket": bucket, "Key": "same"},
                   MetadataDirective="REPLACE", Metadata={"k": "v"})  # fmt: skip
    model.seed(bucket, "huge", 1, 5 * GiB + 1)
    with pytest.raises(ClientError) as huge:
        s3.copy_object(Bucket=bucket, Key="huge2", CopySource={"Bucket": bucket, "Key": "huge"})
    assert code_of(huge) == "InvalidRequest"
    assert "5368709120" in huge.value.response["Error"]["Message"]


def _copy_parts(s3: Any, bucket: str, key: str, upload_id: str, ranges: list[tuple[int, int]],
                **extra: Any) -> list[dict[str, Any]]:  # fmt: skip
    parts = []
    for number, (first, last) in enumerate(ranges, start=1):
        answer = s3.upload_part_copy(
            Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number,
            CopySource={"Bucket": bucket, "Key": "src"}, CopySourceRange=f"bytes={first}-{last}",
            **extra,
        )  # fmt: skip
        parts.append({"PartNumber": number, "ETag": answer["CopyPartResult"]["ETag"]})
    return parts


def test_multipart_copy_with_upload_part_copy(model: ModelServer, s3: Any, bucket: str) -> None:
    model.seed(bucket, "src", 1, 12 * MiB)
    etag = s3.head_object(Bucket=bucket, Key="src")["ETag"]
    upload = s3.create_multipart_upload(
        Bucket=bucket, Key="dst", ContentType="text/plain", Metadata={"a": "b"}, Tagging="x=y"
    )
    uid = upload["UploadId"]
    ranges = [(0, 5 * MiB - 1), (5 * MiB, 10 * MiB - 1), (10 * MiB, 12 * MiB - 1)]
    parts = _copy_parts(s3, bucket, "dst", uid, ranges, CopySourceIfMatch=etag)
    listed = s3.list_parts(Bucket=bucket, Key="dst", UploadId=uid)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in listed] == [(1, 5 * MiB), (2, 5 * MiB),
                                                             (3, 2 * MiB)]  # fmt: skip
    uploads = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert [u["UploadId"] for u in uploads] == [uid]
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="dst", UploadId=uid, MultipartUpload={"Parts": parts}
    )
    assert done["ETag"].endswith('-3"')
    head = s3.head_object(Bucket=bucket, Key="dst")
    assert head["ContentLength"] == 12 * MiB
    assert (head["ContentType"], head["Metadata"]) == ("text/plain", {"a": "b"})
    assert s3.head_object(Bucket=bucket, Key="dst", PartNumber=2)["PartsCount"] == 3
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_upload_part_copy_if_match_and_range_checks(
    model: ModelServer, s3: Any, bucket: str
) -> None:
    model.seed(bucket, "src", 1, 6 * MiB)
    uid = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    source = {"Bucket": bucket, "Key": "src"}
    with pytest.raises(ClientError) as changed:
        s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=uid, PartNumber=1,
                            CopySource=source, CopySourceIfMatch='"0123"')  # fmt: skip
    assert code_of(changed) == "PreconditionFailed"
    with pytest.raises(ClientError) as beyond:
        s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=uid, PartNumber=1,
                            CopySource=source, CopySourceRange=f"bytes=0-{6 * MiB}")  # fmt: skip
    assert code_of(beyond) == "InvalidArgument"
    with pytest.raises(ClientError) as number:
        s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=uid, PartNumber=10_001,
                            CopySource=source)  # fmt: skip
    assert code_of(number) == "InvalidArgument"


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("out-of-order", "InvalidPartOrder"),
        ("wrong-etag", "InvalidPart"),
        ("missing-part", "InvalidPart"),
        ("small-middle-part", "EntityTooSmall"),
        ("no-parts", "MalformedXML"),
    ],
)
def test_complete_multipart_upload_checks(
    model: ModelServer, s3: Any, bucket: str, case: str, code: str
) -> None:
    model.seed(bucket, "src", 1, 20 * MiB)
    uid = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    sizes = [(0, 5 * MiB - 1), (5 * MiB, 10 * MiB - 1), (10 * MiB, 11 * MiB)]
    if case == "small-middle-part":
        sizes = [(0, MiB - 1), (MiB, 6 * MiB - 1), (6 * MiB, 7 * MiB)]
    parts = _copy_parts(s3, bucket, "dst", uid, sizes)
    if case == "out-of-order":
        parts = [parts[1], parts[0], parts[2]]
    elif case == "wrong-etag":
        parts[1] = {"PartNumber": 2, "ETag": '"00000000000000000000000000000000"'}
    elif case == "missing-part":
        parts.append({"PartNumber": 9, "ETag": parts[0]["ETag"]})
    elif case == "no-parts":
        parts = []
    with pytest.raises(ClientError) as refused:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="dst", UploadId=uid, MultipartUpload={"Parts": parts}
        )
    assert code_of(refused) == code
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]] == [uid]


def test_upload_part_and_abort(s3: Any, bucket: str) -> None:
    uid = s3.create_multipart_upload(Bucket=bucket, Key="up")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="up", UploadId=uid, PartNumber=1, Body=b"tiny")
    s3.abort_multipart_upload(Bucket=bucket, Key="up", UploadId=uid)
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    with pytest.raises(ClientError) as gone:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="up", UploadId=uid,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
        )  # fmt: skip
    assert code_of(gone) == "NoSuchUpload"
    # A single (last) part may be smaller than 5 MiB.
    uid = s3.create_multipart_upload(Bucket=bucket, Key="up")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="up", UploadId=uid, PartNumber=1, Body=b"tiny")
    s3.complete_multipart_upload(
        Bucket=bucket, Key="up", UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )  # fmt: skip
    assert s3.head_object(Bucket=bucket, Key="up")["ContentLength"] == 4


def test_delete_object_and_objects(model: ModelServer, s3: Any, bucket: str) -> None:
    model.seed(bucket, "d/", 5, 1)
    s3.delete_object(Bucket=bucket, Key="d/000000")
    s3.delete_object(Bucket=bucket, Key="d/never-there")
    answer = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "d/000001"}, {"Key": "d/000002"}]}
    )
    assert sorted(d["Key"] for d in answer["Deleted"]) == ["d/000001", "d/000002"]
    left = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert left == ["d/000003", "d/000004"]


def test_object_tagging(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="t", Body=b"")
    s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == [{"Key": "k", "Value": "v"}]
    s3.delete_object_tagging(Bucket=bucket, Key="t")
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == []


def test_unsupported_calls_answer_not_implemented_and_are_counted(
    model: ModelServer, s3: Any, bucket: str
) -> None:
    with pytest.raises(ClientError) as acl:
        s3.get_bucket_acl(Bucket=bucket)
    assert code_of(acl) == "NotImplemented"
    assert model.stats()["requests"]["GET bucket?acl"] >= 1


def _control(model: ModelServer, method: str, name: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{model.endpoint_url}/__model__/{name}",
        method=method,
        data=b"" if method == "POST" else None,
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        data: dict[str, Any] = json.loads(answer.read())
    return data


def test_stats_endpoint_counts_requests_by_operation() -> None:
    # Its own server: the session one is shared, and counters are global to a server.
    from .conftest import FAST

    with ModelServer(FAST) as model:
        s3 = client(model)
        s3.create_bucket(Bucket="stats")
        model.seed("stats", "src", 1, 12 * MiB)
        _control(model, "POST", "reset")
        s3.head_object(Bucket="stats", Key="src")
        s3.copy({"Bucket": "stats", "Key": "src"}, "stats", "dst")  # s3transfer: 8 MiB parts
        with pytest.raises(ClientError):
            s3.head_object(Bucket="stats", Key="nope")
        stats = _control(model, "GET", "stats")
        assert stats["requests"] == {
            "CompleteMultipartUpload": 1,
            "CreateMultipartUpload": 1,
            "HeadObject": 3,
            "UploadPartCopy": 2,
        }
        assert stats["total_requests"] == 7
        assert stats["errors"] == {"HeadObject NoSuchKey": 1}
        assert stats["copied_bytes"] == 12 * MiB
        assert stats["copy_part_sizes"] == {str(4 * MiB): 1, str(8 * MiB): 1}
        assert stats["max_inflight"]["UploadPartCopy"] in (1, 2)
        assert _control(model, "GET", "params")["latency_ms"] == 0
        _control(model, "POST", "reset")
        assert _control(model, "GET", "stats")["total_requests"] == 0


def test_slowdown_beyond_the_prefix_rate() -> None:
    # 0.5 writes/s with a 2 s bucket: one token, refilled long after this test ends.
    params = ModelParams(latency_ms=0, copy_rate_mbps=1e9, write_rps=0.5, burst_seconds=2)
    with ModelServer(params) as model:
        s3 = client(model)
        s3.create_bucket(Bucket="slow")  # bucket-level calls are not rate-limited
        s3.put_object(Bucket="slow", Key="a/1", Body=b"x")
        with pytest.raises(ClientError) as slow:
            s3.put_object(Bucket="slow", Key="a/2", Body=b"x")
        assert code_of(slow) == "SlowDown"
        assert slow.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        s3.put_object(Bucket="slow", Key="b/1", Body=b"x")  # another prefix has its own rate
        s3.head_object(Bucket="slow", Key="a/1")  # reads have their own (unlimited) rate
        stats = model.stats()
        assert stats["slowdowns"] == 1
        assert stats["errors"] == {"PutObject SlowDown": 1}
