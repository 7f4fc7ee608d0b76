"""The lean CopyObject sender (s3xcopy.wire) against botocore's own, on a real S3 server.

The lean sender must be the same request with the same answer: the destination object,
the parsed answer and the errors must be what ``client.copy_object`` gives, and a
request shape it cannot reproduce exactly must be left to botocore.
"""

from __future__ import annotations

import datetime as dt
import socket
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from s3xcopy.clients import s3_client
from s3xcopy.seaweed import SeaweedServer
from s3xcopy.wire import LeanCopyObject, Sent, same_request

pytestmark = pytest.mark.seaweed

REPLACED: dict[str, Any] = {
    "MetadataDirective": "REPLACE",
    "Metadata": {"pipeline": "nightly", "owner": "data-team"},
    "ContentType": "application/x-parquet",
    "ContentDisposition": 'attachment; filename="part.parquet"',
    "ContentLanguage": "fr-CA",
    "CacheControl": "max-age=3600",
    "Expires": dt.datetime(2031, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc),
    "TaggingDirective": "REPLACE",
    "Tagging": "classification=internal&retention=90d",
}
HEAD_FIELDS = (
    "ContentLength",
    "ETag",
    "Metadata",
    "ContentType",
    "ContentDisposition",
    "ContentLanguage",
    "CacheControl",
    "Expires",
)


def client_for(seaweed: SeaweedServer, session: boto3.session.Session, **kwargs: Any) -> Any:
    return s3_client(session, endpoint_url=kwargs.get("endpoint_url", seaweed.endpoint_url))


def facts(s3: Any, bucket: str, key: str) -> dict[str, Any]:
    head = s3.head_object(Bucket=bucket, Key=key)
    found = {name: head.get(name) for name in HEAD_FIELDS}
    tags = s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
    found["Tags"] = sorted((t["Key"], t["Value"]) for t in tags)
    return found


@pytest.mark.parametrize("extra", [{}, REPLACED], ids=["copied-properties", "replaced"])
def test_lean_copy_is_botocores_copy(
    seaweed: SeaweedServer,
    seaweed_session: boto3.session.Session,
    s3: Any,
    make_bucket: Any,
    extra: dict[str, Any],
) -> None:
    src, dst = make_bucket("wsrc"), make_bucket("wdst")
    s3.put_object(
        Bucket=src,
        Key="in/a.bin",
        Body=b"x" * 4096,
        Metadata={"origin": "a"},
        ContentType="text/csv",
        Tagging="k=v",
    )
    client = client_for(seaweed, seaweed_session)
    lean = LeanCopyObject.for_client(client, seaweed_session.get_credentials())
    assert lean is not None
    source = {"Bucket": src, "Key": "in/a.bin"}

    route = lean.route(Bucket=dst, Key="lean", CopySource=source, **extra)
    assert route is not None and route.native  # the shape was learnt: sent over awscrt
    ours = lean(Bucket=dst, Key="lean", CopySource=source, **extra)
    theirs = client.copy_object(Bucket=dst, Key="botocore", CopySource=source, **extra)

    assert ours["CopyObjectResult"]["ETag"] == theirs["CopyObjectResult"]["ETag"]
    assert isinstance(ours["CopyObjectResult"]["LastModified"], dt.datetime)
    assert facts(s3, dst, "lean") == facts(s3, dst, "botocore")
    assert s3.get_object(Bucket=dst, Key="lean")["Body"].read() == b"x" * 4096

    lean.close()  # idle connections closed; the sender reconnects when used again
    again = lean(Bucket=dst, Key="after-close", CopySource=source, **extra)
    assert again["CopyObjectResult"]["ETag"] == theirs["CopyObjectResult"]["ETag"]


