"""Retry policy: which errors are transient, and how long to wait, composed from tenacity.

botocore's own retries are switched off on s3xcopy's clients (see clients.py), so
each request is retried here and only here: one budget of attempts, full-jitter
exponential backoff, and a sleep that tests replace so they never really sleep.
AccessDenied is not transient; it is retried only while waiting for a policy change
to propagate (``wait_for_permissions``), and then by time, not by attempts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import tenacity
from botocore.exceptions import (
    ClientError,
    HTTPClientError,
    IncompleteReadError,
    SSLError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

#: Error codes that mean "slow down" (S3's SlowDown, KMS's throttling relayed by S3, ...).
THROTTLING_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "KMS.ThrottlingException",
        "503",
    }
)
#: Error codes of faults that pass: throttling, and the server's own transient failures.
TRANSIENT_CODES = THROTTLING_CODES | {
    "ServiceUnavailable",
    "InternalError",
    "RequestTimeout",
    "RequestTimeoutException",
    "OperationAborted",
    "500",
    "502",
    "504",
}
TRANSIENT_STATUS = frozenset({500, 502, 503, 504})
ACCESS_DENIED_CODES = frozenset({"AccessDenied", "403", "AllAccessDisabled"})

#: First backoff ceiling and the cap, in seconds (full jitter: each wait is uniform in 0..ceiling).
BACKOFF_BASE = 0.1
BACKOFF_MAX = 20.0


def error_code(exc: BaseException) -> str:
    """S3's error code for a ClientError ('SlowDown'), the class name for anything else."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code") or "")
    return type(exc).__name__


def http_status(exc: BaseException) -> int | None:
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return int(status) if status is not None else None
    return None


def is_transient(exc: BaseException) -> bool:
    """Throttling, 5xx, timeouts and dropped connections: worth sending again."""
    if isinstance(exc, ClientError):
        return error_code(exc) in TRANSIENT_CODES or http_status(exc) in TRANSIENT_STATUS
    if isinstance(exc, SSLError):  # a certificate problem does not pass by waiting
        return False
    return isinstance(exc, HTTPClientError | BotoConnectionError | IncompleteReadError)


def is_throttling(exc: BaseException) -> bool:
    """The server asked us to slow down (S3 SlowDown, KMS throttling via S3)."""
    return isinstance(exc, ClientError) and (
        error_code(exc) in THROTTLING_CODES or http_status(exc) == 503
    )


def is_access_denied(exc: BaseException) -> bool:
    return isinstance(exc, ClientError) and error_code(exc) in ACCESS_DENIED_CODES


RetryHook = Callable[[BaseException, int, float], None]


@dataclass(frozen=True)
class RetryPolicy:
    """How one request is retried. ``sleep`` is injectable so tests never really sleep."""

    max_attempts: int
    wait_for_permissions: float = 0.0
    sleep: Callable[[float], None] = time.sleep
    backoff_base: float = BACKOFF_BASE
    backoff_max: float = BACKOFF_MAX

    def _retryable(self, exc: BaseException) -> bool:
        return is_transient(exc) or (self.wait_for_permissions > 0 and is_access_denied(exc))

    def _stop(self, state: tenacity.RetryCallState) -> bool:
        outcome = state.outcome
        exc = outcome.exception() if outcome is not None else None
        if exc is not None and is_access_denied(exc):
            # Waiting for IAM/KMS to propagate is bounded by time slept, not attempts.
            return state.idle_for >= self.wait_for_permissions
        return state.attempt_number >= self.max_attempts

    def retrying(self, on_retry: RetryHook | None = None) -> tenacity.Retrying:
        """A tenacity ``Retrying`` for one request; ``on_retry(exc, attempt, delay)`` is told."""

        def before_sleep(state: tenacity.RetryCallState) -> None:
            if on_retry is not None and state.outcome is not None:
                exc = state.outcome.exception()
                delay = state.next_action.sleep if state.next_action else 0.0
                if exc is not None:
                    on_retry(exc, state.attempt_number, delay)

        return tenacity.Retrying(
            stop=self._stop,
            wait=tenacity.wait_random_exponential(
                multiplier=self.backoff_base, max=self.backoff_max
            ),
            retry=tenacity.retry_if_exception(self._retryable),
            sleep=self.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
