"""What a bulk run reports: one ObjectOutcome per object, one BulkSummary at the end."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ..errors import S3xCopyError
from ..findings import Finding
from ..results import CopyResult

Action = Literal["copy", "delete"]
#: ``dryrun``: would have been done; ``interrupted``: not finished because the run was stopped.
Status = Literal["copied", "deleted", "skipped", "failed", "dryrun", "interrupted"]
#: The reason of an object skipped because its storage class is archived (S3 cannot copy it).
ARCHIVED = "archived"


@dataclass(frozen=True)
class ObjectOutcome:
    """What happened to one object of a bulk run."""

    action: Action
    status: Status
    #: ``s3://bucket/key`` of the source (None for a delete).
    source: str | None
    dest: str
    size: int | None
    #: Why it was copied, skipped or deleted, in a few words.
    reason: str | None = None
    result: CopyResult | None = None
    error: S3xCopyError | None = None
    #: Something the user should see even though nothing failed (e.g. an archived object).
    warning: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the CLI's ``--json`` lines build on it)."""
        record: dict[str, Any] = {
            "action": self.action,
            "status": self.status,
            "source": self.source,
            "dest": self.dest,
            "size": self.size,
            "reason": self.reason,
        }
        if self.warning is not None:
            record["warning"] = self.warning
        if self.result is not None:
            record["result"] = self.result.to_dict()
        if self.error is not None:
            record["error"] = {
                "code": self.error.code,
                "message": self.error.message,
                "operation": self.error.operation,
            }
        return record


@dataclass(frozen=True)
class BulkSummary:
    """Totals of a bulk run. In a dry run, ``objects``/``bytes``/``deleted`` are what would be."""

    #: Objects copied.
    objects: int
    #: Bytes copied (server-side: no byte passed through this machine).
    bytes: int
    skipped: int
    #: Objects whose copy (or delete) failed.
    failed: int
    deleted: int
    seconds: float
    #: Objects listed under the source prefix, before filters (console folder markers aside).
    listed: int = 0
    #: Failures that were access denied (all of them: the CLI exits 3).
    denied: int = 0
    #: Destination keys ``--delete`` left alone because some copy failed or the run stopped.
    delete_skipped: int = 0
    dryrun: bool = False
    interrupted: bool = False
    #: A failure of the run as a whole (a listing failed, the destination bucket is missing).
    error: S3xCopyError | None = None
    #: Each distinct finding met by any object, once.
    findings: tuple[Finding, ...] = ()
    #: Requests S3 answered with throttling (SlowDown), and the lowest rate the gate set.
    throttled: int = 0
    lowest_rate: float | None = None
    rate_before_throttling: float | None = None

    @property
    def throughput(self) -> float:
        """Bytes copied per second."""
        return self.bytes / self.seconds if self.seconds > 0 else 0.0

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.error is None and not self.interrupted

    def to_dict(self) -> dict[str, Any]:
        return {
            "objects": self.objects,
            "bytes": self.bytes,
            "skipped": self.skipped,
            "failed": self.failed,
            "deleted": self.deleted,
            "seconds": round(self.seconds, 3),
            "throughput": round(self.throughput, 1),
            "listed": self.listed,
            "denied": self.denied,
            "delete_skipped": self.delete_skipped,
            "dryrun": self.dryrun,
            "interrupted": self.interrupted,
            "error": None
            if self.error is None
            else {
                "code": self.error.code,
                "message": self.error.message,
                "operation": self.error.operation,
            },
            "findings": [f.to_dict() for f in self.findings],
            "throttled": self.throttled,
            "lowest_rate": None if self.lowest_rate is None else round(self.lowest_rate, 1),
            "rate_before_throttling": None
            if self.rate_before_throttling is None
            else round(self.rate_before_throttling, 1),
        }
