"""Least-privilege policies for one copy: every statement, in every account, and nothing more.

The original write-up's example grants ``kms:Encrypt``, ``kms:ReEncrypt*`` and
``kms:DescribeKey`` that S3 never uses; this grants exactly what both copy paths
need (reference table): s3:GetObject (+Tagging) on the source, s3:PutObject
(+Tagging, +Acl) on the destination, kms:Decrypt on the source key, and
kms:GenerateDataKey + kms:Decrypt on the destination key — the latter only through
S3 (``kms:ViaService``). Cross-account grants go on both sides; within one account
the smaller side is enough (the identity policy for S3, the key policy for KMS).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import InvalidInputError
from ..findings import PolicyKind
from ..location import S3Location
from .principals import account_of, role_arn_from_session_arn

__all__ = ["PolicyGrant", "least_privilege", "policy_document"]


@dataclass(frozen=True)
class PolicyGrant:
    """Statements to add to one policy: which kind, in which account, held by whom."""

    policy: PolicyKind
    account: str | None
    #: The role ARN (identity policy), the bucket name (bucket policy) or the key ARN.
    holder: str
    statements: tuple[dict[str, Any], ...]
    note: str = ""

    def title(self) -> str:
        where = f"account {self.account}" if self.account else "the owning account"
        what = {
            "identity-policy": "identity policy of",
            "bucket-policy": "bucket policy of",
            "key-policy": "key policy of",
        }.get(self.policy, self.policy)
        return f"{where}: {what} {self.holder}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "account": self.account,
            "holder": self.holder,
            "note": self.note,
            "document": policy_document(self.statements),
        }


def policy_document(statements: tuple[dict[str, Any], ...]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _object_resource(location: S3Location, partition: str) -> str:
    """The object ARN, or ``prefix/*`` for a prefix (a whole bucket: ``bucket/*``)."""
    if location.is_prefix:
        return f"arn:{partition}:s3:::{location.bucket}/{location.key}*"
    return location.object_arn(partition)


def _statement(
    sid: str,
    action: str,
    resource: str,
    principal: dict[str, str] | None,
    condition: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One Allow statement; a ``principal`` for a bucket policy, none for an identity policy."""
    statement: dict[str, Any] = {"Sid": sid, "Effect": "Allow"}
    if principal is not None:
        statement["Principal"] = principal
    statement.update(Action=action, Resource=resource)
    if condition is not None:
        statement["Condition"] = condition
    return statement


def _listing(location: S3Location, partition: str) -> tuple[str, dict[str, Any] | None]:
    """s3:ListBucket's resource and condition for listings under ``location``'s prefix only.

    A bulk copy lists with ``Prefix=<prefix>``; ``s3:prefix`` is what IAM compares
    (``StringLike`` ``prefix*`` also matches the prefix itself). A whole bucket: no
    condition.
    """
    condition = {"StringLike": {"s3:prefix": f"{location.key}*"}} if location.key else None
    return f"arn:{partition}:s3:::{location.bucket}", condition


def _via_s3(key_arn: str) -> dict[str, Any]:
    parts = key_arn.split(":")
    if len(parts) < 6 or not parts[3]:
        raise InvalidInputError(f"not a full KMS key ARN: {key_arn!r} (aliases do not work here)")
    return {"StringEquals": {"kms:ViaService": f"s3.{parts[3]}.amazonaws.com"}}


def _key_account(key_arn: str) -> str:
    account = account_of(key_arn)
    if account is None:
        raise InvalidInputError(f"not a full KMS key ARN: {key_arn!r} (expected arn:aws:kms:...)")
    return account


def least_privilege(
    source: S3Location,
    dest: S3Location,
    role_arn: str,
    *,
    source_key_arn: str | None = None,
    dest_key_arn: str | None = None,
    source_account: str | None = None,
    dest_account: str | None = None,
    copy_tags: bool = True,
    acl: str | None = None,
    acl_grants: bool = False,
    sync: bool = False,
    delete: bool = False,
    partition: str = "aws",
) -> tuple[PolicyGrant, ...]:
    """Every statement ``role_arn`` needs to copy ``source`` to ``dest`` by either path.

    Bucket accounts default to the account of the bucket's key, else the role's. A
    prefix ``source`` is copied by ``cp --recursive`` or ``sync``, which list it:
    s3:ListBucket on the source bucket for that prefix. ``sync`` also lists the
    destination prefix, and ``delete`` (``sync --delete``) deletes below it
    (s3:DeleteObject).
    """
    if acl and acl_grants:
        raise InvalidInputError("--acl cannot be combined with --grants: S3 takes one or the other")
    if (sync or delete) and not source.is_prefix:
        raise InvalidInputError("--sync and --delete are for prefixes: s3://bucket/prefix/")
    sync = sync or delete
    role = role_arn_from_session_arn(role_arn)
    role_account = account_of(role)
    if role_account is None or (":role/" not in role and ":user/" not in role):
        raise InvalidInputError(f"not an IAM role or user ARN: {role_arn!r}")
    source_account = source_account or (
        _key_account(source_key_arn) if source_key_arn else role_account
    )
    dest_account = dest_account or (_key_account(dest_key_arn) if dest_key_arn else role_account)
    versioned = source.version_id is not None
    read = ["s3:GetObjectVersion" if versioned else "s3:GetObject"]
    if copy_tags:
        read.append("s3:GetObjectVersionTagging" if versioned else "s3:GetObjectTagging")
    write = ["s3:PutObject"]
    if copy_tags:
        write.append("s3:PutObjectTagging")
    if acl or acl_grants:  # a canned ACL or grants (--grants): either sets the object's ACL
        write.append("s3:PutObjectAcl")
    source_arn = _object_resource(source, partition)
    dest_arn = _object_resource(dest, partition)
    principal = {"AWS": role}

    identity: list[dict[str, Any]] = [
        {"Sid": "ReadCopySource", "Effect": "Allow", "Action": read, "Resource": source_arn},
        {"Sid": "WriteCopyDestination", "Effect": "Allow", "Action": write, "Resource": dest_arn},
    ]
    # What listing and deleting need, per side (identity and, across accounts, bucket):
    # (side, Sid, action, resource, condition).
    extra: list[tuple[str, str, str, str, dict[str, Any] | None]] = []
    if source.is_prefix:
        extra.append(("source", "ListCopySource", "s3:ListBucket", *_listing(source, partition)))
    if sync:
        extra.append(
            ("destination", "ListCopyDestination", "s3:ListBucket", *_listing(dest, partition))
        )
    if delete:
        extra.append(("destination", "DeleteAtDestination", "s3:DeleteObject", dest_arn, None))

    def side_statements(side: str, principal: dict[str, str] | None) -> list[dict[str, Any]]:
        return [
            _statement(sid, action, resource, principal, condition)
            for where, sid, action, resource, condition in extra
            if where == side
        ]

    identity.extend(side_statements("source", None))
    identity.extend(side_statements("destination", None))
    grants: list[PolicyGrant] = []
    key_grants: list[PolicyGrant] = []
    for side, key_arn, actions in (
        ("Source", source_key_arn, ["kms:Decrypt"]),
        ("Destination", dest_key_arn, ["kms:GenerateDataKey", "kms:Decrypt"]),
    ):
        if key_arn is None:
            continue
        key_account = _key_account(key_arn)
        condition = _via_s3(key_arn)
        key_statement = {
            "Sid": f"S3CopyUses{side}Key",
            "Effect": "Allow",
            "Principal": principal,
            "Action": actions,
            "Resource": "*",
            "Condition": condition,
        }
        note = "keep the key policy's existing statements; add this one"
        if key_account == role_account:
            note += (
                " (same account: alternatively, if the key policy delegates to IAM with "
                f"arn:{partition}:iam::{key_account}:root, grant it in the identity policy)"
            )
        else:
            identity.append(
                {
                    "Sid": f"Use{side}Key",
                    "Effect": "Allow",
                    "Action": actions,
                    "Resource": key_arn,
                    "Condition": condition,
                }
            )
        key_grants.append(PolicyGrant("key-policy", key_account, key_arn, (key_statement,), note))
    grants.append(
        PolicyGrant(
            "identity-policy",
            role_account,
            role,
            tuple(identity),
            "attach to the role (a new inline or managed policy)",
        )
    )
    for side, location, account, actions, arn in (
        ("destination", dest, dest_account, write, dest_arn),
        ("source", source, source_account, read, source_arn),
    ):
        if account == role_account:
            continue  # same account: the identity policy is enough for S3
        statement = {
            "Sid": f"CrossAccountCopy{side.capitalize()}",
            "Effect": "Allow",
            "Principal": principal,
            "Action": actions,
            "Resource": arn,
        }
        note = f"the {side} bucket is in another account: its bucket policy must allow the role"
        if side == "destination" and acl is None and not acl_grants:
            note += (
                "; if the bucket policy requires s3:x-amz-acl = bucket-owner-full-control, "
                "copy with --acl bucket-owner-full-control"
            )
        statements = (statement, *side_statements(side, principal))
        grants.append(PolicyGrant("bucket-policy", account, location.bucket, statements, note))
    return (*grants, *key_grants)
