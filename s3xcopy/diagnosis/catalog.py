"""The catalog of known causes: data, one row a cause, each with a stable id.

A row matches on the S3 error code, the operation, the message's shape and, when
needed, a predicate on the context; its ``explain`` turns the denial into findings.
Rows are tried in order; a ``final`` row that produced findings ends the search
(AWS said exactly what is wrong). Every row has a parametrized test in
``tests/unit/test_diagnosis_catalog.py``; the ids are public (``Finding.code``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from ..findings import Finding
from ..location import S3Location
from ..policy import Permission, required_permissions
from ..policy.principals import account_of
from .context import DenialContext
from .grants import call_of, caller_of, candidates, grant_findings
from .messages import CREDENTIAL_CODES, ParsedDenial, Shape

#: Error codes that mean "refused" (HeadObject's body-less 403 included).
DENIED = frozenset({"AccessDenied", "403", "AllAccessDisabled"})
#: What to do about each refused-credentials code (S3's and STS's).
_CREDENTIAL_FIXES = {
    "ExpiredToken": "the session credentials have expired: get new ones (aws sso login, assume "
    "the role again, or let the instance or container refresh them)",
    "TokenRefreshRequired": "the session credentials must be refreshed: get new ones (aws sso "
    "login, or assume the role again)",
    "InvalidAccessKeyId": "AWS does not know this access key id (deleted, mistyped, or from "
    "another partition or endpoint): check --profile, AWS_PROFILE and AWS_ACCESS_KEY_ID",
    "InvalidClientTokenId": "AWS does not know this access key id or session token (deleted, "
    "mistyped, or from another partition or endpoint): check --profile, AWS_PROFILE and "
    "AWS_ACCESS_KEY_ID",
    "SignatureDoesNotMatch": "the secret key does not match the access key id (or this "
    "machine's clock is off, or a proxy changed the request): check AWS_SECRET_ACCESS_KEY and "
    "the clock",
    "InvalidToken": "the session token is malformed or belongs to other keys: set "
    "AWS_SESSION_TOKEN with the keys it came with",
}
#: Operations that read the source object (where Requester Pays and owners bite first).
SOURCE_READS = frozenset({"HeadObject", "GetObject", "GetObjectTagging"})
#: Operations that write the destination object's first byte (where ACL conditions bite).
FIRST_WRITES = frozenset({"PutObject", "CopyObject", "CreateMultipartUpload"})

Explain = Callable[[DenialContext, ParsedDenial], tuple[Finding, ...]]
Predicate = Callable[[DenialContext, ParsedDenial], bool]


def _always(context: DenialContext, parsed: ParsedDenial) -> bool:
    return True


@dataclass(frozen=True)
class Cause:
    """One known cause of a refused (or failed) request."""

    id: str
    title: str
    codes: frozenset[str]
    explain: Explain
    operations: frozenset[str] | None = None
    shapes: frozenset[Shape] | None = None
    when: Predicate = field(default=_always)
    #: When it produced findings, stop: nothing later can add to what AWS said.
    final: bool = False

    def matches(self, context: DenialContext, parsed: ParsedDenial) -> bool:
        return (
            context.code in self.codes
            and (self.operations is None or context.operation in self.operations)
            and (self.shapes is None or parsed.shape in self.shapes)
            and self.when(context, parsed)
        )


# --- explainers -----------------------------------------------------------------------------


def _finding(
    context: DenialContext,
    code: str,
    action: str,
    resource: str,
    summary: str,
    *,
    policy: str = "unknown",
    account: str | None = None,
    certainty: str = "inferred",
) -> Finding:
    caller = caller_of(context)
    return Finding(
        code=code,
        action=action,
        resource=resource,
        policy=policy,  # type: ignore[arg-type]
        account=account,
        principal=caller.principal_arn if caller else None,
        statement=None,
        certainty=certainty,  # type: ignore[arg-type]
        summary=summary,
    )


def _stated_permission(context: DenialContext, parsed: ParsedDenial) -> Permission:
    """The permission an explicit message names, with the copy's roles filled in."""
    assert parsed.action is not None
    resource = parsed.resource or ""
    for permission in required_permissions(call_of(context)):
        if permission.action == parsed.action and (not resource or permission.resource == resource):
            return permission
    service: Literal["s3", "kms"] = "kms" if parsed.action.startswith("kms:") else "s3"
    bucket = resource.split(":::", 1)[-1].split("/", 1)[0] if service == "s3" else ""
    return Permission(
        context.operation,
        parsed.action,
        resource or "*",
        service,
        "resource",
        bucket or context.dest.bucket,
    )


