"""Check one S3 API call: every s3: and kms: permission it needs, evaluated in S3's context.

:func:`required_permissions` turns an :class:`S3Call` into :class:`Permission` rows
using the table in :mod:`.requirements`; :func:`check_call` evaluates each of them
against a :class:`~.model.World` and returns an :class:`OperationCheck`, in the
order S3 checks them (s3: actions first, then the KMS calls S3 makes), so
``first_failure`` is what S3 would answer. KMS key problems (missing key, key in
another region, disabled, pending deletion) are reported as :class:`KeyProblem`
with S3's error code and message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from ..location import S3Location
from .context import Network, kms_context_via_s3, s3_context
from .evaluate import Decision, PolicySet, Request, evaluate
from .model import BucketInfo, Encryption, KeyInfo, World
from .principals import Caller
from .requirements import KmsNeed, S3Need, operation_spec

__all__ = [
    "KeyProblem",
    "OperationCheck",
    "Permission",
    "PermissionCheck",
    "Role",
    "S3Call",
    "check_call",
    "key_problem",
    "required_permissions",
]

#: What the object a request names is, in a copy: its source, its destination, or neither.
Role = Literal["source", "destination", "object"]


@dataclass(frozen=True)
class S3Call:
    """One S3 API request as the evaluator sees it."""

    operation: str
    #: The bucket, key and version the request names (key "" for bucket operations).
    target: S3Location
    #: The copy source (CopyObject, UploadPartCopy).
    source: S3Location | None = None
    #: Encryption of the object read, or of the object being written (None: not KMS).
    target_encryption: Encryption | None = None
    source_encryption: Encryption | None = None
    #: Request features that add needs: see :data:`.requirements.FLAGS`.
    flags: frozenset[str] = frozenset()
    #: Request headers (lower-case names) that feed s3: condition keys.
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    #: How to name the target in explanations: a copy's source or destination.
    target_role: Role = "object"


@dataclass(frozen=True)
class Permission:
    """One action on one resource that an S3 call needs."""

    operation: str
    action: str
    resource: str
    service: Literal["s3", "kms"]
    #: ``source object``, ``destination key``, ``bucket``...
    role: str
    #: The bucket whose policy governs an s3: action, or whose object a key protects.
    bucket: str
    key_arn: str | None = None
    #: The aws:s3:arn encryption context S3 sends to KMS (object or bucket ARN).
    encryption_context_arn: str | None = None


@dataclass(frozen=True)
class KeyProblem:
    """A KMS key S3 cannot use, whatever the policies say; S3 answers HTTP 400."""

    code: str
    message: str
    key_arn: str
    #: ``not-found``, ``wrong-region``, ``disabled`` or ``pending-deletion``.
    reason: str
    status: int = 400


@dataclass(frozen=True)
class PermissionCheck:
    """One permission and its answer."""

    permission: Permission
    #: None when the key could not be found (nothing to evaluate).
    decision: Decision | None
    key_problem: KeyProblem | None = None

    @property
    def allowed(self) -> bool:
        return self.key_problem is None and self.decision is not None and self.decision.allowed

    def explain(self) -> str:
        if self.decision is not None and not self.decision.allowed:
            return self.decision.explain()
        if self.key_problem is not None:
            return f"{self.key_problem.code}: {self.key_problem.message}"
        assert self.decision is not None
        return self.decision.explain()


@dataclass(frozen=True)
class OperationCheck:
    """Every permission one S3 call needs, checked in S3's order."""

    call: S3Call
    caller: Caller
    checks: tuple[PermissionCheck, ...]

    @property
    def allowed(self) -> bool:
        return all(c.allowed for c in self.checks)

    @property
    def first_failure(self) -> PermissionCheck | None:
        """What S3 would answer with: the first check that fails, in order."""
        return next((c for c in self.checks if not c.allowed), None)


def _role_name(role: Role, what: str) -> str:
    return what if role == "object" else f"{role} {what}"


def _s3_resource(need: S3Need, call: S3Call) -> tuple[str, str, str, bool]:
    """(resource ARN, role text, bucket, versioned) of one s3 need."""
    if need.on == "account":
        return "arn:aws:s3:::*", "account", call.target.bucket, False
    if need.on == "bucket":
        return call.target.bucket_arn(), "bucket", call.target.bucket, False
    if need.on == "source-object":
        source = call.source or call.target
        return source.object_arn(), "source object", source.bucket, source.version_id is not None
    return (
        call.target.object_arn(),
        _role_name(call.target_role, "object"),
        call.target.bucket,
        call.target.version_id is not None,
    )


