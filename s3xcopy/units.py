"""Human sizes: parse ``8MB`` / ``64MiB`` / ``1048576`` and print bytes back readably."""

from __future__ import annotations

import re

from .limits import GiB, KiB, MiB, TiB

_UNITS = {
    "": 1,
    "b": 1,
    "k": KiB, "kb": KiB, "kib": KiB,
    "m": MiB, "mb": MiB, "mib": MiB,
    "g": GiB, "gb": GiB, "gib": GiB,
    "t": TiB, "tb": TiB, "tib": TiB,
}  # fmt: skip
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_size(text: str) -> int:
    """Parse a size as ``aws s3`` does: ``8MB`` and ``8MiB`` are both 8 * 1024**2 bytes.

    Raises ValueError with a one-line reason on anything else.
    """
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"invalid size {text!r}: expected bytes or a number with KB/MB/GB/TB")
    number, unit = match.groups()
    factor = _UNITS.get(unit.lower())
    if factor is None:
        raise ValueError(f"invalid size {text!r}: unknown unit {unit!r}")
    value = float(number) * factor
    if value != int(value):
        raise ValueError(f"invalid size {text!r}: not a whole number of bytes")
    return int(value)


def format_size(size: int) -> str:
    """Format bytes the way people read them: ``64.0 MiB``, ``1.5 GiB``, ``512 B``."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")
