"""What a bulk run's preflight answer is shared by: objects of one permission context."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from s3xcopy import CopyConfig, S3Location
from s3xcopy.engine import preflight_context
from s3xcopy.facts import SourceFacts
from s3xcopy.limits import MiB
from s3xcopy.planning import make_plan

CONFIG = CopyConfig(multipart_threshold=8 * MiB)
KEY_A = "arn:aws:kms:us-east-1:111122223333:key/a"


def context(size: int = 100, args: dict[str, Any] | None = None, **changes: Any) -> Any:
    key = changes.pop("key", "in/a.csv")
    facts = SourceFacts(
        location=S3Location("src", key),
        size=size,
        etag='"abc"',
        metadata={"row": key},
        content_type="text/csv",
        server_side_encryption="aws:kms",
        sse_kms_key_id=KEY_A,
    )
    facts = dataclasses.replace(facts, **changes)
    plan = make_plan(facts, S3Location("dst", "out/" + key), CONFIG, args or {})
    return preflight_context(plan, facts)


def test_objects_differing_only_in_key_metadata_and_headers_share_one_context() -> None:
    assert context(key="in/a.csv") == context(
        key="in/deeper/b.json", metadata={"other": "1"}, content_type="application/json",
        etag='"def"', size=5000,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("size", "args", "changes"),
    [
        pytest.param(100, {}, {"sse_kms_key_id": "arn:aws:kms:us-east-1:111122223333:key/b"},
                     id="another-source-key"),
        pytest.param(100, {}, {"server_side_encryption": "AES256", "sse_kms_key_id": None},
                     id="source-sse-s3"),
        pytest.param(100, {}, {"tag_count": 2}, id="tags-to-copy"),
        pytest.param(0, {}, {}, id="empty-object"),
        pytest.param(20 * MiB, {}, {}, id="multipart"),
        pytest.param(100, {"SSEKMSKeyId": "arn:aws:kms:us-east-1:444455556666:key/d",
                           "ServerSideEncryption": "aws:kms"}, {}, id="destination-key"),
        pytest.param(100, {"ACL": "bucket-owner-full-control"}, {}, id="acl"),
        pytest.param(100, {"StorageClass": "GLACIER_IR"}, {}, id="storage-class"),
        pytest.param(100, {}, {"location": S3Location("other-src", "in/a.csv")},
                     id="another-source-bucket"),
        pytest.param(100, {}, {"location": S3Location("src", "in/a.csv", "v1")}, id="a-version"),
    ],
)  # fmt: skip
def test_what_a_permission_may_depend_on_makes_another_context(
    size: int, args: dict[str, Any], changes: dict[str, Any]
) -> None:
    assert context(size, args, **changes) != context()
