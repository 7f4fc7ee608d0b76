"""Which objects ``sync`` copies: ``aws s3 sync``'s rules for S3 to S3, plus checksums.

Pure: two listed objects in, a verdict out. ``aws s3 sync`` copies an object that
is missing at the destination, whose size differs, or whose source was modified
after the destination was written. ``--size-only`` looks at sizes alone.
``--exact-timestamps`` changes nothing for S3-to-S3 (aws-cli applies it to downloads
only: a copy's LastModified is the time of the copy and can never equal the
source's), and is accepted so scripts keep working. ``--checksum`` compares the
objects' full-object checksums (e.g. CRC64NVME) when both sides have one of the same
algorithm, and falls back to the default rule when they do not.
"""

from __future__ import annotations

import enum
from typing import Literal

from ..facts import Checksum
from .listing import ListedObject

SyncMode = Literal["default", "size-only", "exact-timestamps", "checksum"]
SYNC_MODES: tuple[SyncMode, ...] = ("default", "size-only", "exact-timestamps", "checksum")


class Verdict(enum.Enum):
    COPY = "copy"
    SKIP = "skip"
    #: Sizes agree; the checksums decide (both sides need a HeadObject).
    CHECK = "check"


def decide(source: ListedObject, dest: ListedObject | None, mode: SyncMode) -> tuple[Verdict, str]:
    """Copy, skip or check checksums, with the reason in a few words."""
    if dest is None:
        return Verdict.COPY, "not at the destination"
    if source.size != dest.size:
        return Verdict.COPY, f"size differs ({source.size} != {dest.size})"
    if mode == "size-only":
        return Verdict.SKIP, "same size"
    if mode == "checksum":
        return Verdict.CHECK, "same size"
    return by_time(source, dest)


def by_time(source: ListedObject, dest: ListedObject) -> tuple[Verdict, str]:
    """The default rule once sizes agree: copy when the source is newer than the destination."""
    if source.last_modified > dest.last_modified:
        return Verdict.COPY, "source is newer"
    return Verdict.SKIP, "same size, destination not older"


def by_checksum(
    source: ListedObject,
    dest: ListedObject,
    source_checksum: Checksum | None,
    dest_checksum: Checksum | None,
) -> tuple[Verdict, str]:
    """``--checksum``: equal full-object checksums skip, different ones copy; else by time."""
    if (
        source_checksum is not None
        and dest_checksum is not None
        and source_checksum.comparable_with(dest_checksum)
    ):
        if source_checksum.value == dest_checksum.value:
            return Verdict.SKIP, f"same {source_checksum.algorithm}"
        return Verdict.COPY, f"{source_checksum.algorithm} differs"
    verdict, reason = by_time(source, dest)
    return verdict, reason + " (no comparable checksums)"
