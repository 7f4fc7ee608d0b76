"""The lean sender reads CopyObject answers as botocore does: results, and errors in a 200.

S3 may answer a copy 200 and put an ``<Error>`` (or a cut-off document) in the body;
botocore's rule makes that a 500 to retry. The answers here are handed to the lean
sender's parse directly: no server, no network.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.awsrequest import HeadersDict
from botocore.exceptions import ClientError
from botocore.parsers import RestXMLParser

from s3xcopy.timestamps import parse_timestamp
from s3xcopy.wire import Answer, LeanCopyObject

from .stubbed import lean_sender, offline_client

COPY_BODY = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<CopyObjectResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    b"<LastModified>2026-12-01T00:00:00.000Z</LastModified><ETag>&quot;d&quot;</ETag>"
    b"<ChecksumCRC64NVME>AAAAAAAAAAA=</ChecksumCRC64NVME></CopyObjectResult>"
)
ERROR_BODY = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code>'
    b"<Message>We encountered an internal error. Please try again.</Message></Error>"
)
HEADERS = {"x-amz-request-id": "r1", "x-amz-id-2": "h1", "x-amz-version-id": "v1"}


@pytest.fixture
def lean() -> LeanCopyObject:
    return lean_sender(offline_client("http://127.0.0.1:9"))


def answer(body: bytes, status: int = 200) -> Answer:
    return Answer(status, HeadersDict(HEADERS), body)


def test_a_copied_answer_is_botocores_dict(lean: LeanCopyObject) -> None:
    ours = lean._parse(answer(COPY_BODY), {})
    shape = lean._model.output_shape
    response = {"status_code": 200, "headers": HeadersDict(HEADERS), "body": COPY_BODY}
    theirs = RestXMLParser(timestamp_parser=parse_timestamp).parse(response, shape)
    theirs["ResponseMetadata"]["RetryAttempts"] = 0
    assert ours == theirs
    assert ours["CopyObjectResult"]["ChecksumCRC64NVME"] == "AAAAAAAAAAA="


@pytest.mark.parametrize(
    "body",
    [ERROR_BODY, COPY_BODY[:-20], b"<CopyObjectResult><ETag>"],
    ids=["error-document", "cut-off-copy-result", "cut-off-early"],
)
def test_an_error_in_a_200_is_a_server_error(lean: LeanCopyObject, body: bytes) -> None:
    with pytest.raises(ClientError) as raised:
        lean._parse(answer(body), {})
    error: Any = raised.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 500  # retried as a server error
    if body is ERROR_BODY:
        assert error["Error"]["Code"] == "InternalError"


def test_an_empty_200_is_an_empty_result_as_in_botocore(lean: LeanCopyObject) -> None:
    parsed = lean._parse(answer(b""), {})
    assert parsed["CopyObjectResult"] == {} and parsed["VersionId"] == "v1"


def test_native_answer_headers_parse_as_botocores(lean: LeanCopyObject) -> None:
    """The native transport's headers (lower-case names, repeats joined) parse the same."""
    from s3xcopy.wire import _headers_dict

    pairs = [
        ("X-Amz-Request-Id", "r1"), ("x-amz-id-2", "h1"), ("X-Amz-Version-Id", "v1"),
        ("X-Amz-Server-Side-Encryption-Bucket-Key-Enabled", "true"),
        ("x-amz-expiration", "a"), ("X-Amz-Expiration", "b"),
    ]  # fmt: skip
    native = _headers_dict(pairs)
    assert native["x-amz-expiration"] == "a, b" and "X-Amz-Request-Id" not in native
    ours = lean._parse(Answer(200, native, COPY_BODY), {})
    case_insensitive = HeadersDict({"X-Amz-Expiration": "a, b"})
    for name, value in pairs[:4]:
        case_insensitive[name] = value
    theirs = lean._parse(Answer(200, case_insensitive, COPY_BODY), {})
    assert ours == theirs
    assert ours["BucketKeyEnabled"] is True and ours["Expiration"] == "a, b"
