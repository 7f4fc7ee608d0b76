"""CopyConfig: how to copy (thresholds, part size, concurrency, retries), validated once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .errors import InvalidInputError
from .limits import (
    DEFAULT_COPY_CONCURRENCY,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MULTIPART_THRESHOLD,
    MAX_PART_SIZE,
    MIN_PART_SIZE,
)
from .units import format_size

#: Upper bounds that keep a typo from opening thousands of sockets or retrying for hours.
MAX_CONCURRENCY_LIMIT = 1024
MAX_ATTEMPTS_LIMIT = 100

#: When to stream bytes through the client (see :mod:`s3xcopy.stream`): ``auto`` when no
#: server-side copy can serve both sides, ``always`` (``--stream``), ``never`` (``--no-stream``).
StreamMode = Literal["auto", "always", "never"]
STREAM_MODES: tuple[StreamMode, ...] = ("auto", "always", "never")


@dataclass(frozen=True)
class CopyConfig:
    """How s3xcopy copies; every field has the default ``aws s3 cp`` users expect.

    ``multipart_threshold``: objects of at least this many bytes go multipart
    (objects over 5 GiB always do). ``part_size``: bytes per part, None for the
    automatic rule in :func:`s3xcopy.planning.auto_part_size`. ``max_concurrency``:
    requests in flight for one copy. ``max_attempts``: tries per request (first
    included) on throttling and transient faults. ``verify``: compare size and
    full-object checksum after the copy. ``preflight``: probe permissions through S3
    before copying. ``fallback``: when a multipart copy is denied for a grant a
    single CopyObject does not need, copy with one CopyObject (objects <= 5 GiB).
    ``wait_for_permissions``: seconds to keep retrying AccessDenied after a policy
    change (IAM and KMS are eventually consistent); 0 means never.
    ``stream``: ``"auto"`` streams through the client (ranged GetObject with the source's
    credentials, UploadPart with the destination's) only when no server-side copy can
    serve both sides: different endpoints or partitions, or the destination identity
    cannot read the source; ``"always"`` forces it; ``"never"`` forbids it.
    ``copy_concurrency``: server-side requests in flight (UploadPartCopy parts, objects
    of a bulk copy); None: 64 while ``max_concurrency`` is at its default (10), else
    ``max_concurrency`` (see :attr:`server_side_concurrency`).
    """

    multipart_threshold: int = DEFAULT_MULTIPART_THRESHOLD
    part_size: int | None = None
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    verify: bool = True
    preflight: bool = False
    fallback: bool = True
    wait_for_permissions: float = 0.0
    stream: StreamMode = "auto"
    copy_concurrency: int | None = None

    def __post_init__(self) -> None:
        _require_int("multipart_threshold", self.multipart_threshold, minimum=0)
        if self.part_size is not None:
            _require_int("part_size", self.part_size, minimum=0)
            if not MIN_PART_SIZE <= self.part_size <= MAX_PART_SIZE:
                raise InvalidInputError(
                    f"part size {format_size(self.part_size)} is outside S3's limits "
                    f"({format_size(MIN_PART_SIZE)} to {format_size(MAX_PART_SIZE)})"
                )
        _require_int("max_concurrency", self.max_concurrency, minimum=1)
        if self.max_concurrency > MAX_CONCURRENCY_LIMIT:
            raise InvalidInputError(
                f"max_concurrency {self.max_concurrency} is above {MAX_CONCURRENCY_LIMIT}"
            )
        if self.copy_concurrency is not None:
            _require_int("copy_concurrency", self.copy_concurrency, minimum=1)
            if self.copy_concurrency > MAX_CONCURRENCY_LIMIT:
                raise InvalidInputError(
                    f"copy_concurrency {self.copy_concurrency} is above {MAX_CONCURRENCY_LIMIT}"
                )
        _require_int("max_attempts", self.max_attempts, minimum=1)
        if self.max_attempts > MAX_ATTEMPTS_LIMIT:
            raise InvalidInputError(
                f"max_attempts {self.max_attempts} is above {MAX_ATTEMPTS_LIMIT}"
            )
        for name in ("verify", "preflight", "fallback"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidInputError(f"{name} must be True or False")
        if (
            isinstance(self.wait_for_permissions, bool)
            or not isinstance(self.wait_for_permissions, int | float)
            or self.wait_for_permissions < 0
        ):
            raise InvalidInputError("wait_for_permissions must be a number of seconds >= 0")
        if self.stream not in STREAM_MODES:
            raise InvalidInputError(
                f"stream must be one of {', '.join(STREAM_MODES)}, got {self.stream!r}"
            )

    @property
    def server_side_concurrency(self) -> int:
        """Server-side requests in flight: a part copied by S3 costs the client no bytes.

        ``copy_concurrency`` when given; else 64 while ``max_concurrency`` is left at
        aws s3 cp's 10 (the benchmarks' rule), else ``max_concurrency`` (a cap a caller
        chose holds everywhere). Streams keep ``max_concurrency``: their parts are bytes
        in this process's memory.
        """
        if self.copy_concurrency is not None:
            return self.copy_concurrency
        if self.max_concurrency == DEFAULT_MAX_CONCURRENCY:
            return DEFAULT_COPY_CONCURRENCY
        return self.max_concurrency


def _require_int(name: str, value: object, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"{name} must be a whole number, got {value!r}")
    if value < minimum:
        raise InvalidInputError(f"{name} must be at least {minimum}, got {value}")
