"""Full-object CRCs of streamed bytes: each part's CRC in parallel, combined in order at the end.

CRC32, CRC32C and CRC64NVME are the checksums S3 can keep over a whole multipart
object (``ChecksumType=FULL_OBJECT``). Their CRCs combine: crc(A + B) can be had
from crc(A), crc(B) and len(B), so parts may finish in any order and no byte has
to be kept once its part is sent. awscrt does the arithmetic (botocore uses it too).
"""

from __future__ import annotations

import base64
import mmap
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from awscrt import checksums as crt

from ..errors import InvalidInputError
from ..facts import CHECKSUM_FIELDS

#: Bytes a CRC can be computed over (anything with the buffer protocol awscrt takes).
Data = bytes | bytearray | memoryview | mmap.mmap
_Crc = Callable[[Any, int], int]
_Combine = Callable[[int, int, int], int]

#: algorithm -> (crc(data, previous), combine(crc1, crc2, len2), width in bytes)
_CRCS: Mapping[str, tuple[_Crc, _Combine, int]] = {
    "CRC32": (crt.crc32, crt.combine_crc32, 4),
    "CRC32C": (crt.crc32c, crt.combine_crc32c, 4),
    "CRC64NVME": (crt.crc64nvme, crt.combine_crc64nvme, 8),
}
#: Algorithms a stream can compute over a whole object while it reads.
CRC_ALGORITHMS = frozenset(_CRCS)


def _spec(algorithm: str) -> tuple[_Crc, _Combine, int]:
    try:
        return _CRCS[algorithm]
    except KeyError:
        raise InvalidInputError(f"{algorithm} is not a combinable CRC") from None


def crc(algorithm: str, data: Data) -> int:
    """The CRC of ``data`` as an integer."""
    function, _, _ = _spec(algorithm)
    return int(function(data, 0))


def combine(algorithm: str, parts: Iterable[tuple[int, int]]) -> int:
    """The CRC of consecutive pieces given as ``(crc, length)`` in order (0 for no pieces)."""
    _, combine_two, _ = _spec(algorithm)
    total = 0
    for value, length in parts:
        total = int(combine_two(total, value, length))
    return total


def encode(algorithm: str, value: int) -> str:
    """The base64 text S3 uses for a checksum (big-endian, the algorithm's width)."""
    _, _, width = _spec(algorithm)
    return base64.b64encode(value.to_bytes(width, "big")).decode("ascii")


def decode(algorithm: str, text: str) -> int:
    """The integer of a checksum as S3 spells it; bad text is an InvalidInputError."""
    _, _, width = _spec(algorithm)
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:
        raw = b""
    if len(raw) != width:
        raise InvalidInputError(f"{text!r} is not a {algorithm} checksum")
    return int.from_bytes(raw, "big")


def field_name(algorithm: str) -> str:
    """The request / answer field of an algorithm: ``ChecksumCRC64NVME``."""
    return CHECKSUM_FIELDS[algorithm]


class PartChecksums:
    """Each part's CRC for a few algorithms, recorded from worker threads, combined in order."""

    def __init__(self, algorithms: Iterable[str]) -> None:
        self.algorithms = tuple(sorted(set(algorithms)))
        for algorithm in self.algorithms:
            _spec(algorithm)
        self._lock = threading.Lock()
        self._values: dict[tuple[str, int], tuple[int, int]] = {}

    def add(self, number: int, data: Data) -> dict[str, int]:
        """Compute and record every algorithm's CRC of part ``number``; return them."""
        values = {algorithm: crc(algorithm, data) for algorithm in self.algorithms}
        with self._lock:
            for algorithm, value in values.items():
                self._values[(algorithm, number)] = (value, len(data))
        return values

    def record(self, number: int, algorithm: str, value: int, length: int) -> None:
        """Record a CRC learned elsewhere (ListParts, when resuming an upload)."""
        with self._lock:
            self._values[(algorithm, number)] = (value, length)

    def has(self, number: int, algorithms: Iterable[str] | None = None) -> bool:
        with self._lock:
            return all((a, number) in self._values for a in (algorithms or self.algorithms))

    def full(self, algorithm: str, numbers: Iterable[int]) -> int:
        """The CRC of the whole object: the parts ``numbers`` combined in that order."""
        with self._lock:
            pieces = [self._values[(algorithm, n)] for n in numbers]
        return combine(algorithm, pieces)
