"""Which errors are transient, which are refused, and what each becomes for the caller."""

from __future__ import annotations

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
    SSLError,
)

from s3xcopy import (
    AccessDeniedError,
    InvalidInputError,
    NotFoundError,
    S3xCopyError,
    SourceChangedError,
)
from s3xcopy.calls import translate
from s3xcopy.retry import is_access_denied, is_throttling, is_transient


def client_error(code: str, status: int, message: str = "m") -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        "UploadPartCopy",
    )


@pytest.mark.parametrize(
    ("error", "transient", "throttling", "denied"),
    [
        (client_error("SlowDown", 503), True, True, False),
        (client_error("ServiceUnavailable", 503), True, True, False),
        (client_error("InternalError", 500), True, False, False),
        (client_error("RequestTimeout", 400), True, False, False),
        (client_error("KMS.ThrottlingException", 400), True, True, False),
        (client_error("Weird", 502), True, False, False),
        (client_error("AccessDenied", 403), False, False, True),
        (client_error("403", 403, "Forbidden"), False, False, True),
        (client_error("NoSuchKey", 404), False, False, False),
        (client_error("PreconditionFailed", 412), False, False, False),
        (client_error("InvalidRequest", 400), False, False, False),
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), True, False, False),
        (ConnectTimeoutError(endpoint_url="http://127.0.0.1:1"), True, False, False),
        (ReadTimeoutError(endpoint_url="http://127.0.0.1:1"), True, False, False),
        (SSLError(endpoint_url="https://x", error="bad cert"), False, False, False),
        (ValueError("not botocore"), False, False, False),
    ],
)
def test_classification(
    error: BaseException, transient: bool, throttling: bool, denied: bool
) -> None:
    assert is_transient(error) is transient
    assert is_throttling(error) is throttling
    assert is_access_denied(error) is denied


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (client_error("AccessDenied", 403), AccessDeniedError),
        (client_error("InvalidAccessKeyId", 403), AccessDeniedError),
        (client_error("ExpiredToken", 400), AccessDeniedError),
        (client_error("NoSuchBucket", 404), NotFoundError),
        (client_error("404", 404), NotFoundError),
        (client_error("PreconditionFailed", 412), SourceChangedError),
        (client_error("InvalidStorageClass", 400), InvalidInputError),
        (client_error("AccessControlListNotSupported", 400), InvalidInputError),
        (client_error("SlowDown", 503), S3xCopyError),
        (NoCredentialsError(), AccessDeniedError),
        (ProfileNotFound(profile="nope"), InvalidInputError),
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), S3xCopyError),
    ],
)
def test_translate(error: BaseException, expected: type[S3xCopyError]) -> None:
    translated = translate(error, "UploadPartCopy")
    assert type(translated) is expected
    assert translated.operation == "UploadPartCopy"
    assert "\n" not in str(translated)
    assert "reached max retries" not in str(translated)
