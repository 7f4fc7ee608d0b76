"""One exception root, ``S3xCopyError``; subclasses also subclass the matching built-in.

Callers can catch ``PermissionError`` / ``FileNotFoundError`` / ``ValueError`` without
knowing s3xcopy, or ``S3xCopyError`` to catch everything s3xcopy raises on purpose.
The botocore error that caused one is always kept as ``__cause__``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .findings import Finding


class S3xCopyError(Exception):
    """Root of every error s3xcopy raises on purpose.

    ``operation`` is the S3 API that failed (``"UploadPartCopy"``) or None when the
    failure was not an API call; ``code`` is S3's error code when there was one;
    ``findings`` are the diagnosed causes (empty when nothing was diagnosed).
    """

    def __init__(
        self,
        message: str,
        *,
        operation: str | None = None,
        code: str | None = None,
        findings: Sequence[Finding] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.operation = operation
        self.code = code
        self.findings: tuple[Finding, ...] = tuple(findings)

    def __str__(self) -> str:
        return self.message


class AccessDeniedError(S3xCopyError, PermissionError):
    """AWS refused a request: a missing grant, an explicit deny, or bad credentials."""


class SourceChangedError(S3xCopyError):
    """The source object changed (its ETag no longer matches) while it was being copied."""


class NotFoundError(S3xCopyError, FileNotFoundError):
    """The source object, its version, or a bucket does not exist."""


class InvalidInputError(S3xCopyError, ValueError):
    """Bad input: a malformed URI, an impossible size, a flag combination that cannot work."""


class VerificationError(S3xCopyError):
    """The destination does not match the source after the copy (size or checksum)."""


class CopyInterruptedError(S3xCopyError):
    """The copy was interrupted (Ctrl-C or a signal); open uploads were aborted or journaled."""
