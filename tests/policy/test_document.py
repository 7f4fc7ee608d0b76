"""Parsing: what IAM accepts is normalized; what it rejects fails with a JSON path."""

from __future__ import annotations

from typing import Any

import pytest

from s3xcopy.errors import InvalidInputError
from s3xcopy.policy import PolicyError, parse_policy

OK = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}


def doc(*statements: Any, **top: Any) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements), **top}


@pytest.mark.parametrize(
    ("document", "kind", "path", "reason"),
    [
        (
            doc({**OK, "Effect": "allow"}),
            "identity-policy",
            "$.Statement[0].Effect",
            'expected "Allow" or "Deny", got "allow"',
        ),
        (
            doc({"Action": "s3:*", "Resource": "*"}),
            "identity-policy",
            "$.Statement[0].Effect",
            "missing Effect",
        ),
        (
            doc({**OK, "NotAction": "s3:Put*"}),
            "identity-policy",
            "$.Statement[0]",
            "exactly one of Action or NotAction",
        ),
        (
            doc({"Effect": "Allow", "Resource": "*"}),
            "identity-policy",
            "$.Statement[0]",
            "exactly one of Action or NotAction",
        ),
        (
            doc({**OK, "Action": "GetObject"}),
            "identity-policy",
            "$.Statement[0].Action[0]",
            "not service:action",
        ),
        (
            doc({**OK, "Action": []}),
            "identity-policy",
            "$.Statement[0].Action",
            "must not be an empty list",
        ),
        (
            doc({**OK, "Action": ["s3:GetObject", 7]}),
            "identity-policy",
            "$.Statement[0].Action[1]",
            "must be strings",
        ),
        (
            doc({"Effect": "Allow", "Action": "s3:*"}),
            "identity-policy",
            "$.Statement[0]",
            "needs Resource or NotResource",
        ),
        (
            doc({**OK, "NotResource": "x"}),
            "identity-policy",
            "$.Statement[0]",
            "both Resource and NotResource",
        ),
        (
            doc({**OK, "Principal": "*"}),
            "identity-policy",
            "$.Statement[0].Principal",
            "cannot name a Principal",
        ),
        (doc(OK), "bucket-policy", "$.Statement[0]", "needs Principal or NotPrincipal"),
        (
            doc({**OK, "Principal": {"Robot": "x"}}),
            "key-policy",
            "$.Statement[0].Principal.Robot",
            "unknown principal type",
        ),
        (
            doc({**OK, "Principal": "*", "NotPrincipal": "*"}),
            "bucket-policy",
            "$.Statement[0]",
            "both Principal and NotPrincipal",
        ),
        (
            doc({**OK, "Condition": {"StringEqualz": {"k": "v"}}}),
            "identity-policy",
            "$.Statement[0].Condition.StringEqualz",
            "unknown condition operator",
        ),
        (
            doc({**OK, "Condition": {"AnyValue:StringEquals": {"k": "v"}}}),
            "identity-policy",
            '$.Statement[0].Condition["AnyValue:StringEquals"]',
            "unknown condition set operator",
        ),
        (
            doc({**OK, "Condition": {"Bool": {"aws:SecureTransport": "yes"}}}),
            "identity-policy",
            '$.Statement[0].Condition.Bool["aws:SecureTransport"][0]',
            "takes true or false",
        ),
        (
            doc({**OK, "Condition": {"NullIfExists": {"k": "true"}}}),
            "identity-policy",
            "$.Statement[0].Condition.NullIfExists",
            "no IfExists",
        ),
        (
            doc({**OK, "Condition": {"StringEquals": {"k": {"x": 1}}}}),
            "identity-policy",
            "$.Statement[0].Condition.StringEquals.k[0]",
            "strings, numbers or booleans",
        ),
        (
            doc({**OK, "Bogus": 1}),
            "identity-policy",
            "$.Statement[0].Bogus",
            "unknown statement element",
        ),
        (doc(OK, Version="2012-10-18"), "identity-policy", "$.Version", "unknown Version"),
        ({"Version": "2012-10-17"}, "identity-policy", "$", "missing Statement"),
        ({"Statement": "x"}, "identity-policy", "$.Statement", "must be an object or a list"),
        (doc(OK, Extra=1), "identity-policy", "$.Extra", "unknown policy element"),
        ("{not json", "identity-policy", "$", "invalid JSON at line 1"),
        ([1, 2], "identity-policy", "$", "must be a JSON object"),
    ],
)
def test_rejected(document: Any, kind: Any, path: str, reason: str) -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy(document, kind=kind)
    assert str(info.value).startswith(f"{path}: ")
    assert reason in str(info.value)
    assert isinstance(info.value, InvalidInputError)


def test_normalizes_single_statement_and_strings() -> None:
    policy = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": {
                "Sid": "One",
                "Effect": "Allow",
                "Principal": {"AWS": "123456789012"},
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {"NumericLessThan": {"n": 5}, "Bool": {"b": True}},
            },
        },
        kind="key-policy",
        name="k",
        account="123456789012",
    )
    (statement,) = policy.statements
    assert statement.sid == "One"
    assert statement.actions == ("kms:Decrypt",)
    assert statement.resources == ("*",)
    assert statement.principals == (("AWS", ("123456789012",)),)
    assert [(c.base, c.values) for c in statement.conditions] == [
        ("NumericLessThan", ("5",)),
        ("Bool", ("true",)),
    ]
    assert statement.label == "'One' (#0)"


def test_principal_star_and_version_default() -> None:
    policy = parse_policy({"Statement": [{**OK, "Principal": "*"}]}, kind="bucket-policy")
    assert policy.version == "2008-10-17"
    assert policy.statements[0].principals == (("*", ("*",)),)


def test_qualified_operator_parts() -> None:
    policy = parse_policy(
        doc({**OK, "Condition": {"ForAllValues:StringLikeIfExists": {"k": ["a*"]}}}),
        kind="identity-policy",
    )
    cond = policy.statements[0].conditions[0]
    assert (cond.set_operator, cond.base, cond.if_exists) == ("ForAllValues", "StringLike", True)
    assert cond.describe() == "ForAllValues:StringLikeIfExists k = a*"