def _stated_account(
    context: DenialContext, parsed: ParsedDenial, permission: Permission
) -> str | None:
    """The account whose policy AWS named: the caller's for caller-side policies, the
    resource owner's for a bucket or key policy and for an RCP (it governs the resources
    of the accounts it is attached to, whoever calls)."""
    policy = parsed.policy
    caller = caller_of(context)
    caller_account = account_of(parsed.principal or "") or (caller.account if caller else None)
    if policy == "key-policy" or (policy == "rcp" and permission.service == "kms"):
        return account_of(permission.resource)
    if policy in ("bucket-policy", "rcp"):
        if permission.bucket == context.dest.bucket:
            return context.dest_bucket_owner
        if permission.bucket == context.source.bucket:
            return context.source_bucket_owner
        return None
    return caller_account


def _explicit_deny(context: DenialContext, parsed: ParsedDenial) -> tuple[Finding, ...]:
    permission = _stated_permission(context, parsed)
    assert parsed.policy is not None
    named = f" ({parsed.policy_arn})" if parsed.policy_arn else ""
    return (
        _finding(
            context,
            "explicit-deny",
            permission.action,
            permission.resource,
            f"{context.operation}: {permission.action} on {permission.resource} is denied by an "
            f"explicit Deny in a {parsed.policy_phrase}{named}; an Allow cannot override it: "
            "remove or narrow that Deny",
            policy=parsed.policy,
            account=_stated_account(context, parsed, permission),
            certainty="stated",
        ),
    )


def _missing_allow_stated(context: DenialContext, parsed: ParsedDenial) -> tuple[Finding, ...]:
    """AWS named the policy with no Allow: one stated finding, plus the other side if needed."""
    permission = _stated_permission(context, parsed)
    assert parsed.policy is not None
    context_with_caller = context
    if parsed.principal and not context.caller_arn:
        context_with_caller = dataclasses.replace(context, caller_arn=parsed.principal)
    findings = grant_findings(
        context_with_caller, [permission], code="missing-allow", certainty="inferred"
    )
    stated = [f for f in findings if f.policy == parsed.policy]
    if not stated:  # a policy kind grant_findings does not list (SCP, boundary, session, VPCE)
        return (
            _finding(
                context_with_caller,
                "missing-allow",
                permission.action,
                permission.resource,
                f"{context.operation} needs {permission.action} on {permission.resource}: "
                f"no {parsed.policy_phrase} allows it; add an Allow there",
                policy=parsed.policy,
                account=_stated_account(context, parsed, permission),
                certainty="stated",
            ),
        )
    first = stated[0]
    result = [
        Finding(
            code="missing-allow",
            action=first.action,
            resource=first.resource,
            policy=first.policy,
            account=first.account,
            principal=first.principal,
            statement=first.statement,
            certainty="stated",
            summary=f"AWS says no {parsed.policy_phrase} allows it: " + first.summary,
        )
    ]
    # Across accounts the other side must allow too; AWS names only the first refusal.
    for other in findings:
        if other.policy != parsed.policy:
            result.append(
                Finding(
                    code="missing-allow-other-side",
                    action=other.action,
                    resource=other.resource,
                    policy=other.policy,
                    account=other.account,
                    principal=other.principal,
                    statement=other.statement,
                    certainty="inferred",
                    summary="also check: " + other.summary + " (AWS names one refusal at a time)",
                )
            )
    return tuple(result)


def _key_state(reason: str, fix: str) -> Explain:
    def explain(context: DenialContext, parsed: ParsedDenial) -> tuple[Finding, ...]:
        key = _key_in_message(context)
        account = account_of(key) if key else context.dest_bucket_owner
        key = key or f"the default KMS key of s3://{context.dest.bucket}"
        return (
            _finding(
                context,
                f"kms-key-{reason}",
                "kms:Decrypt"
                if context.operation in ("UploadPartCopy", "GetObject")
                else "kms:GenerateDataKey",
                key,
                f"{context.operation}: S3 cannot use {key}: {context.message} ({fix}); "
                "no policy change helps",
                account=account,
            ),
        )

    return explain


def _key_in_message(context: DenialContext) -> str | None:
    for word in context.message.replace("'", " ").split():
        if word.startswith("arn:") and ":kms:" in word:
            return word.rstrip(".")
    return context.dest_key_arn or context.source_key_arn


def _kms_throttled(context: DenialContext, parsed: ParsedDenial) -> tuple[Finding, ...]:
    key = context.dest_key_arn or context.source_key_arn or "*"
    return (
        _finding(
            context,
            "kms-throttled",
            "kms:GenerateDataKey",
            key,
            f"{context.operation}: AWS KMS throttled S3's calls for this copy: a rate problem, "
            "not a permission problem; s3xcopy retried with backoff. Lower --max-concurrency, "
            "enable S3 Bucket Keys on the bucket, or raise the KMS request quota",
            account=account_of(key),
        ),
    )


