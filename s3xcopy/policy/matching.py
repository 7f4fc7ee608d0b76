"""Wildcard matching as IAM does it: ``*`` and ``?`` in actions, resources, ARNs and strings.

Actions match case-insensitively; resources and string conditions case-sensitively.
``ArnLike`` compares the six colon-separated components of an ARN one by one, so a
``*`` in the resource component never swallows the account or the region.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["action_matches", "arn_like", "wildcard_match"]


@lru_cache(maxsize=4096)
def _compile(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    parts = []
    for char in pattern:
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile("".join(parts), flags)


def wildcard_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """True when ``value`` matches ``pattern`` (``*`` any run, ``?`` one character)."""
    if pattern == "*":
        return True
    if "*" not in pattern and "?" not in pattern:
        return pattern.lower() == value.lower() if ignore_case else pattern == value
    return _compile(pattern, ignore_case).fullmatch(value) is not None


def action_matches(pattern: str, action: str) -> bool:
    """True when an Action element entry (``s3:Get*``, ``kms:*``, ``*``) covers ``action``."""
    return wildcard_match(pattern, action, ignore_case=True)


def arn_like(pattern: str, value: str) -> bool:
    """ArnLike / ArnEquals: component-wise wildcard match of two ARNs (six components)."""
    if pattern == "*":
        return True
    pattern_parts = pattern.split(":", 5)
    value_parts = value.split(":", 5)
    if len(pattern_parts) != 6 or len(value_parts) != 6:
        return False
    return all(wildcard_match(p, v) for p, v in zip(pattern_parts, value_parts, strict=True))
