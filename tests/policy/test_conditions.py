"""Condition operators one by one: positive, negated, IfExists, set qualifiers, missing keys."""

from __future__ import annotations

from typing import Any

import pytest

from s3xcopy.policy import condition_holds, make_context
from s3xcopy.policy.document import parse_policy


def condition(operator: str, key: str, values: Any) -> Any:
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "*",
                "Resource": "*",
                "Condition": {operator: {key: values}},
            }
        ],
    }
    return parse_policy(document, kind="identity-policy").statements[0].conditions[0]


CASES = [
    # operator, key, policy values, context, expected
    ("StringEquals", "k", "abc", {"k": "abc"}, True),
    ("StringEquals", "k", "abc", {"k": "ABC"}, False),
    ("StringEquals", "k", ["x", "abc"], {"k": "abc"}, True),
    ("StringEquals", "k", "abc", {}, False),
    ("StringNotEquals", "k", "abc", {"k": "xyz"}, True),
    ("StringNotEquals", "k", "abc", {"k": "abc"}, False),
    ("StringNotEquals", "k", "abc", {}, True),  # negated operators hold on a missing key
    ("StringEqualsIgnoreCase", "k", "abc", {"k": "ABC"}, True),
    ("StringNotEqualsIgnoreCase", "k", "abc", {"k": "ABC"}, False),
    ("StringLike", "k", "a*c", {"k": "abbbc"}, True),
    ("StringLike", "k", "a?c", {"k": "abbc"}, False),
    ("StringNotLike", "k", "a*", {"k": "bcd"}, True),
    ("StringNotLike", "k", "a*", {"k": "abc"}, False),
    ("StringEqualsIfExists", "k", "abc", {}, True),
    ("StringEqualsIfExists", "k", "abc", {"k": "xyz"}, False),
    ("NumericEquals", "n", "10", {"n": "10.0"}, True),
    ("NumericNotEquals", "n", "10", {"n": "11"}, True),
    ("NumericLessThan", "n", "10", {"n": "9"}, True),
    ("NumericLessThan", "n", "10", {"n": "10"}, False),
    ("NumericLessThanEquals", "n", "10", {"n": "10"}, True),
    ("NumericGreaterThan", "n", 10, {"n": "11"}, True),
    ("NumericGreaterThanEquals", "n", "10", {"n": "9"}, False),
    ("NumericLessThan", "n", "10", {"n": "not-a-number"}, False),
    ("DateLessThan", "t", "2030-01-01T00:00:00Z", {"t": "2026-12-01T10:00:00Z"}, True),
    ("DateGreaterThan", "t", "2030-01-01T00:00:00Z", {"t": "2026-12-01T10:00:00Z"}, False),
    ("DateEquals", "t", "2026-12-01T10:00:00Z", {"t": "1796119200"}, True),  # epoch seconds
    ("DateNotEquals", "t", "2026-12-01T10:00:00Z", {"t": "2026-12-01T10:00:01Z"}, True),
    ("DateLessThanEquals", "t", "2026-12-01T10:00:00+00:00", {"t": "2026-12-01T10:00:00Z"}, True),
    ("DateGreaterThanEquals", "t", "2026-12-01", {"t": "2026-12-02T00:00:00Z"}, True),
    ("Bool", "aws:SecureTransport", "true", {"aws:SecureTransport": True}, True),
    ("Bool", "aws:SecureTransport", True, {"aws:SecureTransport": False}, False),
    ("BoolIfExists", "aws:MultiFactorAuthPresent", "false", {}, True),
    ("BinaryEquals", "b", "QmluYXJ5", {"b": "QmluYXJ5"}, True),
    ("IpAddress", "aws:SourceIp", "203.0.113.0/24", {"aws:SourceIp": "203.0.113.7"}, True),
    ("IpAddress", "aws:SourceIp", "203.0.113.0/24", {"aws:SourceIp": "198.51.100.1"}, False),
    ("IpAddress", "aws:SourceIp", "2001:db8::/32", {"aws:SourceIp": "2001:db8::1"}, True),
    ("NotIpAddress", "aws:SourceIp", "203.0.113.0/24", {"aws:SourceIp": "198.51.100.1"}, True),
    ("NotIpAddress", "aws:SourceIp", "203.0.113.0/24", {}, True),
    ("ArnEquals", "aws:SourceArn", "arn:aws:s3:::b", {"aws:SourceArn": "arn:aws:s3:::b"}, True),
    (
        "ArnLike",
        "aws:PrincipalArn",
        "arn:aws:iam::*:role/App*",
        {"aws:PrincipalArn": "arn:aws:iam::111111111111:role/AppX"},
        True,
    ),
    (
        "ArnLike",
        "aws:PrincipalArn",
        "arn:aws:iam::*:role/*",
        {"aws:PrincipalArn": "arn:aws:iam::111111111111:user/x"},
        False,
    ),
    (
        "ArnLike",
        "aws:PrincipalArn",
        "arn:aws:*",
        {"aws:PrincipalArn": "arn:aws:iam::1:role/x"},
        False,
    ),  # six parts
    (
        "ArnNotLike",
        "aws:PrincipalArn",
        "arn:aws:iam::*:role/Admin",
        {"aws:PrincipalArn": "arn:aws:iam::1:role/App"},
        True,
    ),
    (
        "ArnNotEquals",
        "aws:PrincipalArn",
        "arn:aws:iam::1:role/App",
        {"aws:PrincipalArn": "arn:aws:iam::1:role/App"},
        False,
    ),
    ("Null", "k", "true", {}, True),
    ("Null", "k", "true", {"k": "x"}, False),
    ("Null", "k", "false", {"k": "x"}, True),
    ("ForAnyValue:StringEquals", "tags", ["a", "b"], {"tags": ["b", "z"]}, True),
    ("ForAnyValue:StringEquals", "tags", ["a"], {"tags": ["y", "z"]}, False),
    ("ForAnyValue:StringEquals", "tags", ["a"], {}, False),
    ("ForAllValues:StringEquals", "tags", ["a", "b"], {"tags": ["a", "b"]}, True),
    ("ForAllValues:StringEquals", "tags", ["a", "b"], {"tags": ["a", "c"]}, False),
    ("ForAllValues:StringEquals", "tags", ["a"], {}, True),  # vacuously true
    ("ForAllValues:StringNotEquals", "tags", ["secret"], {"tags": ["a", "b"]}, True),
    ("ForAnyValue:StringLike", "tags", "team-*", {"tags": ["x", "team-red"]}, True),
    ("StringEquals", "aws:username", "${aws:username}", {"aws:username": "alice"}, True),
    (
        "StringLike",
        "s3:prefix",
        "home/${aws:username}/*",
        {"s3:prefix": "home/alice/docs", "aws:username": "alice"},
        True,
    ),
    ("StringEquals", "k", "${missing}", {"k": "x"}, False),
    ("StringEquals", "k", "${missing, 'x'}", {"k": "x"}, True),
    ("StringEquals", "k", "a${*}b", {"k": "a*b"}, True),
]


@pytest.mark.parametrize(("operator", "key", "values", "context", "expected"), CASES)
def test_condition(
    operator: str, key: str, values: Any, context: dict[str, Any], expected: bool
) -> None:
    assert condition_holds(condition(operator, key, values), make_context(context)) is expected


def test_condition_keys_are_case_insensitive() -> None:
    cond = condition("StringEquals", "KMS:ViaService", "s3.us-east-1.amazonaws.com")
    assert condition_holds(cond, make_context({"kms:viaservice": "s3.us-east-1.amazonaws.com"}))