def _credentials(context: DenialContext, parsed: ParsedDenial) -> tuple[Finding, ...]:
    code = context.code if context.code in CREDENTIAL_CODES else context.credentials_refused
    said_by = "S3" if code == context.code else "AWS STS, asked who these credentials are,"
    fix = _CREDENTIAL_FIXES.get(code or "", "get valid credentials")
    return (
        _finding(
            context,
            "credentials-refused",
            "(credentials)",
            "(the access key of this request)",
            f"{context.operation}: {said_by} answered {code}: the credentials were refused "
            f"before any policy was looked at, so no grant helps; {fix}",
            certainty="stated",
        ),
    )


def _refused_credentials(context: DenialContext, parsed: ParsedDenial) -> bool:
    return context.code in CREDENTIAL_CODES or context.credentials_refused is not None


def _is_kms_throttle(context: DenialContext, parsed: ParsedDenial) -> bool:
    return "kms" in context.message.lower() or context.code.startswith("KMS.")


def _aws_managed_key(context: DenialContext, parsed: ParsedDenial) -> bool:
    caller = caller_of(context)
    for key, manager in (
        (context.dest_key_arn, context.dest_key_manager),
        (context.source_key_arn, context.source_key_manager),
    ):
        managed = key is not None and (manager == "AWS" or key.endswith("alias/aws/s3"))
        if managed and (caller is None or account_of(key or "") != caller.account):
            return True
    return False


def _aws_managed_key_findings(context: DenialContext, parsed: ParsedDenial) -> tuple[Finding, ...]:
    findings = []
    for side, key, manager in (
        ("destination", context.dest_key_arn, context.dest_key_manager),
        ("source", context.source_key_arn, context.source_key_manager),
    ):
        if key and (manager == "AWS" or key.endswith("alias/aws/s3")):
            findings.append(
                _finding(
                    context,
                    "aws-managed-key-cross-account",
                    "kms:Decrypt",
                    key,
                    f"the {side} is encrypted with the AWS managed key aws/s3, which no other "
                    "account can use and whose key policy cannot be edited: encrypt with a "
                    "customer managed key instead (bucket default encryption, or "
                    "--sse-kms-key-id for the destination)",
                    policy="key-policy",
                    account=account_of(key),
                )
            )
    return tuple(findings)


def _object_lock(context: DenialContext, parsed: ParsedDenial) -> tuple[Finding, ...]:
    return (
        _finding(
            context,
            "object-lock",
            "s3:PutObject",
            context.dest.object_arn(context.partition),
            f"{context.operation}: the destination object is protected by Object Lock "
            "(retention or legal hold) and cannot be overwritten: copy to another key, or wait "
            "for the retention to end",
            policy="unknown",
        ),
    )


#: A request that succeeded with the owner check on it proves that side's owner right.
_OWNER_PROVEN_BY = {"destination": "CreateMultipartUpload", "source": "HeadObject"}


def _owner_unproven(context: DenialContext) -> list[tuple[str, S3Location, str]]:
    sides = (
        ("destination", context.dest, context.dest_bucket_owner),
        ("source", context.source, context.source_bucket_owner),
    )
    return [
        (side, location, owner)
        for side, location, owner in sides
        if owner and _OWNER_PROVEN_BY[side] not in context.proven
    ]


def _owner_given(context: DenialContext, parsed: ParsedDenial) -> bool:
    return bool(_owner_unproven(context))


#: A bulk run's requests that are no one object's copy, and the grant each one needs.
_BULK_ACTIONS = {
    "ListObjectsV2": "s3:ListBucket",
    "ListObjects": "s3:ListBucket",
    "DeleteObjects": "s3:DeleteObject",
}


def _owner_mismatch(context: DenialContext, parsed: ParsedDenial) -> tuple[Finding, ...]:
    findings = []
    for side, location, owner in _owner_unproven(context):
        if owner:
            flag = (
                "--expected-bucket-owner"
                if side == "destination"
                else ("--expected-source-bucket-owner")
            )
            findings.append(
                _finding(
                    context,
                    "expected-owner-mismatch",
                    _BULK_ACTIONS.get(
                        context.operation,
                        "s3:PutObject" if side == "destination" else "s3:GetObject",
                    ),
                    location.bucket_arn(context.partition),
                    f"S3 answers a bare Access Denied when the {side} bucket is not owned by "
                    f"the account given with {flag} ({owner}); check the bucket's owner",
                    account=owner,
                )
            )
    return tuple(findings)


