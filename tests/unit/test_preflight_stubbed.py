"""The preflight canary's requests, in order, and what a denial at each step blocks."""

from __future__ import annotations

from typing import Any

from s3xcopy import CopyConfig
from s3xcopy.preflight import run_preflight
from tests.unit.test_engine_stubbed import DST, ETAG, SRC, Harness

CONFIG = CopyConfig(multipart_threshold=8, part_size=5 * 1024 * 1024, max_concurrency=1)


def arrange(h: Harness, part_error: tuple[str, int] | None = None, tags: int = 0) -> None:
    head: dict[str, Any] = {"ContentLength": 100, "ETag": ETAG}
    if tags:
        head["TagCount"] = tags
    h.ok("head_object", head)
    if tags:
        h.ok("get_object_tagging", {"TagSet": [{"Key": "t", "Value": "v"}]})
    h.ok(
        "get_object",
        {"ContentLength": 1},
        {"Bucket": "src-bucket", "Key": "in/data.bin", "Range": "bytes=0-0"},
    )
    h.ok("create_multipart_upload", {"UploadId": "canary", "SSEKMSKeyId": "arn:aws:kms:k"})
    if part_error:
        h.error("upload_part_copy", part_error[0], part_error[1], "Access Denied")
    else:
        h.ok(
            "upload_part_copy",
            {"CopyPartResult": {"ETag": '"x"'}},
            {
                "Bucket": "dst-bucket",
                "Key": "out/data.bin",
                "UploadId": "canary",
                "PartNumber": 1,
                "CopySource": {"Bucket": "src-bucket", "Key": "in/data.bin"},
                "CopySourceIfMatch": ETAG,
                "CopySourceRange": "bytes=0-0",
            },
        )
    h.ok(
        "abort_multipart_upload",
        {},
        {"Bucket": "dst-bucket", "Key": "out/data.bin", "UploadId": "canary"},
    )
    h.error("list_parts", "NoSuchUpload", 404)


def test_everything_clear() -> None:
    h = Harness(CONFIG)
    with h.stub:
        arrange(h, tags=1)
        report = run_preflight(h.engine, SRC, DST)
        h.stub.assert_no_pending_responses()
    assert report.single.clear and report.multipart.clear and report.clear
    assert [s.operation for s in report.steps] == [
        "HeadObject",
        "GetObject",
        "GetObjectTagging",
        "CreateMultipartUpload",
        "UploadPartCopy",
        "AbortMultipartUpload",
    ]
    assert any("arn:aws:kms:k" in note for note in report.notes)


def test_part_copy_denied_blocks_only_multipart() -> None:
    h = Harness(CONFIG)
    with h.stub:
        arrange(h, part_error=("AccessDenied", 403))
        report = run_preflight(h.engine, SRC, DST)
        h.stub.assert_no_pending_responses()  # the canary upload was aborted
    assert report.single.clear
    assert not report.multipart.clear
    assert report.multipart.blocked_at == "UploadPartCopy"
    assert report.planned == "multipart" and not report.clear
    assert report.to_dict()["multipart"]["blocked_at"] == "UploadPartCopy"


def test_unreadable_source_blocks_both_paths() -> None:
    h = Harness(CONFIG)
    with h.stub:
        h.error("head_object", "403", 403, "Forbidden")
        h.error("head_object", "403", 403, "Forbidden")
        report = run_preflight(h.engine, SRC, DST)
        h.stub.assert_no_pending_responses()
    assert not report.single.clear and not report.multipart.clear
    assert report.single.blocked_at == report.multipart.blocked_at == "HeadObject"