def required_permissions(call: S3Call) -> tuple[Permission, ...]:
    """The s3: then kms: permissions ``call`` needs, per the operation table and its flags."""
    spec = operation_spec(call.operation)
    permissions: list[Permission] = []
    for need in spec.s3:
        if need.when is not None and need.when not in call.flags:
            continue
        resource, role, bucket, versioned = _s3_resource(need, call)
        action = need.version_action if versioned and need.version_action else need.action
        permissions.append(Permission(call.operation, action, resource, "s3", role, bucket))
    for kms_need in spec.kms:
        permission = _kms_permission(kms_need, call)
        if permission is not None:
            permissions.append(permission)
    return tuple(permissions)


def _kms_permission(need: KmsNeed, call: S3Call) -> Permission | None:
    if need.when is not None and need.when not in call.flags:
        return None
    if need.key == "source":
        encryption, obj, role = call.source_encryption, call.source, "source key"
    else:
        encryption, obj = call.target_encryption, call.target
        role = "object key" if call.target_role == "object" else f"{call.target_role} key"
    if obj is None or encryption is None or not encryption.uses_kms:
        return None
    assert encryption.key_arn is not None
    context_arn = obj.bucket_arn() if encryption.bucket_key else obj.object_arn()
    return Permission(
        call.operation, need.action, encryption.key_arn, "kms", role, obj.bucket,
        key_arn=encryption.key_arn, encryption_context_arn=context_arn,
    )  # fmt: skip


def key_problem(
    key: KeyInfo | None, arn: str, region: str, *, check_state: bool
) -> KeyProblem | None:
    """What S3 answers when the key is missing, in another region, disabled or pending deletion."""
    parts = arn.split(":")
    key_region = parts[3] if len(parts) >= 6 else ""
    if key_region and key_region != region:
        return KeyProblem("KMS.NotFoundException", f"Invalid arn {key_region}", arn, "wrong-region")
    if key is None:
        return KeyProblem("KMS.NotFoundException", f"Key '{arn}' does not exist", arn, "not-found")
    if not check_state:
        return None
    if key.state == "Disabled":
        return KeyProblem("KMS.DisabledException", f"{arn} is disabled.", arn, "disabled")
    if key.state == "PendingDeletion":
        return KeyProblem(
            "KMS.KMSInvalidStateException", f"{arn} is pending deletion.", arn, "pending-deletion"
        )
    return None


def _bucket_region(world: World, bucket: str) -> tuple[BucketInfo | None, str]:
    info = world.bucket(bucket)
    return info, info.region if info else world.region


def check_call(
    world: World, caller: Caller, call: S3Call, network: Network | None = None
) -> OperationCheck:
    """Evaluate every permission ``call`` needs; pure (the World is data)."""
    network = network or Network()
    checks: list[PermissionCheck] = []
    for permission in required_permissions(call):
        info, region = _bucket_region(world, permission.bucket)
        if permission.service == "s3":
            policies: PolicySet = world.s3_policies(
                caller, permission.bucket, via_vpce=network.source_vpce
            )
            if permission.role == "account":
                policies = PolicySet(
                    identity=policies.identity,
                    scps=policies.scps,
                    permissions_boundary=policies.permissions_boundary,
                    session_policies=policies.session_policies,
                )
            owner = info.account if info and permission.role != "account" else caller.account
            context = s3_context(
                caller,
                region=region,
                resource_account=owner or None,
                headers=call.headers,
                query=call.query,
                network=network,
                principal_org_id=world.organization(caller.account),
                resource_org_id=world.organization(owner),
            )
            request = Request(caller, permission.action, permission.resource, context)
            checks.append(PermissionCheck(permission, evaluate(request, policies)))
            continue
        assert permission.key_arn is not None
        assert permission.encryption_context_arn is not None
        key = world.key(permission.key_arn)
        problem = key_problem(key, permission.key_arn, region, check_state=False)
        if problem is not None or key is None:
            checks.append(PermissionCheck(permission, None, problem))
            continue
        context = kms_context_via_s3(
            caller,
            region=region,
            key_account=key.account,
            encryption_context_arn=permission.encryption_context_arn,
            now=network.now,
            principal_org_id=world.organization(caller.account),
            resource_org_id=world.organization(key.account),
        )
        decision = evaluate(
            Request(caller, permission.action, key.arn, context), world.kms_policies(caller, key)
        )
        state = key_problem(key, key.arn, region, check_state=True) if decision.allowed else None
        checks.append(PermissionCheck(permission, decision, state))
    return OperationCheck(call, caller, tuple(checks))