def _requester_pays_possible(context: DenialContext, parsed: ParsedDenial) -> bool:
    caller = caller_of(context)
    owner = context.source_bucket_owner
    return not context.request_payer and (
        owner is None or caller is None or owner != caller.account
    )


def _requester_pays(context: DenialContext, parsed: ParsedDenial) -> tuple[Finding, ...]:
    return (
        _finding(
            context,
            "requester-pays",
            "s3:GetObject",
            context.source.bucket_arn(context.partition),
            f"{context.operation}: if s3://{context.source.bucket} is a Requester Pays bucket, "
            "every request must say who pays: add --request-payer requester "
            "(RequestPayer='requester' in extra_args)",
            account=context.source_bucket_owner,
        ),
    )


def _acl_possible(context: DenialContext, parsed: ParsedDenial) -> bool:
    caller = caller_of(context)
    owner = context.dest_bucket_owner or account_of(context.dest_key_arn or "")
    cross = owner is None or caller is None or owner != caller.account
    return context.sent_acl is None and cross


def _acl_required(context: DenialContext, parsed: ParsedDenial) -> tuple[Finding, ...]:
    owner = context.dest_bucket_owner or account_of(context.dest_key_arn or "")
    return (
        _finding(
            context,
            "acl-required",
            "s3:PutObject",
            context.dest.object_arn(context.partition),
            f"{context.operation}: cross-account bucket policies often require "
            "s3:x-amz-acl = bucket-owner-full-control on writes; if this one does, add "
            "--acl bucket-owner-full-control (ACL='bucket-owner-full-control')",
            policy="bucket-policy",
            account=owner,
        ),
    )


def _dest_key_unknown(context: DenialContext, parsed: ParsedDenial) -> bool:
    return context.dest_key_arn is None


def _unknown_default_key(context: DenialContext, parsed: ParsedDenial) -> tuple[Finding, ...]:
    owner = context.dest_bucket_owner
    region = context.region or "*"
    return (
        _finding(
            context,
            "dest-default-key-unknown",
            "kms:GenerateDataKey",
            f"arn:{context.partition}:kms:{region}:{owner or '*'}:key/*",
            f"{context.operation}: if s3://{context.dest.bucket} encrypts by default with a "
            "customer managed KMS key (its encryption settings could not be read), that key's "
            "policy, and across accounts the identity policy too, must allow "
            "kms:GenerateDataKey; pass --sse-kms-key-id ARN to have the exact grants named",
            policy="key-policy",
            account=owner,
        ),
    )


def _dest_key_known(context: DenialContext, parsed: ParsedDenial) -> bool:
    return context.dest_key_arn is not None


def _multipart_dest_decrypt(context: DenialContext, parsed: ParsedDenial) -> tuple[Finding, ...]:
    wanted = [
        p
        for p in candidates(context)
        if p.action == "kms:Decrypt" and p.resource == context.dest_key_arn
    ]
    return grant_findings(
        context,
        wanted,
        code="multipart-dest-kms-decrypt",
        certainty="inferred",
        lead=(
            f"{context.operation} needs kms:Decrypt on the destination key, one CopyObject "
            "does not (why small copies work and large ones fail)"
        ),
    )


def _inferred(context: DenialContext, parsed: ParsedDenial) -> tuple[Finding, ...]:
    """AWS did not say: every grant the request needs that nothing earlier proved."""
    permissions = candidates(context)
    if parsed.shape == "ciphertext":
        permissions = tuple(p for p in permissions if p.action == "kms:Decrypt")
    elif parsed.shape == "explicit" and parsed.action:
        permissions = tuple(p for p in permissions if p.action == parsed.action) or (
            _stated_permission(context, parsed),
        )
    lead = ""
    if context.operation == "HeadObject":
        lead = (
            "HeadObject needs s3:GetObject on the source object (a missing key also answers "
            "403 without s3:ListBucket on the source bucket)"
        )
    return grant_findings(
        context, permissions, code="missing-grant", certainty="inferred", lead=lead
    )


