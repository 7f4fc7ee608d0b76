"""PlannedParser gives exactly botocore's dicts for S3 listings, whatever the page holds."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

import botocore.session
import pytest
from botocore.parsers import RestXMLParser

from s3xcopy.responses import PlannedParser, PlannedParserFactory
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
    ours = parse(PlannedParser(timestamp_parser=parse_timestamp), operation, body)
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
    parser = PlannedParser(timestamp_parser=parse_timestamp)
    parse(parser, "ListObjectsV2", page("ListObjectsV2", PLAIN, FULL))
    (plan,) = parser._plans.values()  # one shape planned: Object
    assert plan is not None and {"Key", "ETag", "ChecksumAlgorithm"} <= set(plan)
    assert plan["ChecksumAlgorithm"].kind == "flattened"


def test_other_answers_and_protocols_are_botocores() -> None:
    factory = PlannedParserFactory()
    assert isinstance(factory.create_parser("rest-xml"), PlannedParser)
    assert not isinstance(factory.create_parser("json"), PlannedParser)
    body = b'<?xml version="1.0"?><Error><Code>NoSuchBucket</Code><Message>m</Message></Error>'
    response = {"status_code": 404, "headers": {}, "body": body}
    shape = MODEL.operation_model("ListObjectsV2").output_shape
    ours = PlannedParser().parse(dict(response), shape)
    assert ours == RestXMLParser().parse(dict(response), shape)


# --- CopyObject answers: the planned result and header plan ----------------------------

COPY_RESULT = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<CopyObjectResult{ns}>'
    "<LastModified>2026-12-01T10:11:12.000Z</LastModified>"
    "<ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag>{extra}</CopyObjectResult>"
)
CHECKSUMS = (
    "<ChecksumType>FULL_OBJECT</ChecksumType><ChecksumCRC64NVME>AAAAAAAAAAA=</ChecksumCRC64NVME>"
)
ODD_RESULT = "<ChecksumCRC32></ChecksumCRC32><SomethingNew>x</SomethingNew>"
PLAIN_HEADERS = {"x-amz-request-id": "r1", "x-amz-id-2": "h1", "Content-Type": "application/xml"}
KMS_HEADERS = {
    **PLAIN_HEADERS,
    "x-amz-version-id": "v2",
    "x-amz-copy-source-version-id": "v1",
    "x-amz-server-side-encryption": "aws:kms",
    "x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:us-east-1:1:key/k",
    "x-amz-server-side-encryption-context": "eyJhIjoiYiJ9",
    "x-amz-server-side-encryption-bucket-key-enabled": "true",
    "x-amz-expiration": 'expiry-date="Fri, 01 Jan 2027 00:00:00 GMT", rule-id="r"',
    "x-amz-request-charged": "requester",
}
SSEC_HEADERS = {  # the model spells it ...-key-MD5; servers send any case
    "X-Amz-Request-Id": "r2",
    "x-amz-server-side-encryption-customer-algorithm": "AES256",
    "X-AMZ-SERVER-SIDE-ENCRYPTION-CUSTOMER-KEY-MD5": "bWQ1",
    "x-amz-server-side-encryption-bucket-key-enabled": "false",
}


def copy_answer(parser: Any, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    from botocore.awsrequest import HeadersDict

    response = {"status_code": 200, "headers": HeadersDict(headers), "body": body}
    shape = MODEL.operation_model("CopyObject").output_shape
    result: dict[str, Any] = parser.parse(response, shape)
    return result


@pytest.mark.parametrize(
    "headers", [PLAIN_HEADERS, KMS_HEADERS, SSEC_HEADERS, {}], ids=["plain", "kms", "ssec", "none"]
)
@pytest.mark.parametrize(
    "extra", ["", CHECKSUMS, ODD_RESULT], ids=["etag-only", "checksums", "odd"]
)
@pytest.mark.parametrize("ns", [NS, ""], ids=["namespaced", "bare"])
def test_copy_answers_are_botocores_dicts(headers: dict[str, str], extra: str, ns: str) -> None:
    body = COPY_RESULT.format(ns=ns, extra=extra).encode()
    ours = copy_answer(PlannedParser(timestamp_parser=parse_timestamp), headers, body)
    theirs = copy_answer(RestXMLParser(timestamp_parser=parse_timestamp), headers, body)
    assert ours == theirs
    assert ours["CopyObjectResult"]["ETag"] == '"9b2cf535f27731c974343645a3985328"'


def test_the_plans_are_what_parse_a_copy_answer() -> None:
    parser = PlannedParser(timestamp_parser=parse_timestamp)
    parsed = copy_answer(parser, KMS_HEADERS, COPY_RESULT.format(ns=NS, extra="").encode())
    assert parsed["BucketKeyEnabled"] is True and parsed["VersionId"] == "v2"
    (headers,) = [plan for plan in parser._header_plans.values() if plan]
    assert ("x-amz-server-side-encryption-customer-key-md5", "SSECustomerKeyMD5") in {
        (header, member.name) for header, member in headers
    }
    assert any(plan is not None and "ETag" in plan for plan in parser._plans.values())


def test_a_header_map_is_botocores_walk() -> None:
    """HeadObject's Metadata (a header map, names as sent) is left to botocore."""
    from botocore.awsrequest import HeadersDict

    headers = HeadersDict({"x-amz-meta-Team": "a", "Content-Length": "3", "ETag": '"e"'})
    response = {"status_code": 200, "headers": headers, "body": b""}
    shape = MODEL.operation_model("HeadObject").output_shape
    parser = PlannedParser(timestamp_parser=parse_timestamp)
    ours = parser.parse(dict(response), shape)
    assert ours == RestXMLParser(timestamp_parser=parse_timestamp).parse(dict(response), shape)
    assert ours["Metadata"] == {"Team": "a"} and ours["ContentLength"] == 3
    assert parser._header_plans[id(shape)] is None


def test_a_body_read_first_is_parsed_once() -> None:
    parser = PlannedParser(timestamp_parser=parse_timestamp)
    body = COPY_RESULT.format(ns=NS, extra=CHECKSUMS).encode()
    calls: list[bytes] = []
    real = parser._parse_xml_string_to_dom

    def counted(xml: bytes) -> Any:
        calls.append(xml)
        return real(xml)

    parser._parse_xml_string_to_dom = counted  # type: ignore[method-assign]
    root = parser.read_dom(body)
    assert root.tag.endswith("CopyObjectResult")
    first = copy_answer(parser, PLAIN_HEADERS, body)
    assert len(calls) == 1  # the read's parse was reused ...
    again = copy_answer(parser, PLAIN_HEADERS, body)
    assert len(calls) == 2  # ... once: the next parse reads the body itself
    assert first == again
    parser.read_dom(body)  # read, then another body parsed: that body, not the read one
    other = copy_answer(parser, PLAIN_HEADERS, body.replace(b"9b2c", b"0000"))
    assert other["CopyObjectResult"]["ETag"].startswith('"0000')
    assert len(calls) == 4
