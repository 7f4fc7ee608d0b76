"""SSE through both paths, on moto (in process): requested keys and the bucket default.

moto ignores CopySourceIfMatch and KMS permissions, so only what it does model is
asserted here: which encryption the destination object ends up with.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from s3xcopy import CopyConfig
from s3xcopy.api import build_engine
from s3xcopy.limits import MiB
from s3xcopy.location import S3Location

MULTIPART = CopyConfig(multipart_threshold=5 * MiB, part_size=5 * MiB)
SINGLE = CopyConfig(multipart_threshold=1024 * MiB)


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    os.environ.update(env)
    try:
        with mock_aws():
            session = boto3.session.Session(region_name="us-east-1")
            s3, kms = session.client("s3"), session.client("kms")
            key_default = kms.create_key(Description="bucket default")["KeyMetadata"]["Arn"]
            key_asked = kms.create_key(Description="asked for")["KeyMetadata"]["Arn"]
            s3.create_bucket(Bucket="src")
            s3.create_bucket(Bucket="dst")
            s3.put_bucket_encryption(
                Bucket="dst",
                ServerSideEncryptionConfiguration={
                    "Rules": [
                        {
                            "ApplyServerSideEncryptionByDefault": {
                                "SSEAlgorithm": "aws:kms",
                                "KMSMasterKeyID": key_default,
                            }
                        }
                    ]
                },
            )
            s3.put_object(Bucket="src", Key="obj", Body=os.urandom(11 * MiB))
            yield {
                "session": session,
                "s3": s3,
                "default": key_default,
                "asked": key_asked,
            }
    finally:
        for name in env:
            os.environ.pop(name, None)


@pytest.mark.parametrize("config", [MULTIPART, SINGLE], ids=["multipart", "single"])
@pytest.mark.parametrize("ask", [False, True], ids=["bucket-default", "requested-key"])
def test_sse_kms_is_the_same_whatever_the_path(
    aws: dict[str, Any], config: CopyConfig, ask: bool
) -> None:
    extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": aws["asked"]} if ask else {}
    engine = build_engine(config, session=aws["session"], sleep=lambda _: None)
    result = engine.copy(S3Location("src", "obj"), S3Location("dst", "out"), extra)
    assert result.strategy == ("multipart" if config is MULTIPART else "single")
    head = aws["s3"].head_object(Bucket="dst", Key="out")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == (aws["asked"] if ask else aws["default"])
