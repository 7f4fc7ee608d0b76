"""Compact builders for policy tests: statements, policies, callers, contexts."""

from __future__ import annotations

from typing import Any

from s3xcopy.findings import PolicyKind
from s3xcopy.policy import Caller, Policy, parse_policy

A = "111111111111"  # the caller's account
B = "222222222222"  # another account
ROLE_ARN = f"arn:aws:iam::{A}:role/App"
APP = Caller.for_role(ROLE_ARN, "job-1")
USER = Caller.for_user(f"arn:aws:iam::{A}:user/alice")
KEY_A = f"arn:aws:kms:us-east-1:{A}:key/aaaa-1111"
KEY_B = f"arn:aws:kms:us-east-1:{B}:key/bbbb-2222"
OBJ = "arn:aws:s3:::data/reports/q1.csv"
BUCKET = "arn:aws:s3:::data"


def stmt(
    effect: str = "Allow", action: Any = "s3:GetObject", resource: Any = "*", **extra: Any
) -> dict[str, Any]:
    """One statement; ``not_action=``, ``not_resource=``, ``principal=``, ``not_principal=``,
    ``condition=`` and ``sid=`` map to the IAM elements."""
    statement: dict[str, Any] = {"Effect": effect}
    if "sid" in extra:
        statement["Sid"] = extra.pop("sid")
    if "not_action" in extra:
        statement["NotAction"] = extra.pop("not_action")
    else:
        statement["Action"] = action
    if "not_resource" in extra:
        statement["NotResource"] = extra.pop("not_resource")
    elif resource is not None:
        statement["Resource"] = resource
    if "principal" in extra:
        statement["Principal"] = extra.pop("principal")
    if "not_principal" in extra:
        statement["NotPrincipal"] = extra.pop("not_principal")
    if "condition" in extra:
        statement["Condition"] = extra.pop("condition")
    assert not extra, extra
    return statement


def allow(action: Any = "s3:GetObject", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return stmt("Allow", action, resource, **extra)


def deny(action: Any = "s3:GetObject", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return stmt("Deny", action, resource, **extra)


def policy(
    kind: PolicyKind, *statements: dict[str, Any], account: str | None = A, name: str = ""
) -> Policy:
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    return parse_policy(document, kind=kind, name=name or kind, account=account)


def identity(*statements: dict[str, Any], account: str = A) -> Policy:
    return policy("identity-policy", *statements, account=account, name="AppPolicy")
