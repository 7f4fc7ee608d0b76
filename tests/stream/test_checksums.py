"""Full-object CRCs combined from parts: equal to the CRC of the whole, in S3's encoding."""

from __future__ import annotations

import base64
import itertools
import random
import threading

import pytest

from s3xcopy.errors import InvalidInputError
from s3xcopy.stream import checksums

# Known values: S3's own checksums of b"hello" (as SeaweedFS and AWS report them).
KNOWN = [
    ("CRC32", b"hello", "NhCmhg=="),
    ("CRC32C", b"hello", "mnG7TA=="),
    ("CRC64NVME", b"hello", "M3eFcAZSQlc="),
    ("CRC32", b"", "AAAAAA=="),
    ("CRC64NVME", b"", "AAAAAAAAAAA="),
]


@pytest.mark.parametrize(("algorithm", "data", "text"), KNOWN)
def test_known_values(algorithm: str, data: bytes, text: str) -> None:
    assert checksums.encode(algorithm, checksums.crc(algorithm, data)) == text
    assert checksums.decode(algorithm, text) == checksums.crc(algorithm, data)


@pytest.mark.parametrize("algorithm", sorted(checksums.CRC_ALGORITHMS))
@pytest.mark.parametrize(
    "cuts",
    [
        [],  # one piece
        [0],  # an empty first piece
        [1, 1],  # an empty middle piece
        [7, 4096, 4097],
        [99_999],  # a one-byte last piece
    ],
)
def test_combined_parts_equal_the_whole(algorithm: str, cuts: list[int]) -> None:
    data = random.Random(7).randbytes(100_000)
    bounds = [0, *cuts, len(data)]
    pieces = [data[a:b] for a, b in itertools.pairwise(bounds)]
    combined = checksums.combine(algorithm, [(checksums.crc(algorithm, p), len(p)) for p in pieces])
    assert combined == checksums.crc(algorithm, data)


def test_part_checksums_from_threads_in_any_order() -> None:
    data = random.Random(3).randbytes(64 * 1024)
    parts = {n + 1: data[n * 4096 : (n + 1) * 4096] for n in range(16)}
    sums = checksums.PartChecksums(["CRC64NVME", "CRC32"])
    threads = [
        threading.Thread(target=sums.add, args=(n, parts[n])) for n in sorted(parts, reverse=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sums.has(16)
    assert not sums.has(17)
    for algorithm in ("CRC64NVME", "CRC32"):
        assert sums.full(algorithm, sorted(parts)) == checksums.crc(algorithm, data)
    # out of order is a different object: the order of numbers matters
    assert sums.full("CRC32", [2, 1, *range(3, 17)]) != checksums.crc("CRC32", data)


def test_record_fills_a_part_learned_elsewhere() -> None:
    sums = checksums.PartChecksums(["CRC32C"])
    sums.record(1, "CRC32C", checksums.crc("CRC32C", b"ab"), 2)
    sums.add(2, b"cd")
    assert sums.full("CRC32C", [1, 2]) == checksums.crc("CRC32C", b"abcd")


@pytest.mark.parametrize(
    ("algorithm", "text"),
    [
        ("CRC32", "not base64!"),
        ("CRC32", base64.b64encode(b"12345678").decode()),  # 8 bytes is not a CRC32
        ("CRC64NVME", "NhCmhg=="),
    ],
)
def test_decode_refuses_bad_text(algorithm: str, text: str) -> None:
    with pytest.raises(InvalidInputError):
        checksums.decode(algorithm, text)


@pytest.mark.parametrize("algorithm", ["SHA256", "SHA1", "MD5"])
def test_only_combinable_crcs(algorithm: str) -> None:
    with pytest.raises(InvalidInputError, match="not a combinable CRC"):
        checksums.PartChecksums([algorithm])


def test_field_names() -> None:
    assert checksums.field_name("CRC64NVME") == "ChecksumCRC64NVME"
    assert checksums.field_name("CRC32C") == "ChecksumCRC32C"
