"""S3 can answer CopyObject / UploadPartCopy with 200 and an error in the body: retried.

botocore turns such an answer into a 500 (its own retries are off on s3xcopy's
clients), so s3xcopy's retry policy sees a transient fault and sends it again.
The answers come from a before-send hook: no server, no network.
"""

from __future__ import annotations

from typing import Any

from botocore.awsrequest import AWSResponse

from s3xcopy import CopyConfig, S3Location
from s3xcopy.engine import CopyEngine
from s3xcopy.events import Event, RequestRetried

from .stubbed import offline_client


class _Raw:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, *args: Any, **kwargs: Any) -> Any:
        yield self._data

    def read(self, *args: Any, **kwargs: Any) -> bytes:
        data, self._data = self._data, b""
        return data


ERROR_BODY = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code>'
    b"<Message>We encountered an internal error. Please try again.</Message></Error>"
)
COPY_BODY = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<CopyObjectResult>'
    b"<ETag>&quot;d&quot;</ETag><LastModified>2026-12-01T00:00:00.000Z</LastModified>"
    b"</CopyObjectResult>"
)


def test_copy_object_200_with_error_body_is_retried() -> None:
    client = offline_client("http://127.0.0.1:9")
    answers = {"CopyObject": [ERROR_BODY, COPY_BODY]}
    sent: list[str] = []

    def respond(request: Any, **kwargs: Any) -> AWSResponse:
        operation = kwargs["event_name"].rsplit(".", 1)[-1]
        sent.append(operation)
        if operation == "HeadObject":
            etag = '"d"' if "dst-bucket" in request.url else '"e"'
            headers = {"Content-Length": "10", "ETag": etag}
            return AWSResponse(request.url, 200, headers, _Raw(b""))
        return AWSResponse(request.url, 200, {}, _Raw(answers[operation].pop(0)))

    client.meta.events.register("before-send.s3", respond)
    events: list[Event] = []
    engine = CopyEngine(client, config=CopyConfig(), listener=events.append, sleep=lambda _: None)
    result = engine.copy(S3Location("src-bucket", "k"), S3Location("dst-bucket", "k"))
    assert result.etag == '"d"'
    assert sent == ["HeadObject", "CopyObject", "CopyObject", "HeadObject"]
    retried = [e for e in events if isinstance(e, RequestRetried)]
    assert [(e.operation, e.code) for e in retried] == [("CopyObject", "InternalError")]
