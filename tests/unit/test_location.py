"""S3Location.parse as a table: what parses to what, and what is refused (with why)."""

from __future__ import annotations

import pytest

from s3xcopy import InvalidInputError, S3Location


@pytest.mark.parametrize(
    ("uri", "bucket", "key", "version"),
    [
        ("s3://bucket/key", "bucket", "key", None),
        ("s3://bucket/a/b/c.txt", "bucket", "a/b/c.txt", None),
        ("s3://bucket", "bucket", "", None),
        ("s3://bucket/", "bucket", "", None),
        ("s3://bucket/prefix/", "bucket", "prefix/", None),
        ("s3://bucket/key?versionId=3HL4kqtJlcpXroDTDmJ", "bucket", "key", "3HL4kqtJlcpXroDTDmJ"),
        ("s3://bucket/what?.txt", "bucket", "what?.txt", None),
        ("s3://bucket/a?b=c", "bucket", "a?b=c", None),
        ("s3://bucket/with space+plus%25", "bucket", "with space+plus%25", None),
        ("s3://bucket/ünïcødé/日本", "bucket", "ünïcødé/日本", None),
        ("s3://my.dotted-bucket/k", "my.dotted-bucket", "k", None),
        (
            "s3://arn:aws:s3:us-west-2:123456789012:accesspoint/my-ap/some/key",
            "arn:aws:s3:us-west-2:123456789012:accesspoint/my-ap",
            "some/key",
            None,
        ),
    ],
)
def test_parse(uri: str, bucket: str, key: str, version: str | None) -> None:
    loc = S3Location.parse(uri)
    assert (loc.bucket, loc.key, loc.version_id) == (bucket, key, version)


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("", "empty"),
        ("bucket/key", "not an S3 URI"),
        ("/tmp/file", "not an S3 URI"),
        ("s3:/bucket/key", "not an S3 URI"),
        ("s3://", "no bucket"),
        ("s3:///key", "no bucket"),
        ("s3://a/key", "invalid bucket name"),
        ("s3://-bad-/key", "invalid bucket name"),
        ("s3://bad bucket/key", "invalid bucket name"),
        ("s3://bucket?versionId=abc", "without a key"),
        ("s3://bucket/" + "k" * 1025, "1024-byte"),
    ],
)
def test_parse_refuses(uri: str, reason: str) -> None:
    with pytest.raises(InvalidInputError, match=reason) as info:
        S3Location.parse(uri)
    assert isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)


def test_round_trip_and_arns() -> None:
    loc = S3Location.parse("s3://bucket/dir/key?versionId=v1")
    assert str(loc) == "s3://bucket/dir/key?versionId=v1"
    assert loc.copy_source() == {"Bucket": "bucket", "Key": "dir/key", "VersionId": "v1"}
    assert loc.object_arn() == "arn:aws:s3:::bucket/dir/key"
    assert loc.bucket_arn("aws-cn") == "arn:aws-cn:s3:::bucket"
    assert loc.basename == "key"
    assert S3Location.parse("s3://b1b/p/").join("x") == S3Location("b1b", "p/x")
    assert S3Location.parse("s3://b1b/p/").is_prefix