#: The catalog, in the order rows are tried.
CATALOG: tuple[Cause, ...] = (
    Cause(
        "credentials-refused",
        "The credentials themselves were refused (expired, unknown key, wrong secret)",
        DENIED | CREDENTIAL_CODES,
        _credentials,
        when=_refused_credentials,
        final=True,
    ),
    Cause(
        "explicit-deny",
        "AWS names an explicit Deny (identity, resource, SCP, RCP, boundary, session, VPCE)",
        DENIED,
        _explicit_deny,
        shapes=frozenset({"explicit"}),
        when=lambda c, p: p.deny == "explicit",
        final=True,
    ),
    Cause(
        "missing-allow",
        "AWS names the policy with no Allow",
        DENIED,
        _missing_allow_stated,
        shapes=frozenset({"explicit"}),
        when=lambda c, p: p.deny == "implicit",
        final=True,
    ),
    Cause(
        "kms-key-disabled",
        "The KMS key is disabled",
        frozenset({"KMS.DisabledException"}),
        _key_state("disabled", "enable the key, or copy with another one"),
        final=True,
    ),
    Cause(
        "kms-key-pending-deletion",
        "The KMS key is pending deletion",
        frozenset({"KMS.KMSInvalidStateException"}),
        _key_state("pending-deletion", "cancel the key deletion, or copy with another key"),
        final=True,
    ),
    Cause(
        "kms-key-wrong-region",
        "The KMS key is in another region than the bucket",
        frozenset({"KMS.NotFoundException"}),
        _key_state("wrong-region", "S3 needs a key in the bucket's region"),
        when=lambda c, p: "invalid arn" in c.message.lower(),
        final=True,
    ),
    Cause(
        "kms-key-not-found",
        "The KMS key does not exist (or the id is wrong)",
        frozenset({"KMS.NotFoundException"}),
        _key_state(
            "not-found", "check the key id or ARN; an alias resolves in the caller's account"
        ),
        final=True,
    ),
    Cause(
        "kms-throttled",
        "AWS KMS throttled S3's calls (SlowDown ... AWS KMS): a rate problem",
        frozenset({"SlowDown", "ThrottlingException", "KMS.ThrottlingException"}),
        _kms_throttled,
        when=_is_kms_throttle,
        final=True,
    ),
    Cause(
        "object-lock",
        "The destination object is protected by Object Lock",
        DENIED,
        _object_lock,
        shapes=frozenset({"object-lock"}),
        final=True,
    ),
    Cause(
        "aws-managed-key-cross-account",
        "The AWS managed key aws/s3 cannot be used from another account",
        DENIED,
        _aws_managed_key_findings,
        when=_aws_managed_key,
        final=True,
    ),
    Cause(
        "expected-owner-mismatch",
        "ExpectedBucketOwner / ExpectedSourceBucketOwner does not match the bucket's owner",
        DENIED,
        _owner_mismatch,
        shapes=frozenset({"bare", "forbidden"}),
        when=_owner_given,
    ),
    Cause(
        "requester-pays",
        "A Requester Pays source read without RequestPayer=requester",
        DENIED,
        _requester_pays,
        operations=frozenset({"HeadObject"}),
        shapes=frozenset({"bare", "forbidden"}),
        when=_requester_pays_possible,
    ),
    Cause(
        "acl-required",
        "The bucket policy requires x-amz-acl = bucket-owner-full-control",
        DENIED,
        _acl_required,
        operations=FIRST_WRITES,
        shapes=frozenset({"bare"}),
        when=_acl_possible,
    ),
    Cause(
        "dest-default-key-unknown",
        "A write refused while the destination's default key is unknown",
        DENIED,
        _unknown_default_key,
        operations=FIRST_WRITES,
        shapes=frozenset({"bare"}),
        when=_dest_key_unknown,
    ),
    Cause(
        "multipart-dest-kms-decrypt",
        "UploadPartCopy / UploadPart need kms:Decrypt on the destination key",
        DENIED,
        _multipart_dest_decrypt,
        operations=frozenset({"UploadPartCopy", "UploadPart", "CompleteMultipartUpload"}),
        shapes=frozenset({"bare", "ciphertext"}),
        when=_dest_key_known,
    ),
    Cause(
        "missing-grant",
        "A grant the request needs, inferred from the operation and what already worked",
        DENIED,
        _inferred,
        shapes=frozenset({"bare", "forbidden", "ciphertext", "explicit", "other"}),
    ),
)


def explain_denial(context: DenialContext, parsed: ParsedDenial) -> tuple[Finding, ...]:
    """Run the catalog: findings of every matching row, each once, until a final row speaks."""
    found: dict[Finding, None] = {}
    covered: set[tuple[str, str, str]] = set()
    for cause in CATALOG:
        if not cause.matches(context, parsed):
            continue
        produced = cause.explain(context, parsed)
        for finding in produced:
            key = (finding.action, finding.resource, finding.policy)
            if finding.statement is not None:
                if key in covered:
                    continue  # an earlier, more specific row already asked for this grant
                covered.add(key)
            found.setdefault(finding, None)
        if cause.final and produced:
            break
    return tuple(found)
