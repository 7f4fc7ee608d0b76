"""Send one S3 request with retries, events and error translation; every engine call goes here.

Errors leave this module as S3xCopyError subclasses with the S3 API name as
``operation`` and the botocore error as ``__cause__``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol, cast

from botocore import xform_name
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    ParamValidationError,
    PartialCredentialsError,
    ProfileNotFound,
)

from .errors import (
    AccessDeniedError,
    InvalidInputError,
    NotFoundError,
    S3xCopyError,
    SourceChangedError,
)
from .events import Listener, RequestRetried
from .retry import RetryPolicy, error_code, is_throttling

#: Codes that mean "refused": missing grants, explicit denies, bad or expired credentials.
DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "403",
        "AllAccessDisabled",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "InvalidToken",
        "TokenRefreshRequired",
        "AccountProblem",
    }
)
#: STS's codes for credentials it does not accept (asked who we are while diagnosing).
STS_CREDENTIAL_CODES = frozenset(
    {"ExpiredToken", "InvalidClientTokenId", "SignatureDoesNotMatch", "InvalidToken"}
)
NOT_FOUND_CODES = frozenset({"NoSuchKey", "NoSuchBucket", "NoSuchVersion", "404", "NoSuchUpload"})
CHANGED_CODES = frozenset({"PreconditionFailed", "412"})
BAD_INPUT_CODES = frozenset(
    {
        "InvalidArgument",
        "InvalidStorageClass",
        "InvalidBucketName",
        "KeyTooLongError",
        "AccessControlListNotSupported",
        "InvalidEncryptionAlgorithmError",
        "InvalidTag",
    }
)


class RequestGate(Protocol):
    """A shared budget of requests in flight (and of their rate), across copies.

    ``acquire`` blocks until a request may be sent; ``release`` returns the slot and
    says whether the server throttled it, so an adaptive gate can slow down.
    """

    def acquire(self, operation: str, bucket: str, key: str) -> None: ...

    def release(self, operation: str, bucket: str, key: str, *, throttled: bool) -> None: ...


_BOTOCORE_RETRIES = re.compile(r" \(reached max retries: \d+\)")


def describe_error(exc: BaseException) -> str:
    """botocore's familiar one-line text, e.g. ``An error occurred (AccessDenied) when ...``.

    botocore's "(reached max retries: 0)" is dropped: its retries are off, ours are counted.
    """
    return _BOTOCORE_RETRIES.sub("", " ".join(str(exc).split())) or type(exc).__name__


def aws_message(error: BaseException) -> str:
    """The service's own error message (``Access Denied``), without botocore's framing."""
    cause = error.__cause__ if isinstance(error, S3xCopyError) else error
    if isinstance(cause, ClientError):
        return str(cause.response.get("Error", {}).get("Message") or "")
    return str(error)


def translate(exc: BaseException, operation: str | None) -> S3xCopyError:
    """Map a botocore error to the s3xcopy error a caller can act on (cause kept by caller)."""
    message = describe_error(exc)
    if isinstance(exc, ClientError):
        code = error_code(exc)
        if code in DENIED_CODES:
            return AccessDeniedError(message, operation=operation, code=code)
        if code in NOT_FOUND_CODES:
            return NotFoundError(message, operation=operation, code=code)
        if code in CHANGED_CODES:
            return SourceChangedError(message, operation=operation, code=code)
        if code in BAD_INPUT_CODES:
            return InvalidInputError(message, operation=operation, code=code)
        return S3xCopyError(message, operation=operation, code=code)
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return AccessDeniedError(
            "no usable AWS credentials found (set AWS_PROFILE or --profile, or the "
            "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY environment variables)",
            operation=operation,
            code=type(exc).__name__,
        )
    if isinstance(exc, ProfileNotFound | ParamValidationError):
        return InvalidInputError(message, operation=operation, code=type(exc).__name__)
    if isinstance(exc, S3xCopyError):
        return exc
    return S3xCopyError(message, operation=operation, code=type(exc).__name__)


class Caller:
    """Sends requests on one client: retries, gate, retry events, error translation.

    ``senders`` send some operations in place of the client's own methods (the lean
    CopyObject of :mod:`s3xcopy.wire`); they answer and fail as the client would.
    """

    def __init__(
        self,
        client: Any,
        policy: RetryPolicy,
        *,
        listener: Listener | None = None,
        gate: RequestGate | None = None,
        cancel: threading.Event | None = None,
        senders: Mapping[str, Callable[..., Mapping[str, Any]]] | None = None,
    ) -> None:
        self.client = client
        self.policy = policy
        self.listener = listener
        self.gate = gate
        self.cancel = cancel
        self.senders = dict(senders or {})

    def __call__(
        self, operation: str, *, abandon: threading.Event | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Send ``operation`` (an S3 API name such as ``"UploadPartCopy"``) with ``kwargs``.

        Retries stop early when ``abandon`` (this copy is failing) or the caller-wide
        ``cancel`` (everything is stopping) is set.
        """
        method = self.senders.get(operation) or cast(
            Callable[..., Mapping[str, Any]], getattr(self.client, xform_name(operation))
        )
        bucket, key = str(kwargs.get("Bucket", "")), str(kwargs.get("Key", ""))

        def on_retry(exc: BaseException, attempt: int, delay: float) -> None:
            if (self.cancel is not None and self.cancel.is_set()) or (
                abandon is not None and abandon.is_set()
            ):
                raise exc  # stop retrying: the copy is being cancelled
            if self.listener is not None:
                self.listener(RequestRetried(operation, attempt, error_code(exc), delay))

        try:  # the first attempt needs no retry machinery: most requests succeed at once
            return dict(self._send_once(method, operation, bucket, key, kwargs))
        except (ClientError, BotoCoreError) as exc:
            failed: list[BaseException] = [exc]

        def attempt() -> Mapping[str, Any]:
            if failed:  # tenacity judges the first attempt's failure as if it had sent it
                raise failed.pop()
            return self._send_once(method, operation, bucket, key, kwargs)

        retrying = self.policy.retrying(on_retry)
        try:
            return dict(retrying(attempt))
        except (ClientError, BotoCoreError) as exc:
            error = translate(exc, operation)
            attempts = retrying.statistics.get("attempt_number", 1)
            if attempts > 1:
                error.message += f" (after {attempts} attempts)"
                error.args = (error.message,)
            raise error from exc

    def _send_once(
        self,
        method: Callable[..., Mapping[str, Any]],
        operation: str,
        bucket: str,
        key: str,
        kwargs: Mapping[str, Any],
    ) -> Mapping[str, Any]:
        if self.gate is None:
            return method(**kwargs)
        self.gate.acquire(operation, bucket, key)
        throttled = False
        try:
            return method(**kwargs)
        except ClientError as exc:
            throttled = is_throttling(exc)
            raise
        finally:
            self.gate.release(operation, bucket, key, throttled=throttled)
