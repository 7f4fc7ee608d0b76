"""The modelled S3's cost shape: its parameters, their sources, and pure lower bounds.

Everything here is arithmetic, no I/O, so the harness can print "(c) vs lower bound"
and the tests can check the numbers as a table. The server (``server.py``) charges
exactly these costs, so a client that is perfect for its part size and concurrency
meets the bound and no client can beat it.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import asdict, dataclass
from typing import Any

from ..limits import (
    MAX_COPY_OBJECT_SIZE,
    MAX_PART_SIZE,
    MAX_PARTS,
    MIN_PART_SIZE,
    PREFIX_READ_RATE,
    PREFIX_WRITE_RATE,
)

#: Bytes in the "MB" of a rate: AWS quotes throughput in decimal megabytes.
MB = 1_000_000

# --- Defaults, each with where it comes from and how sure we are -------------------------
#
# Per-request latency, 20 ms. Source: AWS whitepaper "Best Practices Design Patterns:
# Optimizing Amazon S3 Performance", section "Timeouts and Retries for Latency-Sensitive
# Applications" (also in the S3 User Guide's performance design patterns): for small
# requests (< 512 KB) "median latencies are often in the tens of milliseconds". 20 ms is
# the low end of "tens"; in-region HEAD/PUT of small objects are commonly observed at
# 10-40 ms. Confidence: medium (a range, not a number). The model charges it once per
# request, before the response, whatever the operation.
DEFAULT_LATENCY_MS = 20.0
#
# Server-side copy rate per request (CopyObject / UploadPartCopy), 90 MB/s. AWS publishes
# no per-request copy rate. The nearest published figure is the S3 User Guide's
# "Performance design patterns for Amazon S3" (horizontal scaling and request
# parallelization): "Make one concurrent request for each 85-90 MB/s of desired network
# throughput" (byte-range GETs to EC2, 8-16 MB ranges). We assume a copy request moves
# bytes inside S3 at about the rate one request moves them out of it. Observed
# single-request CopyObject rates vary widely (tens to a few hundred MB/s by object,
# Region and load). Confidence: low; it is the parameter to vary (--copy-rate-mbps).
DEFAULT_COPY_RATE_MBPS = 90.0
#
# Per-prefix request rates, 3,500 writes (PUT/COPY/POST/DELETE) and 5,500 reads
# (GET/HEAD) per second. Source: S3 User Guide, "Best practices design patterns:
# optimizing Amazon S3 performance": "at least 3,500 PUT/COPY/POST/DELETE or 5,500
# GET/HEAD requests per second per partitioned Amazon S3 prefix". Confidence: high for
# the baseline; S3 raises it for a prefix under sustained load (the 503 SlowDown
# knowledge-center article says it scales "in the background"), which a short benchmark
# does not see, so the model never raises it.
DEFAULT_WRITE_RPS = float(PREFIX_WRITE_RATE)
DEFAULT_READ_RPS = float(PREFIX_READ_RATE)
#
# Token-bucket depth, 1 second of the rate. Not published: S3 documents no burst
# allowance. One second lets a client start at full speed and then holds it to the rate.
# Confidence: low (assumption).
DEFAULT_BURST_SECONDS = 1.0


@dataclass(frozen=True)
class ModelParams:
    """The modelled S3's cost shape and limits; every field is a command-line flag."""

    latency_ms: float = DEFAULT_LATENCY_MS
    copy_rate_mbps: float = DEFAULT_COPY_RATE_MBPS
    write_rps: float = DEFAULT_WRITE_RPS
    read_rps: float = DEFAULT_READ_RPS
    burst_seconds: float = DEFAULT_BURST_SECONDS
    min_part_size: int = MIN_PART_SIZE
    max_part_size: int = MAX_PART_SIZE
    max_parts: int = MAX_PARTS
    max_copy_object_size: int = MAX_COPY_OBJECT_SIZE

    def __post_init__(self) -> None:
        if self.latency_ms < 0:
            raise ValueError("latency_ms must be >= 0")
        if self.copy_rate_mbps <= 0:
            raise ValueError("copy_rate_mbps must be > 0")
        if self.write_rps < 0 or self.read_rps < 0:
            raise ValueError("request rates must be >= 0 (0 means unlimited)")
        if self.burst_seconds <= 0:
            raise ValueError("burst_seconds must be > 0")
        if not 0 < self.min_part_size <= self.max_part_size:
            raise ValueError("need 0 < min_part_size <= max_part_size")
        if self.max_parts < 1:
            raise ValueError("max_parts must be >= 1")

    @property
    def latency(self) -> float:
        """Per-request latency in seconds."""
        return self.latency_ms / 1000.0

    @property
    def copy_rate(self) -> float:
        """Server-side copy rate of one request in bytes per second."""
        return self.copy_rate_mbps * MB

    def copy_seconds(self, nbytes: int) -> float:
        """How long one CopyObject / UploadPartCopy of ``nbytes`` takes (latency + bytes/rate)."""
        return self.latency + nbytes / self.copy_rate

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def part_sizes(size: int, part_size: int) -> list[int]:
    """The sizes of the parts a copy of ``size`` bytes in ``part_size`` pieces makes."""
    if part_size <= 0:
        raise ValueError("part_size must be > 0")
    if size <= 0:
        return [0]
    full, rest = divmod(size, part_size)
    return [part_size] * full + ([rest] if rest else [])


