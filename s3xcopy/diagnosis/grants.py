"""From "this permission is missing" to findings: every policy that must allow it, and the fix.

Who must allow (reference, "Who must allow"): a KMS key's policy always, plus the
caller's identity policy when the caller is in another account (same account: the
key policy alone, or root delegation plus an identity policy); for S3, the bucket
policy and the identity policy across accounts, either one within an account.
Statements come from :func:`s3xcopy.policy.statement_for`: least privilege, real
ARNs (the role ARN, never the session ARN), never ``kms:*``.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..findings import Certainty, Finding
from ..location import S3Location
from ..policy import Caller, MissingAllow, Permission, S3Call, required_permissions, statement_for
from ..policy.model import Encryption
from ..policy.principals import account_of
from .context import DenialContext

#: Stands in for the caller when STS could not say who it is (S3-compatible endpoints).
PLACEHOLDER_ROLE = "arn:aws:iam::111111111111:role/YOUR-ROLE"


def caller_of(context: DenialContext) -> Caller | None:
    """The caller as IAM sees it, from the STS ARN the engine learned (None if unknown)."""
    if not context.caller_arn:
        return None
    try:
        return Caller.from_arn(context.caller_arn)
    except ValueError:
        return None


def _encryption(key_arn: str | None, bucket_key: bool) -> Encryption | None:
    return Encryption("aws:kms", key_arn, bucket_key) if key_arn else None


def call_of(context: DenialContext, operation: str | None = None) -> S3Call:
    """The refused request (or another of the copy's) as the permission table sees it."""
    operation = operation or context.operation
    source_side = operation in ("HeadObject", "GetObject", "GetObjectTagging")
    target: S3Location = context.source if source_side else context.dest
    target_key = context.source_key_arn if source_side else context.dest_key_arn
    target_bucket_key = (
        context.source_bucket_key_enabled if source_side else context.dest_bucket_key_enabled
    )
    copies = operation in ("CopyObject", "UploadPartCopy")
    return S3Call(
        operation,
        target,
        source=context.source if copies else None,
        target_encryption=_encryption(target_key, target_bucket_key),
        source_encryption=_encryption(context.source_key_arn, context.source_bucket_key_enabled)
        if copies
        else None,
        flags=context.flags,
        target_role="source" if source_side else "destination",
    )


def candidates(context: DenialContext) -> tuple[Permission, ...]:
    """The permissions the refused request needs that nothing earlier in the copy proved."""
    proven = {
        (p.action, p.resource)
        for operation in context.proven
        for p in required_permissions(call_of(context, operation))
    }
    return tuple(
        p for p in required_permissions(call_of(context)) if (p.action, p.resource) not in proven
    )


def _bucket_owner(context: DenialContext, bucket: str) -> str | None:
    if bucket == context.dest.bucket and context.dest_bucket_owner:
        return context.dest_bucket_owner
    if bucket == context.source.bucket and context.source_bucket_owner:
        return context.source_bucket_owner
    return None


def where_allowed(
    context: DenialContext, permission: Permission, caller: Caller | None
) -> tuple[tuple[MissingAllow, ...], str]:
    """Every policy that must allow ``permission``, and a note on alternatives."""
    caller_account = caller.account if caller else None
    principal = caller.principal_arn if caller else None
    identity = MissingAllow("identity-policy", caller_account, principal_arn=principal)
    if permission.service == "kms":
        key_account = account_of(permission.resource)
        key_policy = MissingAllow("key-policy", key_account, resource_name=permission.resource)
        if caller_account and key_account == caller_account:
            return (key_policy,), (
                " (same account: the key policy naming the role is enough; or its root "
                "statement delegating to IAM plus an identity policy)"
            )
        return (
            key_policy,
            identity,
        ), " (cross-account: the key policy and the identity policy)"
    owner = _bucket_owner(context, permission.bucket)
    bucket_policy = MissingAllow(
        "bucket-policy", owner, resource_name=f"bucket {permission.bucket}"
    )
    if owner and caller_account and owner == caller_account:
        return (identity,), " (same account: the identity policy or the bucket policy is enough)"
    if owner and caller_account:
        return (bucket_policy, identity), (
            " (cross-account: the bucket policy and the identity policy)"
        )
    return (bucket_policy, identity), (
        " (in another account both must allow; in the same account either is enough)"
    )


def describe_where(missing: MissingAllow) -> str:
    account = f" in account {missing.account}" if missing.account else ""
    if missing.policy_kind == "key-policy":
        return f"the key policy{account}"
    if missing.policy_kind == "bucket-policy":
        return (
            f"the bucket policy of {(missing.resource_name or '').removeprefix('bucket ')}{account}"
        )
    holder = f" of {missing.principal_arn}" if missing.principal_arn else ""
    kind = missing.policy_kind.replace("-", " ")
    return f"the {kind}{holder}{account}"


def grant_findings(
    context: DenialContext,
    permissions: Iterable[Permission],
    *,
    code: str,
    certainty: Certainty,
    lead: str = "",
) -> tuple[Finding, ...]:
    """One finding per policy that must allow each permission, each with its statement."""
    caller = caller_of(context)
    stand_in = caller or Caller.from_arn(PLACEHOLDER_ROLE)
    findings: list[Finding] = []
    for permission in permissions:
        policies, note = where_allowed(context, permission, caller)
        need = lead or f"{permission.operation} needs {permission.action} on the {permission.role}"
        for missing in policies:
            findings.append(
                Finding(
                    code=code,
                    action=permission.action,
                    resource=permission.resource,
                    policy=missing.policy_kind,
                    account=missing.account,
                    principal=caller.principal_arn if caller else None,
                    statement=statement_for(missing, permission, stand_in),
                    certainty=certainty,
                    summary=(
                        f"{need}; {describe_where(missing)} must allow it{note}"
                        + ("" if caller else f"; replace {PLACEHOLDER_ROLE} with your role")
                    ),
                )
            )
    return tuple(findings)
