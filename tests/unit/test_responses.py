"""ListingParser gives exactly botocore's dicts for S3 listings, whatever the page holds."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

import botocore.session
import pytest
from botocore.parsers import RestXMLParser

from s3xcopy.responses import ListingParser, ListingParserFactory
from s3xcopy.timestamps import parse_timestamp

MODEL = botocore.session.get_session().get_service_model("s3")
NS = ' xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'


def item(*children: str) -> str:
    return "<Contents>" + "".join(children) + "</Contents>"


PLAIN = item(
    "<Key>data/a b+c%.csv</Key>",
    "<LastModified>2026-01-02T03:04:05.678Z</LastModified>",
    "<ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag>",
    "<Size>4096</Size>",
    "<StorageClass>STANDARD</StorageClass>",
)
FULL = item(
    "<Key>data/b</Key>",
    "<LastModified>2026-01-02T03:04:05Z</LastModified>",
    "<ETag>&quot;abc-3&quot;</ETag>",
    "<ChecksumAlgorithm>CRC64NVME</ChecksumAlgorithm>",
    "<ChecksumAlgorithm>CRC32</ChecksumAlgorithm>",
    "<ChecksumType>FULL_OBJECT</ChecksumType>",
    "<Size>0</Size>",
    "<Owner><ID>abc123</ID><DisplayName>team</DisplayName></Owner>",
    "<StorageClass>GLACIER</StorageClass>",
    "<RestoreStatus><IsRestoreInProgress>false</IsRestoreInProgress>"
    "<RestoreExpiryDate>2027-01-01T00:00:00.000Z</RestoreExpiryDate></RestoreStatus>",
)
ODD = item(
    "<Key></Key>",  # an empty element is "" for botocore, not None
    "<ETag/>",
    "<Size>12</Size>",
    "<SomethingNew>ignored by botocore</SomethingNew>",
    "<ChecksumAlgorithm>SHA256</ChecksumAlgorithm>",
)
REPEATED = item("<Key>one</Key>", "<Key>two</Key>", "<Size>1</Size>")  # botocore's own rule


def page(operation: str, *items: str, ns: str = NS) -> bytes:
    head = "ListBucketResult"
    extra = (
        "<KeyCount>2</KeyCount><ContinuationToken>t1</ContinuationToken>"
        "<NextContinuationToken>t2</NextContinuationToken><StartAfter>a</StartAfter>"
        if operation == "ListObjectsV2"
        else "<Marker>m</Marker><NextMarker>n</NextMarker>"
    )
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><{head}{ns}><Name>bucket</Name>'
        f"<Prefix>data/</Prefix>{extra}<MaxKeys>1000</MaxKeys><Delimiter>/</Delimiter>"
        f"<IsTruncated>true</IsTruncated>{''.join(items)}"
        "<CommonPrefixes><Prefix>data/sub/</Prefix></CommonPrefixes>"
        f"<EncodingType>url</EncodingType></{head}>"
    )
    return body.encode()


def parse(parser: Any, operation: str, body: bytes) -> dict[str, Any]:
    response = {
        "status_code": 200,
        "headers": {"x-amz-request-id": "r1", "x-amz-request-charged": "requester"},
        "body": body,
    }
    result: dict[str, Any] = parser.parse(response, MODEL.operation_model(operation).output_shape)
    return result


@pytest.mark.parametrize("operation", ["ListObjectsV2", "ListObjects"])
@pytest.mark.parametrize(
    "items",
    [(PLAIN,), (FULL,), (ODD,), (REPEATED,), (PLAIN, FULL, ODD, REPEATED), ()],
    ids=["plain", "every-field", "odd", "repeated-scalar", "mixed", "empty"],
)
@pytest.mark.parametrize("ns", [NS, ""], ids=["namespaced", "bare"])
def test_same_dicts_as_botocore(operation: str, items: tuple[str, ...], ns: str) -> None:
    body = page(operation, *items, ns=ns)
    ours = parse(ListingParser(timestamp_parser=parse_timestamp), operation, body)
    theirs = parse(RestXMLParser(timestamp_parser=parse_timestamp), operation, body)
    assert comparable(ours) == comparable(theirs)
    assert len(ours.get("Contents", [])) == len(items)


def comparable(value: Any) -> Any:
    """botocore leaves a repeated scalar as its XML elements: compare those by text."""
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    if isinstance(value, ElementTree.Element):
        return ("element", value.tag, value.text)
    return value


def test_the_plan_is_what_parses_listed_objects() -> None:
    """Not botocore's generic walk in disguise: the plan reads the element."""
    parser = ListingParser(timestamp_parser=parse_timestamp)
    parse(parser, "ListObjectsV2", page("ListObjectsV2", PLAIN, FULL))
    (plan,) = parser._plans.values()  # one shape planned: Object
    assert plan is not None and {"Key", "ETag", "ChecksumAlgorithm"} <= set(plan)
    assert plan["ChecksumAlgorithm"].kind == "flattened"


def test_other_answers_and_protocols_are_botocores() -> None:
    factory = ListingParserFactory()
    assert isinstance(factory.create_parser("rest-xml"), ListingParser)
    assert not isinstance(factory.create_parser("json"), ListingParser)
    body = b'<?xml version="1.0"?><Error><Code>NoSuchBucket</Code><Message>m</Message></Error>'
    response = {"status_code": 404, "headers": {}, "body": body}
    shape = MODEL.operation_model("ListObjectsV2").output_shape
    ours = ListingParser().parse(dict(response), shape)
    assert ours == RestXMLParser().parse(dict(response), shape)