def test_lean_errors_are_botocores_errors(
    seaweed: SeaweedServer, seaweed_session: boto3.session.Session, make_bucket: Any
) -> None:
    src, dst = make_bucket("wsrc"), make_bucket("wdst")
    client = client_for(seaweed, seaweed_session)
    lean = LeanCopyObject.for_client(client, seaweed_session.get_credentials())
    assert lean is not None
    args = {"Bucket": dst, "Key": "k", "CopySource": {"Bucket": src, "Key": "missing"}}

    with pytest.raises(ClientError) as botocore_error:
        client.copy_object(**args)
    with pytest.raises(ClientError) as lean_error:
        lean(**args)

    assert type(lean_error.value) is type(botocore_error.value)
    ours, theirs = lean_error.value.response, botocore_error.value.response
    assert ours["Error"] == theirs["Error"]
    assert (
        ours["ResponseMetadata"]["HTTPStatusCode"] == theirs["ResponseMetadata"]["HTTPStatusCode"]
    )


def test_a_shape_botocore_builds_differently_is_sent_by_botocore(
    seaweed: SeaweedServer, seaweed_session: boto3.session.Session, s3: Any, make_bucket: Any
) -> None:
    """A handler only botocore runs (here: one adding a header) fails the fidelity check."""
    src, dst = make_bucket("wsrc"), make_bucket("wdst")
    s3.put_object(Bucket=src, Key="a", Body=b"abc")
    client = client_for(seaweed, seaweed_session)
    sent: list[str] = []

    def add_header(request: Any, **kwargs: Any) -> None:
        request.headers["x-amz-metadata-directive"] = "REPLACE"
        request.headers["x-amz-meta-added-by-hook"] = "yes"

    def count(request: Any, **kwargs: Any) -> None:
        sent.append(request.url)

    client.meta.events.register("before-sign.s3.CopyObject", add_header)
    client.meta.events.register("before-send.s3.CopyObject", count)
    lean = LeanCopyObject.for_client(client, seaweed_session.get_credentials())
    assert lean is not None
    args = {"Bucket": dst, "Key": "k", "CopySource": {"Bucket": src, "Key": "a"}}

    assert lean.route(**args) is None
    lean(**args)

    assert sent  # botocore sent it, hooks and all
    assert s3.head_object(Bucket=dst, Key="k")["Metadata"] == {"added-by-hook": "yes"}


def test_an_unreachable_endpoint_raises_botocores_connection_error(
    seaweed_session: boto3.session.Session,
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = s3_client(seaweed_session, endpoint_url=f"http://127.0.0.1:{port}")
    lean = LeanCopyObject.for_client(client, seaweed_session.get_credentials())
    assert lean is not None
    args = {"Bucket": "b", "Key": "k", "CopySource": {"Bucket": "s", "Key": "a"}}
    assert lean.route(**args) is not None  # learnt locally: nothing was sent

    with pytest.raises(EndpointConnectionError):
        lean(**args)


def _sent(headers: dict[str, str]) -> Sent:
    return Sent("PUT", "http://h/b/k", headers, b"")


AUTH = (
    "AWS4-HMAC-SHA256 Credential=AK/20261201/us-east-1/s3/aws4_request, "
    "SignedHeaders=host;x-amz-copy-source;x-amz-date, Signature={sig}"
)


def test_same_request_ignores_only_the_time_of_signing() -> None:
    base = {"x-amz-copy-source": "s/a", "x-amz-date": "20261201T000000Z"}
    reference = _sent({**base, "Authorization": AUTH.format(sig="aa")})
    later = _sent(
        {**base, "x-amz-date": "20261201T000001Z", "Authorization": AUTH.format(sig="bb")}
    )
    assert same_request(reference, later)

    other_header = _sent({**base, "x-amz-acl": "private", "Authorization": AUTH.format(sig="bb")})
    assert not same_request(reference, other_header)
    other_scope = _sent(
        {**base, "Authorization": AUTH.format(sig="bb").replace("us-east-1", "eu-west-1")}
    )
    assert not same_request(reference, other_scope)
    fewer_signed = _sent({**base, "Authorization": AUTH.format(sig="bb").replace("host;", "")})
    assert not same_request(reference, fewer_signed)
