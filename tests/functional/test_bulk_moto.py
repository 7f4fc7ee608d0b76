"""Bulk copies in process under moto's mock_aws: listed keys copied as they are.

Two things only moto shows cheaply: a bulk copy stays inside the mock (the lean
CopyObject sender must not send around a handler that answers requests itself), and
an object whose key ends in ``/`` is copied to the same key (a zero-byte one is a
console "folder" and skipped, as ``aws s3`` does).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from s3xcopy import copy_prefix


@pytest.fixture
def s3() -> Iterator[Any]:
    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    with mock_aws():
        client = boto3.session.Session(region_name="us-east-1").client("s3")
        client.create_bucket(Bucket="src")
        client.create_bucket(Bucket="dst")
        yield client


def test_bulk_copy_stays_in_the_mock_and_keeps_keys_ending_in_slash(s3: Any) -> None:
    s3.put_object(Bucket="src", Key="p/folder/", Body=b"")
    s3.put_object(Bucket="src", Key="p/data/", Body=b"bytes under a slash key")
    s3.put_object(Bucket="src", Key="p/a/b.txt", Body=b"b", Metadata={"m": "1"})

    run = copy_prefix(
        "s3://src/p/", "s3://dst/q/", session=boto3.session.Session(region_name="us-east-1")
    )
    outcomes = list(run)

    assert run.summary.failed == 0, [o.error for o in outcomes if o.error]
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="dst")["Contents"])
    assert keys == ["q/a/b.txt", "q/data/"]
    assert s3.get_object(Bucket="dst", Key="q/data/")["Body"].read() == b"bytes under a slash key"
    assert s3.head_object(Bucket="dst", Key="q/a/b.txt")["Metadata"] == {"m": "1"}
