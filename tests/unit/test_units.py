"""Sizes as aws s3 accepts them: a table of what parses and what does not."""

from __future__ import annotations

import pytest

from s3xcopy.limits import GiB, KiB, MiB, TiB
from s3xcopy.units import format_size, parse_size


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("0", 0),
        ("1048576", MiB),
        ("8MB", 8 * MiB),
        ("8mb", 8 * MiB),
        ("64MiB", 64 * MiB),
        ("1.5GB", 3 * GiB // 2),
        ("10 KB", 10 * KiB),
        ("1TiB", TiB),
        ("5b", 5),
    ],
)
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "MB", "-1MB", "8XB", "1.5", "0.1KB", "8 M B"])
def test_parse_size_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="invalid size"):
        parse_size(text)


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (512, "512 B"),
        (MiB, "1.0 MiB"),
        (64 * MiB, "64.0 MiB"),
        (3 * GiB // 2, "1.5 GiB"),
    ],
)
def test_format_size(size: int, text: str) -> None:
    assert format_size(size) == text
