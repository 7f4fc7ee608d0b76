"""What the evaluator knows about an estate: principals, buckets, KMS keys and their policies.

A :class:`World` is plain data (the lab builds one from a scenario file, ``explain``
from a scenario or from separate policy files, and the diagnosis code may build one
from what it learned). It answers the questions the per-operation checks ask:
which policies govern this caller on this bucket or key (:meth:`World.s3_policies`,
:meth:`World.kms_policies`), which key an SSE header or a bucket default names
(:meth:`World.resolve_key_arn`), and what the AWS-managed ``aws/s3`` key of an
account looks like (its fixed policy allows only callers of that account via S3).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from .document import Policy, parse_policy
from .evaluate import PolicySet
from .principals import Caller

#: An AWS Organizations organization id, as aws:PrincipalOrgID carries it.
ORGANIZATION_ID = re.compile(r"^o-[a-z0-9]{10,32}$")

__all__ = [
    "AWS_MANAGED_S3_ALIAS",
    "BucketInfo",
    "Encryption",
    "KeyInfo",
    "KeyState",
    "ObjectOwnership",
    "PrincipalInfo",
    "World",
    "aws_managed_s3_key",
    "key_arn",
]

KeyState = Literal["Enabled", "Disabled", "PendingDeletion"]
ObjectOwnership = Literal["BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter"]
SseAlgorithm = Literal["none", "AES256", "aws:kms", "aws:kms:dsse"]

AWS_MANAGED_S3_ALIAS = "alias/aws/s3"
_MANAGED_NAMESPACE = uuid.UUID("6f0b5f3e-2b8e-4c59-9d1f-5a3c0f1e7a11")


def key_arn(region: str, account: str, key_id: str, partition: str = "aws") -> str:
    """``arn:aws:kms:REGION:ACCOUNT:key/KEY_ID``."""
    return f"arn:{partition}:kms:{region}:{account}:key/{key_id}"


@dataclass(frozen=True)
class Encryption:
    """How an object is (or will be) encrypted at rest."""

    algorithm: SseAlgorithm = "AES256"
    #: The KMS key's full ARN for aws:kms (also an unresolvable ARN, to report NotFound).
    key_arn: str | None = None
    #: S3 Bucket Keys: KMS sees the bucket ARN, not the object ARN, as encryption context.
    bucket_key: bool = False

    @property
    def uses_kms(self) -> bool:
        return self.algorithm in ("aws:kms", "aws:kms:dsse") and self.key_arn is not None

    def describe(self) -> str:
        if self.uses_kms:
            bk = "on" if self.bucket_key else "off"
            return f"SSE-KMS {self.key_arn} (Bucket Key {bk})"
        return {"AES256": "SSE-S3", "none": "no encryption"}.get(self.algorithm, self.algorithm)


@dataclass(frozen=True)
class KeyInfo:
    """A KMS key: where it lives, its key policy and its state."""

    arn: str
    account: str
    region: str
    key_id: str
    policy: Policy
    state: KeyState = "Enabled"
    aliases: tuple[str, ...] = ()
    aws_managed: bool = False
    description: str = ""


@dataclass(frozen=True)
class BucketInfo:
    """A bucket: owner account, region, policy and defaults."""

    name: str
    account: str
    region: str
    policy: Policy | None = None
    #: Default encryption applied when a write sends no SSE headers.
    encryption: Encryption = field(default_factory=Encryption)
    object_ownership: ObjectOwnership = "BucketOwnerEnforced"
    requester_pays: bool = False

    @property
    def arn(self) -> str:
        return f"arn:aws:s3:::{self.name}"


@dataclass(frozen=True)
class PrincipalInfo:
    """An IAM user or role, its policies and where its requests come from."""

    #: The IAM ARN: ``arn:aws:iam::A:role/[path/]Name`` or ``arn:aws:iam::A:user/Name``.
    arn: str
    account: str
    kind: Literal["user", "role"]
    name: str
    policies: tuple[Policy, ...] = ()
    permissions_boundary: Policy | None = None
    session_policies: tuple[Policy, ...] = ()
    #: Role session name used for the caller's session ARN.
    session_name: str = "s3xcopy"
    #: aws:SourceIp of its requests (None: the lab uses the client's address).
    source_ip: str | None = None
    #: aws:SourceVpce: the VPC endpoint its S3 requests go through, if any.
    source_vpce: str | None = None

    def caller(self) -> Caller:
        """The Caller this principal's requests run as (a role session for roles)."""
        if self.kind == "role":
            return Caller.for_role(self.arn, self.session_name)
        return Caller.for_user(self.arn)


