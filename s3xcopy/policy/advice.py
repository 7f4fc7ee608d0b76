"""Turn failed checks into :class:`~s3xcopy.findings.Finding` objects with a statement to add.

Statements are least privilege: exactly the missing action, on the real ARNs
(the role ARN, never the session ARN; the key's full ARN in identity policies,
``"*"`` inside its own key policy; ``arn:aws:s3:::bucket/*`` for object actions and
the bucket ARN for bucket actions), and a ``kms:ViaService`` condition for KMS
actions S3 performs, so the grant works through S3 and nowhere else. Never
``kms:*``. :func:`merge_statements` folds several findings for the same policy
into one statement per resource (``kms:GenerateDataKey`` + ``kms:Decrypt``).
Findings from evaluation are ``certainty="inferred"``: AWS did not say so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..findings import Finding, PolicyKind
from .evaluate import MissingAllow
from .operations import OperationCheck, Permission, PermissionCheck
from .principals import Caller

__all__ = [
    "PolicyFix",
    "findings_for_check",
    "findings_for_operation",
    "merge_statements",
    "statement_for",
]

_ACCOUNT = re.compile(r"^\d{12}$")


def _sid(actions: Iterable[str]) -> str:
    words = []
    for action in actions:
        service, _, name = action.partition(":")
        words.append(service.capitalize() + re.sub(r"[^A-Za-z0-9]", "", name))
    return "Allow" + "".join(words)


def _resource_for(permission: Permission) -> str:
    if permission.service == "kms":
        return permission.resource
    if permission.role in ("bucket", "account"):
        return permission.resource
    return f"arn:aws:s3:::{permission.bucket}/*"


def _condition_for(permission: Permission) -> dict[str, Any] | None:
    if permission.service != "kms":
        return None
    parts = permission.resource.split(":")
    region = parts[3] if len(parts) > 3 else ""
    return {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}}


def statement_for(missing: MissingAllow, permission: Permission, caller: Caller) -> dict[str, Any]:
    """The least-privilege statement that supplies one missing Allow."""
    statement: dict[str, Any] = {"Sid": _sid([permission.action]), "Effect": "Allow"}
    principal_arn = caller.principal_arn
    if missing.policy_kind == "key-policy":
        statement["Principal"] = {"AWS": principal_arn}
        resource = "*"
    elif missing.policy_kind == "bucket-policy":
        statement["Principal"] = {"AWS": principal_arn}
        resource = _resource_for(permission)
    elif missing.policy_kind == "vpc-endpoint-policy":
        statement["Principal"] = "*"
        resource = _resource_for(permission)
    else:
        resource = _resource_for(permission)
    statement["Action"] = permission.action
    statement["Resource"] = resource
    condition = _condition_for(permission)
    if condition is not None:
        statement["Condition"] = condition
    return statement


def _where(missing: MissingAllow) -> str:
    kind = missing.policy_kind
    account = f" (account {missing.account})" if missing.account else ""
    if kind == "key-policy":
        return f"the key policy of {missing.resource_name}{account}"
    if kind == "bucket-policy":
        return (
            f"the bucket policy of {(missing.resource_name or '').replace('bucket ', '')}{account}"
        )
    if kind == "identity-policy":
        return f"an identity policy of {missing.principal_arn}{account}"
    if kind == "permissions-boundary":
        return f"the permissions boundary of {missing.principal_arn}{account}"
    if kind == "session-policy":
        return f"the session policy of {missing.principal_arn}{account}"
    if kind == "scp":
        return f"the service control policies of account {missing.account}"
    return f"the {kind} {missing.resource_name or ''}".rstrip()


def _account(value: str | None) -> str | None:
    return value if value and _ACCOUNT.match(value) else None


def findings_for_check(check: PermissionCheck, caller: Caller) -> tuple[Finding, ...]:
    """The findings of one failed permission check (empty when it passed)."""
    if check.allowed:
        return ()
    permission = check.permission
    need = (
        f"{permission.operation} needs {permission.action} "
        f"on the {permission.role} {permission.resource}"
    )
    decision = check.decision
    if decision is not None and decision.denied_by is not None:
        ref = decision.denied_by
        return (
            Finding(
                code="explicit-deny",
                action=permission.action,
                resource=permission.resource,
                policy=ref.policy_kind,
                account=_account(ref.account),
                principal=caller.principal_arn,
                statement=None,
                certainty="inferred",
                summary=f"{need}, but {ref.describe()} denies it: remove or narrow that Deny",
            ),
        )
    if decision is not None and not decision.allowed:
        findings = []
        others = ""
        if decision.alternatives:
            others = " (or to " + " or ".join(_where(a) for a in decision.alternatives) + ")"
        for missing in decision.missing:
            near = ""
            mine = [
                n for n in decision.near_misses if n.statement.policy_kind == missing.policy_kind
            ]
            if mine:
                near = f"; {mine[0].describe()}"
            findings.append(
                Finding(
                    code="missing-allow",
                    action=permission.action,
                    resource=permission.resource,
                    policy=missing.policy_kind,
                    account=_account(missing.account),
                    principal=caller.principal_arn,
                    statement=statement_for(missing, permission, caller),
                    certainty="inferred",
                    summary=f"{need}: add an Allow to {_where(missing)}{others}{near}",
                )
            )
        return tuple(findings)
    problem = check.key_problem
    assert problem is not None
    parts = problem.key_arn.split(":")
    return (
        Finding(
            code=f"kms-key-{problem.reason}",
            action=permission.action,
            resource=problem.key_arn,
            policy="unknown",
            account=_account(parts[4] if len(parts) > 4 else None),
            principal=None,
            statement=None,
            certainty="inferred",
            summary=f"{need}, but S3 answers {problem.code}: {problem.message}",
        ),
    )


def findings_for_operation(check: OperationCheck) -> tuple[Finding, ...]:
    """Every finding of one checked S3 call, in check order."""
    return tuple(f for c in check.checks for f in findings_for_check(c, check.caller))


@dataclass(frozen=True)
class PolicyFix:
    """One statement to add to one policy: its kind, account and holder (principal or resource)."""

    policy: PolicyKind
    account: str | None
    holder: str | None
    statement: dict[str, Any]


def merge_statements(findings: Iterable[Finding]) -> list[PolicyFix]:
    """Group findings' statements by policy and resource, merging their actions."""
    groups: dict[tuple[str, str | None, str, str], PolicyFix] = {}
    for finding in findings:
        if finding.statement is None:
            continue
        statement = dict(finding.statement)
        holder = finding.resource if finding.policy == "key-policy" else finding.principal
        if finding.policy == "bucket-policy":
            holder = finding.resource.split(":::", 1)[-1].split("/", 1)[0]
        shape = {k: v for k, v in statement.items() if k not in ("Sid", "Action")}
        group_key = (finding.policy, finding.account, str(holder), repr(sorted(shape.items())))
        existing = groups.get(group_key)
        if existing is None:
            groups[group_key] = PolicyFix(finding.policy, finding.account, holder, statement)
            continue
        actions = existing.statement["Action"]
        actions = [actions] if isinstance(actions, str) else list(actions)
        if finding.action not in actions:
            actions.append(finding.action)
        merged = dict(existing.statement)
        merged["Action"] = actions if len(actions) > 1 else actions[0]
        merged["Sid"] = _sid(actions)
        # Keep the order: Sid, Effect, Principal?, Action, Resource, Condition?
        ordered: dict[str, Any] = {
            k: merged[k]
            for k in ("Sid", "Effect", "Principal", "Action", "Resource", "Condition")
            if k in merged
        }
        groups[group_key] = PolicyFix(existing.policy, existing.account, existing.holder, ordered)
    return list(groups.values())
