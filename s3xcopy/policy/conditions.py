"""Condition blocks: every IAM operator family, ``...IfExists`` and the set qualifiers.

A request context maps condition keys (case-insensitive) to one or more string
values; :func:`make_context` builds one. Semantics follow the IAM reference:
a missing key makes a positive operator false and a negated one (``StringNotEquals``,
``NotIpAddress``, ``ArnNotLike``...) true; ``IfExists`` makes a missing key pass;
``ForAllValues`` passes on a missing key, ``ForAnyValue`` fails. Policy variables
(``${aws:username}``, ``${*}``, ``${?}``, ``${$}``) are substituted from the context.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone

from .document import Condition
from .matching import arn_like, wildcard_match

__all__ = [
    "Context",
    "condition_holds",
    "first_failing_condition",
    "make_context",
    "substitute_variables",
]

#: Condition keys (lower-case) to their values.
Context = Mapping[str, tuple[str, ...]]

ContextValue = str | bool | int | float | Iterable[str]


def make_context(values: Mapping[str, ContextValue | None]) -> dict[str, tuple[str, ...]]:
    """Normalize ``{"aws:SourceIp": "10.0.0.1", "aws:ViaAWSService": True, ...}`` to a Context.

    Keys are lower-cased (IAM compares them case-insensitively); booleans become
    ``"true"``/``"false"``; None drops the key (absent from the request).
    """
    context: dict[str, tuple[str, ...]] = {}
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            context[key.lower()] = ("true" if value else "false",)
        elif isinstance(value, (int, float, str)):
            context[key.lower()] = (str(value),)
        else:
            context[key.lower()] = tuple(str(v) for v in value)
    return context


_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def substitute_variables(text: str, context: Context) -> str | None:
    """Replace ``${key}`` with the context value; None when a variable is missing (no match)."""
    if "${" not in text:
        return text
    missing = False

    def replace(match: re.Match[str]) -> str:
        nonlocal missing
        inner = match.group(1).strip()
        if inner in ("*", "?", "$"):
            return inner
        key, _, default = inner.partition(",")
        values = context.get(key.strip().lower())
        if values and len(values) == 1:
            return values[0]
        default = default.strip()
        if len(default) >= 2 and default[0] == default[-1] == "'":
            return default[1:-1]
        missing = True
        return ""

    result = _VARIABLE.sub(replace, text)
    return None if missing else result


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _date(text: str) -> float | None:
    number = _number(text)
    if number is not None:
        return number
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def _numeric(compare: Callable[[float, float], bool]) -> Callable[[str, str], bool]:
    def test(actual: str, expected: str) -> bool:
        a, e = _number(actual), _number(expected)
        return a is not None and e is not None and compare(a, e)

    return test


def _dated(compare: Callable[[float, float], bool]) -> Callable[[str, str], bool]:
    def test(actual: str, expected: str) -> bool:
        a, e = _date(actual), _date(expected)
        return a is not None and e is not None and compare(a, e)

    return test


def _ip(actual: str, expected: str) -> bool:
    try:
        return ipaddress.ip_address(actual) in ipaddress.ip_network(expected, strict=False)
    except ValueError:
        return False


_POSITIVE: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda a, e: a == e,
    "StringEqualsIgnoreCase": lambda a, e: a.lower() == e.lower(),
    "StringLike": lambda a, e: wildcard_match(e, a),
    "NumericEquals": _numeric(lambda a, e: a == e),
    "NumericLessThan": _numeric(lambda a, e: a < e),
    "NumericLessThanEquals": _numeric(lambda a, e: a <= e),
    "NumericGreaterThan": _numeric(lambda a, e: a > e),
    "NumericGreaterThanEquals": _numeric(lambda a, e: a >= e),
    "DateEquals": _dated(lambda a, e: a == e),
    "DateLessThan": _dated(lambda a, e: a < e),
    "DateLessThanEquals": _dated(lambda a, e: a <= e),
    "DateGreaterThan": _dated(lambda a, e: a > e),
    "DateGreaterThanEquals": _dated(lambda a, e: a >= e),
    "Bool": lambda a, e: a.lower() == e.lower(),
    "BinaryEquals": lambda a, e: a == e,
    "IpAddress": _ip,
    "ArnEquals": lambda a, e: arn_like(e, a),
    "ArnLike": lambda a, e: arn_like(e, a),
}
#: Negated operators and the positive test they negate.
_NEGATED: dict[str, str] = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "NumericNotEquals": "NumericEquals",
    "DateNotEquals": "DateEquals",
    "NotIpAddress": "IpAddress",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def condition_holds(condition: Condition, context: Context) -> bool:
    """Evaluate one ``operator: {key: values}`` test against the request context."""
    actual = context.get(condition.key.lower())
    if condition.base == "Null":
        absent = not actual
        return any((v.lower() == "true") == absent for v in condition.values)
    negated = condition.base in _NEGATED
    if not actual:
        if condition.if_exists or condition.set_operator == "ForAllValues":
            return True
        if condition.set_operator == "ForAnyValue":
            return False
        return negated
    test = _POSITIVE[_NEGATED.get(condition.base, condition.base)]
    expected = [
        e for e in (substitute_variables(v, context) for v in condition.values) if e is not None
    ]

    def matches(value: str) -> bool:
        return any(test(value, e) for e in expected)

    if condition.set_operator == "ForAnyValue":
        return any(matches(v) != negated for v in actual)
    if condition.set_operator == "ForAllValues":
        return all(matches(v) != negated for v in actual)
    hit = any(matches(v) for v in actual)
    return hit != negated


def first_failing_condition(conditions: Iterable[Condition], context: Context) -> Condition | None:
    """The first condition of a block that does not hold (None when the whole block holds)."""
    for condition in conditions:
        if not condition_holds(condition, context):
            return condition
    return None