def aws_managed_s3_key(account: str, region: str) -> KeyInfo:
    """The AWS-managed ``aws/s3`` key of an account: usable only by that account, only via S3."""
    key_id = str(uuid.uuid5(_MANAGED_NAMESPACE, f"{account}:{region}"))
    arn = key_arn(region, account, key_id)
    document = {
        "Version": "2012-10-17",
        "Id": "auto-s3-2",
        "Statement": [
            {
                "Sid": "Allow access through S3 for all principals in the account that are "
                "authorized to use S3",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": [
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:DescribeKey",
                ],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:CallerAccount": account,
                        "kms:ViaService": f"s3.{region}.amazonaws.com",
                    }
                },
            },
            {
                "Sid": "Allow direct access to key metadata to the account",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": ["kms:Describe*", "kms:Get*", "kms:List*"],
                "Resource": "*",
            },
        ],
    }
    policy = parse_policy(document, kind="key-policy", name=arn, account=account)
    return KeyInfo(
        arn, account, region, key_id, policy,
        aliases=(AWS_MANAGED_S3_ALIAS,), aws_managed=True,
        description="Default key that protects my S3 objects when no other key is defined",
    )  # fmt: skip


@dataclass(frozen=True)
class World:
    """Everything the evaluator knows; build it once, then ask it questions (pure)."""

    principals: tuple[PrincipalInfo, ...] = ()
    buckets: Mapping[str, BucketInfo] = field(default_factory=dict)
    keys: tuple[KeyInfo, ...] = ()
    #: SCPs per account id (all of one level: one must allow, any Deny wins).
    scps: Mapping[str, tuple[Policy, ...]] = field(default_factory=dict)
    #: RCPs per account id: they govern that account's buckets and keys, whoever calls.
    rcps: Mapping[str, tuple[Policy, ...]] = field(default_factory=dict)
    #: The organization (``o-...``) of each account that is in one (aws:PrincipalOrgID,
    #: aws:ResourceOrgID).
    organizations: Mapping[str, str] = field(default_factory=dict)
    #: VPC endpoint policies by endpoint id (``vpce-...``).
    vpc_endpoints: Mapping[str, Policy] = field(default_factory=dict)
    #: Default region (of buckets and keys that do not say).
    region: str = "us-east-1"

    def principal(self, caller: Caller) -> PrincipalInfo | None:
        """The principal a caller runs as (matched by IAM ARN, or by account and name)."""
        for info in self.principals:
            if info.arn == caller.principal_arn:
                return info
        for info in self.principals:
            if (
                info.account == caller.account
                and info.name == caller.name
                and info.kind == caller.kind
            ):
                return info
        return None

    def organization(self, account: str | None) -> str | None:
        """The organization ``account`` is in (None: none, or an unknown account)."""
        return self.organizations.get(account) if account else None

    def bucket(self, name: str) -> BucketInfo | None:
        return self.buckets.get(name)

    def key(self, arn: str) -> KeyInfo | None:
        """The key with this ARN (the AWS-managed aws/s3 keys included)."""
        for info in self.keys:
            if info.arn == arn:
                return info
        parts = arn.split(":")
        if len(parts) == 6 and parts[5].startswith("key/"):
            managed = aws_managed_s3_key(parts[4], parts[3])
            if managed.arn == arn:
                return managed
        return None

    def resolve_key_arn(self, ref: str, *, account: str, region: str) -> str:
        """The key ARN a reference names: a key ARN, alias ARN, key id or alias name.

        Bare ids and aliases resolve in ``account`` (S3 resolves them in the caller's
        account) and ``region``; an unknown reference comes back as the ARN it would
        have, so the caller can report KMS's NotFound with it.
        """
        if ref.startswith("arn:"):
            parts = ref.split(":", 5)
            if len(parts) == 6 and parts[5].startswith("alias/"):
                found = self._by_alias(parts[5], parts[4], parts[3])
                return found.arn if found else ref
            return ref
        if ref.startswith("alias/"):
            found = self._by_alias(ref, account, region)
            return found.arn if found else f"arn:aws:kms:{region}:{account}:{ref}"
        for info in self.keys:
            if info.key_id == ref and info.account == account and info.region == region:
                return info.arn
        return key_arn(region, account, ref)

    def _by_alias(self, alias: str, account: str, region: str) -> KeyInfo | None:
        if alias == AWS_MANAGED_S3_ALIAS:
            return aws_managed_s3_key(account, region)
        for info in self.keys:
            if alias in info.aliases and info.account == account and info.region == region:
                return info
        return None

    def s3_policies(self, caller: Caller, bucket: str, *, via_vpce: str | None = None) -> PolicySet:
        """The policies that govern ``caller`` on ``bucket`` (and its VPC endpoint, if any)."""
        info = self.bucket(bucket)
        info_principal = self.principal(caller)
        return PolicySet(
            identity=info_principal.policies if info_principal else (),
            resource=info.policy if info else None,
            resource_kind="bucket-policy",
            resource_account=info.account if info else None,
            resource_name=f"bucket {bucket}",
            scps=tuple(self.scps.get(caller.account, ())),
            rcps=tuple(self.rcps.get(info.account, ())) if info else (),
            permissions_boundary=info_principal.permissions_boundary if info_principal else None,
            session_policies=info_principal.session_policies if info_principal else (),
            vpc_endpoint_policy=self.vpc_endpoints.get(via_vpce) if via_vpce else None,
        )

    def kms_policies(self, caller: Caller, key: KeyInfo) -> PolicySet:
        """The policies that govern ``caller`` on ``key`` (the key policy is mandatory)."""
        info_principal = self.principal(caller)
        return PolicySet(
            identity=info_principal.policies if info_principal else (),
            resource=key.policy,
            resource_kind="key-policy",
            resource_account=key.account,
            resource_name=key.arn,
            scps=tuple(self.scps.get(caller.account, ())),
            rcps=tuple(self.rcps.get(key.account, ())),
            permissions_boundary=info_principal.permissions_boundary if info_principal else None,
            session_policies=info_principal.session_policies if info_principal else (),
        )

    def default_encryption(self, bucket: str) -> Encryption:
        """The encryption of objects written with no SSE headers (SSE-S3 for unknown buckets)."""
        info = self.bucket(bucket)
        return info.encryption if info else Encryption("AES256")

    def write_encryption(
        self,
        bucket: str,
        *,
        caller_account: str,
        sse: str | None = None,
        kms_key: str | None = None,
        bucket_key: bool | None = None,
    ) -> Encryption:
        """The encryption a write gets from its SSE headers, else the bucket's default.

        A key id or alias in ``kms_key`` resolves in the caller's account; ``aws:kms``
        without a key means the caller's AWS-managed ``aws/s3`` key.
        """
        default = self.default_encryption(bucket)
        info = self.bucket(bucket)
        region = info.region if info else self.region
        if sse is None and kms_key is None:
            if bucket_key is None or not default.uses_kms:
                return default
            return Encryption(default.algorithm, default.key_arn, bucket_key)
        if sse == "AES256":
            return Encryption("AES256")
        algorithm: SseAlgorithm = "aws:kms:dsse" if sse == "aws:kms:dsse" else "aws:kms"
        if kms_key:
            arn = self.resolve_key_arn(kms_key, account=caller_account, region=region)
        else:
            arn = aws_managed_s3_key(caller_account, region).arn
        use_bucket_key = default.bucket_key if bucket_key is None else bucket_key
        return Encryption(algorithm, arn, use_bucket_key)
