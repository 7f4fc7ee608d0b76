"""S3's numbers as named constants, so no bare number in the code means a limit."""

from __future__ import annotations

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB
TiB = 1024 * GiB

#: Largest source a single CopyObject accepts (larger sources must go multipart).
MAX_COPY_OBJECT_SIZE = 5 * GiB
#: Smallest part S3 accepts, except for the last part of an upload.
MIN_PART_SIZE = 5 * MiB
#: Largest part S3 accepts.
MAX_PART_SIZE = 5 * GiB
#: Most parts one multipart upload may have.
MAX_PARTS = 10_000
#: Largest object a multipart upload can build: 10,000 parts of 5 GiB (48.8 TiB).
MAX_OBJECT_SIZE = MAX_PARTS * MAX_PART_SIZE
#: Largest x-amz-tagging header we send inline; above this tags are put after completion.
MAX_INLINE_TAGGING_BYTES = 2 * KiB
#: Most tags an object may carry.
MAX_TAGS = 10
#: Longest tag key and value, in Unicode characters (a key has at least one).
MAX_TAG_KEY_LENGTH = 128
MAX_TAG_VALUE_LENGTH = 256

#: aws s3 cp's defaults, which s3xcopy keeps as its own so scripts behave the same.
DEFAULT_MULTIPART_THRESHOLD = 8 * MiB
DEFAULT_MAX_CONCURRENCY = 10
#: Server-side requests in flight when max_concurrency is left at its default: a
#: server-side part moves no bytes through the client, and the benchmarks show
#: concurrency is the lever for large copies (README, "Part size and concurrency").
DEFAULT_COPY_CONCURRENCY = 64
#: Attempts per request (first try included) for throttling and transient faults.
DEFAULT_MAX_ATTEMPTS = 8

#: Per-prefix request rates before S3 answers 503 SlowDown.
PREFIX_WRITE_RATE = 3_500
PREFIX_READ_RATE = 5_500
