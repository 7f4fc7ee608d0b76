"""S3's default: the initiator of a multipart upload may abort it and list its parts.

EC2Role in the original scenario has no s3:AbortMultipartUpload grant on cp-dst, yet
on AWS it can abort the upload it created (S3 User Guide, "Multipart upload and
permissions"); an explicit Deny still wins, and nobody else inherits the right.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.lab


def client(lab: Any, principal: str) -> Any:
    return boto3.client("s3", **lab.client_kwargs(principal))


def test_initiator_may_list_and_abort_without_a_grant(lab: Any, unique_key: str) -> None:
    server = lab("original")
    s3 = client(server, "EC2Role")
    upload = s3.create_multipart_upload(Bucket="cp-dst", Key=unique_key)["UploadId"]
    assert not s3.list_parts(Bucket="cp-dst", Key=unique_key, UploadId=upload).get("Parts")
    s3.abort_multipart_upload(Bucket="cp-dst", Key=unique_key, UploadId=upload)
    owner = client(server, "DstAdmin")
    assert not owner.list_multipart_uploads(Bucket="cp-dst", Prefix=unique_key).get("Uploads")


def test_explicit_deny_still_wins(lab: Any, unique_key: str) -> None:
    server = lab("original")
    server.add_statement(
        "buckets/cp-dst",
        {
            "Effect": "Deny",
            "Principal": {"AWS": "arn:aws:iam::123456789012:role/EC2Role"},
            "Action": "s3:AbortMultipartUpload",
            "Resource": "arn:aws:s3:::cp-dst/*",
        },
    )
    s3 = client(server, "EC2Role")
    upload = s3.create_multipart_upload(Bucket="cp-dst", Key=unique_key)["UploadId"]
    try:
        with pytest.raises(ClientError, match="AccessDenied"):
            s3.abort_multipart_upload(Bucket="cp-dst", Key=unique_key, UploadId=upload)
    finally:
        client(server, "DstAdmin").abort_multipart_upload(
            Bucket="cp-dst", Key=unique_key, UploadId=upload
        )
