"""The MD5 check of streamed bytes: which ETags are MD5s, and hashing parts in order."""

from __future__ import annotations

import hashlib
import threading
from typing import Any

import pytest

from s3xcopy import CopyInterruptedError, S3Location
from s3xcopy.facts import SourceFacts, content_md5
from s3xcopy.stream.copier import OrderedMd5

MD5 = "9e107d9d372bb6826bd81d3542a419d6"


@pytest.mark.parametrize(
    ("etag", "extra", "on_aws", "expected"),
    [
        (f'"{MD5}"', {}, False, MD5),
        (f'"{MD5.upper()}"', {}, True, MD5),
        (f'"{MD5}"', {"server_side_encryption": "AES256"}, True, MD5),  # SSE-S3: AWS says so
        (f'"{MD5}"', {"server_side_encryption": "AES256"}, False, None),  # elsewhere: unsure
        (f'"{MD5}"', {"server_side_encryption": "aws:kms"}, True, None),
        (f'"{MD5}"', {"server_side_encryption": "aws:kms:dsse"}, True, None),
        (f'"{MD5}"', {"sse_customer_algorithm": "AES256"}, True, None),
        (f'"{MD5}-3"', {}, True, None),  # a multipart upload's ETag
        ('"not-an-md5"', {}, True, None),
    ],
)
def test_which_etags_are_the_md5_of_the_bytes(
    etag: str, extra: dict[str, Any], on_aws: bool, expected: str | None
) -> None:
    facts = SourceFacts(S3Location("b", "k"), 10, etag, **extra)
    assert content_md5(facts, on_aws=on_aws) == expected


def test_parts_fed_in_any_order_are_hashed_in_order() -> None:
    parts = [bytes([n]) * (1000 + n) for n in range(8)]
    digest = OrderedMd5(len(parts))
    threads = [
        threading.Thread(target=digest.feed, args=(n + 1, data, lambda: False))
        for n, data in reversed(list(enumerate(parts)))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not any(thread.is_alive() for thread in threads)
    assert digest.hexdigest() == hashlib.md5(b"".join(parts), usedforsecurity=False).hexdigest()


def test_a_stopped_copy_releases_the_parts_waiting_their_turn() -> None:
    digest = OrderedMd5(3)
    stop = threading.Event()
    failed: list[BaseException] = []

    def third() -> None:
        try:
            digest.feed(3, b"c", stop.is_set)
        except CopyInterruptedError as exc:
            failed.append(exc)

    waiting = threading.Thread(target=third)
    waiting.start()
    digest.feed(1, b"a", stop.is_set)  # part 2 never comes: its copy failed
    stop.set()
    waiting.join(timeout=10)
    assert not waiting.is_alive()
    assert len(failed) == 1
    assert digest.hexdigest() is None  # not every part was hashed: nothing to compare
