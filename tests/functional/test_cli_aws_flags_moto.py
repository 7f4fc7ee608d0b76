"""aws s3 flags scripts carry over, end to end on moto with the CLI in process: ``--grants``
(the grants land on the copy by both paths) and ``--ignore-glacier-warnings``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from s3xcopy.cli import main
from s3xcopy.limits import MiB

EVERYONE = "http://acs.amazonaws.com/groups/global/AllUsers"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket="grants-src")
        client.create_bucket(Bucket="grants-dst")
        client.put_object(Bucket="grants-src", Key="small", Body=b"x" * 10)
        client.put_object(Bucket="grants-src", Key="big", Body=b"x" * (6 * MiB))
        yield client


def grants(s3: Any, key: str) -> set[tuple[str, str]]:
    answer = s3.get_object_acl(Bucket="grants-dst", Key=key)
    return {
        (g["Permission"], g["Grantee"].get("ID") or g["Grantee"].get("URI", ""))
        for g in answer["Grants"]
    }


@pytest.mark.parametrize("key", ["small", "big"])
def test_grants_land_on_the_copy_whatever_the_path(s3: Any, key: str) -> None:
    argv = [
        "cp", f"s3://grants-src/{key}", f"s3://grants-dst/{key}",
        "--multipart-threshold", "5MiB", "--part-size", "5MiB",
        "--grants", f"read=uri={EVERYONE}", "full=id=owner-canonical-id", "readacl=id=auditor",
    ]  # fmt: skip
    assert main(argv) == 0
    assert grants(s3, key) == {
        ("READ", EVERYONE),
        ("FULL_CONTROL", "owner-canonical-id"),
        ("READ_ACP", "auditor"),
    }


@pytest.mark.parametrize("ignore", [False, True])
def test_ignore_glacier_warnings(s3: Any, capsys: pytest.CaptureFixture[str], ignore: bool) -> None:
    s3.put_object(Bucket="grants-src", Key="cold/old.bin", Body=b"x", StorageClass="GLACIER")
    s3.put_object(Bucket="grants-src", Key="cold/new.bin", Body=b"y")
    argv = ["cp", "--recursive", "s3://grants-src/cold/", "s3://grants-dst/cold/"]
    assert main(argv + ["--ignore-glacier-warnings"] * ignore) == 0
    captured = capsys.readouterr()
    assert captured.out == "copy: s3://grants-src/cold/new.bin to s3://grants-dst/cold/new.bin\n"
    warned = "warning: Skipping s3://grants-src/cold/old.bin: object is of storage class GLACIER"
    assert (warned in captured.err) is not ignore
    assert "Contents" not in s3.list_objects_v2(Bucket="grants-dst", Prefix="cold/old.bin")
