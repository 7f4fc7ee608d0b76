"""Request classification and access-key extraction, as a table (pure)."""

from __future__ import annotations

import pytest

from s3xcopy.lab.protocol import access_key_of, parse_request, s3_error_xml
from s3xcopy.location import S3Location

AUTH = {
    "authorization": "AWS4-HMAC-SHA256 "
    "Credential=AKIALABEC2ROLE000001/20261201/us-east-1/s3/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=abc"
}
COPY = {**AUTH, "x-amz-copy-source": "/src-bucket/dir/a%20b.bin?versionId=v1"}


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "operation"),
    [
        ("GET", "/", "", AUTH, "ListBuckets"),
        ("GET", "/b-1", "list-type=2&prefix=x", AUTH, "ListObjectsV2"),
        ("GET", "/b-1", "", AUTH, "ListObjects"),
        ("GET", "/b-1", "versions", AUTH, "ListObjectVersions"),
        ("GET", "/b-1", "uploads", AUTH, "ListMultipartUploads"),
        ("GET", "/b-1", "location", AUTH, "GetBucketLocation"),
        ("GET", "/b-1", "encryption", AUTH, "GetBucketEncryption"),
        ("GET", "/b-1", "policy", AUTH, "GetBucketPolicy"),
        ("GET", "/b-1", "acl", AUTH, "Unsupported"),
        ("HEAD", "/b-1", "", AUTH, "HeadBucket"),
        ("PUT", "/b-1", "", AUTH, "CreateBucket"),
        ("PUT", "/b-1", "policy", AUTH, "Unsupported"),
        ("DELETE", "/b-1", "", AUTH, "DeleteBucket"),
        ("POST", "/b-1", "delete", AUTH, "DeleteObjects"),
        ("HEAD", "/b-1/k", "", AUTH, "HeadObject"),
        ("GET", "/b-1/k", "", AUTH, "GetObject"),
        ("GET", "/b-1/k", "tagging", AUTH, "GetObjectTagging"),
        ("GET", "/b-1/k", "acl", AUTH, "GetObjectAcl"),
        ("GET", "/b-1/k", "attributes", AUTH, "GetObjectAttributes"),
        ("GET", "/b-1/k", "uploadId=u1", AUTH, "ListParts"),
        ("PUT", "/b-1/k", "", AUTH, "PutObject"),
        ("PUT", "/b-1/k", "", COPY, "CopyObject"),
        ("PUT", "/b-1/k", "partNumber=1&uploadId=u1", AUTH, "UploadPart"),
        ("PUT", "/b-1/k", "partNumber=1&uploadId=u1", COPY, "UploadPartCopy"),
        ("PUT", "/b-1/k", "tagging", AUTH, "PutObjectTagging"),
        ("PUT", "/b-1/k", "retention", AUTH, "Unsupported"),
        ("POST", "/b-1/k", "uploads", AUTH, "CreateMultipartUpload"),
        ("POST", "/b-1/k", "uploadId=u1", AUTH, "CompleteMultipartUpload"),
        ("DELETE", "/b-1/k", "uploadId=u1", AUTH, "AbortMultipartUpload"),
        ("DELETE", "/b-1/k", "tagging", AUTH, "DeleteObjectTagging"),
        ("DELETE", "/b-1/k", "versionId=v2", AUTH, "DeleteObject"),
    ],
)
def test_classify(
    method: str, path: str, query: str, headers: dict[str, str], operation: str
) -> None:
    request = parse_request(method, path, query, headers)
    assert request.service == "s3"
    assert request.operation == operation


def test_keys_copy_sources_and_versions() -> None:
    request = parse_request("PUT", "/dst-bucket/dir%2Fx/a%2Bb.bin", "partNumber=2&uploadId=u", COPY)
    assert (request.bucket, request.key) == ("dst-bucket", "dir/x/a+b.bin")
    assert request.copy_source == S3Location("src-bucket", "dir/a b.bin", "v1")
    assert parse_request("GET", "/b-1/k", "versionId=v9", AUTH).target == S3Location(
        "b-1", "k", "v9"
    )


def test_virtual_hosted_style() -> None:
    request = parse_request("GET", "/a/b.txt", "", {**AUTH, "host": "my-bucket.localhost:9000"})
    assert (request.bucket, request.key, request.operation) == ("my-bucket", "a/b.txt", "GetObject")


def test_sts_and_kms_share_the_endpoint() -> None:
    sts = {
        "authorization": AUTH["authorization"].replace("/s3/", "/sts/"),
        "content-type": "application/x-www-form-urlencoded",
    }
    assert parse_request("POST", "/", "", sts).service == "sts"
    kms = {**AUTH, "x-amz-target": "TrentService.DescribeKey"}
    request = parse_request("POST", "/", "", kms)
    assert (request.service, request.operation) == ("kms", "TrentService.DescribeKey")


@pytest.mark.parametrize(
    ("headers", "query", "expected"),
    [
        (AUTH, {}, ("AKIALABEC2ROLE000001", "s3")),
        (
            {},
            {"X-Amz-Credential": "AKIALABPRESIGNED0001/20261201/us-east-1/s3/aws4_request"},
            ("AKIALABPRESIGNED0001", "s3"),
        ),
        ({"authorization": "AWS AKIALABSIGV2000001:c2ln"}, {}, ("AKIALABSIGV2000001", "s3")),
        ({}, {}, (None, "s3")),
    ],
)
def test_access_key_of(
    headers: dict[str, str], query: dict[str, str], expected: tuple[str | None, str]
) -> None:
    assert access_key_of(headers, query) == expected


def test_error_document_shape() -> None:
    body = s3_error_xml("AccessDenied", "Access Denied", "REQ123", "HOST/ID+=")
    assert body == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
        b"<Message>Access Denied</Message><RequestId>REQ123</RequestId>"
        b"<HostId>HOST/ID+=</HostId></Error>"
    )