def makespan(durations: list[float], workers: int) -> float:
    """Finish time of jobs taken in order by ``workers`` workers, each job to the first free.

    This is what a client with a pool of ``workers`` does with its part list.
    """
    if workers < 1:
        raise ValueError("workers must be >= 1")
    free_at = [0.0] * min(workers, max(1, len(durations)))
    heapq.heapify(free_at)
    end = 0.0
    for duration in durations:
        start = heapq.heappop(free_at)
        finish = start + duration
        end = max(end, finish)
        heapq.heappush(free_at, finish)
    return end


def rate_floor(requests: int, rps: float, burst_seconds: float) -> float:
    """Least time ``requests`` requests on one prefix take under its token bucket."""
    if rps <= 0:
        return 0.0
    burst = rps * burst_seconds
    return max(0.0, (requests - burst) / rps)


def copy_lower_bound(
    size: int,
    *,
    part_size: int | None,
    concurrency: int,
    params: ModelParams | None = None,
    head: bool = True,
) -> float:
    """Least seconds any client needs on the model to copy one object of ``size`` bytes.

    ``part_size=None`` means one CopyObject (only up to 5 GiB). Otherwise: one
    CreateMultipartUpload, the UploadPartCopy requests with at most ``concurrency`` in
    flight, one CompleteMultipartUpload, each request paying the latency and each copy
    its bytes at the copy rate. ``head`` adds the HeadObject every client sends first to
    learn the size. Throttling on the destination prefix is a floor of its own.
    """
    p = params or ModelParams()
    first = p.latency if head else 0.0
    if part_size is None:
        if size > p.max_copy_object_size:
            raise ValueError("a single CopyObject cannot copy more than 5 GiB")
        return first + p.copy_seconds(size)
    sizes = part_sizes(size, part_size)
    parts = makespan([p.copy_seconds(s) for s in sizes], concurrency)
    throttled = rate_floor(len(sizes) + 2, p.write_rps, p.burst_seconds)
    return first + p.latency + max(parts, throttled) + p.latency


def bulk_copy_lower_bound(
    count: int,
    size: int,
    *,
    concurrency: int,
    params: ModelParams | None = None,
    list_page: int = 1000,
) -> float:
    """Least seconds any client needs to copy ``count`` objects of ``size`` bytes (CopyObject each).

    The listing (one ListObjectsV2 page per ``list_page`` keys) can overlap the copies,
    so the bound is the larger of the listing, the copies with ``concurrency`` in
    flight, and the destination prefix's write rate.
    """
    p = params or ModelParams()
    listing = math.ceil(max(count, 1) / list_page) * p.latency
    copies = math.ceil(count / max(concurrency, 1)) * p.copy_seconds(size)
    throttled = rate_floor(count, p.write_rps, p.burst_seconds)
    return max(listing, p.latency + max(copies, throttled))
