"""Per-prefix token buckets: the modelled S3 answers 503 SlowDown beyond a prefix's rate."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class PrefixThrottle:
    """One token bucket per (kind, prefix): ``rate`` tokens a second, at most ``burst`` saved.

    ``rate == 0`` disables the limit. The clock is injectable so tests never sleep.
    """

    def __init__(
        self,
        rate: float,
        burst_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate * burst_seconds)
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def allow(self, prefix: str) -> bool:
        """Take one token from ``prefix``'s bucket; False when it is empty (SlowDown)."""
        if self.rate <= 0:
            return True
        now = self._clock()
        bucket = self._buckets.get(prefix)
        if bucket is None:
            bucket = self._buckets[prefix] = _Bucket(self.capacity, now)
        else:
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return True
        return False

    def reset(self) -> None:
        """Forget every bucket (all prefixes start full again)."""
        self._buckets.clear()


def key_prefix(bucket: str, key: str) -> str:
    """The partition a key's requests count against: the bucket and the key's "directory".

    Real S3 partitions adaptively on key prefixes of any length; the model takes each
    directory (the key up to its last ``/``) as one partition that never splits.
    """
    cut = key.rfind("/")
    return f"{bucket}/{key[: cut + 1]}" if cut >= 0 else f"{bucket}/"
