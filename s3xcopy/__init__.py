"""s3xcopy: resilient S3-to-S3 copy that names the missing grant when AWS says Access Denied."""

from __future__ import annotations

from .api import copy_object
from .bulk import BulkRun, BulkSummary, ObjectOutcome, copy_prefix, sync_prefix
from .config import CopyConfig
from .errors import (
    AccessDeniedError,
    CopyInterruptedError,
    InvalidInputError,
    NotFoundError,
    S3xCopyError,
    SourceChangedError,
    VerificationError,
)
from .findings import Finding
from .location import S3Location
from .results import CopyResult

__version__ = "0.1.0"

__all__ = [
    "AccessDeniedError",
    "BulkRun",
    "BulkSummary",
    "CopyConfig",
    "CopyInterruptedError",
    "CopyResult",
    "Finding",
    "InvalidInputError",
    "NotFoundError",
    "ObjectOutcome",
    "S3Location",
    "S3xCopyError",
    "SourceChangedError",
    "VerificationError",
    "__version__",
    "copy_object",
    "copy_prefix",
    "sync_prefix",
]
