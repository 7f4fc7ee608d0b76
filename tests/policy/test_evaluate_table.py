"""The evaluator as a table: every element, wildcard, operator, layer and account rule.

Each row: a caller asks for an action on a resource in a context, under a set of
policies; the expected outcome and, for denials, which policy decided it (explicit)
or where the Allow is missing (implicit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from s3xcopy.policy import (
    Caller,
    PolicySet,
    Request,
    aws_managed_s3_key,
    evaluate,
    kms_context_direct,
    kms_context_via_s3,
    make_context,
    s3_context,
)
from s3xcopy.policy.context import Network

from .helpers import (
    APP,
    BUCKET,
    KEY_A,
    KEY_B,
    OBJ,
    ROLE_ARN,
    USER,
    A,
    B,
    allow,
    deny,
    identity,
    policy,
    stmt,
)

OTHER = Caller.for_role(f"arn:aws:iam::{B}:role/Partner", "p-1")
VIA_S3 = kms_context_via_s3(APP, region="us-east-1", key_account=B, encryption_context_arn=OBJ)
VIA_S3_SAME = kms_context_via_s3(APP, region="us-east-1", key_account=A, encryption_context_arn=OBJ)
VIA_S3_BUCKET_KEY = kms_context_via_s3(
    APP, region="us-east-1", key_account=B, encryption_context_arn=BUCKET
)
DIRECT = kms_context_direct(
    APP, region="us-east-1", key_account=B, network=Network(source_ip="10.1.2.3")
)
DIRECT_VPCE = kms_context_direct(
    APP, region="us-east-1", key_account=A, network=Network(source_vpce="vpce-0abc")
)


def bucket_policy(*statements: dict[str, Any], account: str = A) -> Any:
    return policy("bucket-policy", *statements, account=account, name="bucket data")


def key_policy(*statements: dict[str, Any], account: str = B) -> Any:
    return policy("key-policy", *statements, account=account, name=KEY_B if account == B else KEY_A)


def bucket(owner: str = A, **layers: Any) -> dict[str, Any]:
    return {
        "resource_kind": "bucket-policy",
        "resource_account": owner,
        "resource_name": "bucket data",
        **layers,
    }


def key(owner: str = B, **layers: Any) -> dict[str, Any]:
    name = KEY_B if owner == B else KEY_A
    return {
        "resource_kind": "key-policy",
        "resource_account": owner,
        "resource_name": name,
        **layers,
    }


@dataclass
class Case:
    id: str
    action: str
    resource: str
    policies: dict[str, Any]
    expected: str  # "allowed", "explicit:<kind>", "implicit:<kind>+<kind>"
    caller: Caller = APP
    context: Any = field(default_factory=dict)


ROOT_B = {"AWS": f"arn:aws:iam::{B}:root"}
ROOT_A = {"AWS": f"arn:aws:iam::{A}:root"}
ROLE = {"AWS": ROLE_ARN}
VIA = {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}

CASES = [
    # --- Action / NotAction and wildcards --------------------------------------------------
    Case(
        "action-exact",
        "s3:GetObject",
        OBJ,
        bucket(identity=(identity(allow("s3:GetObject")),)),
        "allowed",
    ),
    Case(
        "action-case-insensitive",
        "s3:GetObject",
        OBJ,
        bucket(identity=(identity(allow("S3:getobject")),)),
        "allowed",
    ),
    Case(
        "action-star-suffix",
        "s3:GetObjectTagging",
        OBJ,
        bucket(identity=(identity(allow("s3:Get*")),)),
        "allowed",
    ),
    Case(
        "action-question-mark",
        "s3:GetObject",
        OBJ,
        bucket(identity=(identity(allow("s3:GetObjec?")),)),
        "allowed",
    ),
    Case(
        "action-question-mark-one-char-only",
        "s3:GetObjects",
        OBJ,
        bucket(identity=(identity(allow("s3:GetObjec?")),)),
        "implicit:identity-policy",
    ),
    Case(
        "action-all",
        "kms:Decrypt",
        KEY_A,
        key(
            A,
            identity=(identity(allow("*")),),
            resource=key_policy(allow("kms:*", principal=ROOT_A), account=A),
        ),
        "allowed",
    ),
    Case(
        "action-no-match",
        "s3:PutObject",
        OBJ,
        bucket(identity=(identity(allow("s3:GetObject")),)),
        "implicit:identity-policy",
    ),
    Case(
        "action-list",
        "s3:PutObject",
        OBJ,
        bucket(identity=(identity(allow(["s3:GetObject", "s3:PutObject"])),)),
        "allowed",
    ),
    Case(
        "not-action-allows-others",
        "s3:GetObject",
        OBJ,
        bucket(identity=(identity(stmt(not_action="s3:Delete*")),)),
        "allowed",
    ),
    Case(
        "not-action-excludes",
        "s3:DeleteObject",
        OBJ,
        bucket(identity=(identity(stmt(not_action="s3:Delete*")),)),
        "implicit:identity-policy",
    ),
    Case(
        "deny-not-action",
        "s3:PutObject",
        OBJ,
        bucket(identity=(identity(allow("s3:*"), deny(not_action="s3:GetObject")),)),
        "explicit:identity-policy",
    ),
    Case(
        "deny-not-action-spares-listed",
        "s3:GetObject",
        OBJ,
        bucket(identity=(identity(allow("s3:*"), deny(not_action="s3:GetObject")),)),
        "allowed",
    ),
    # --- Resource / NotResource -----------------------------------------------------------
    Case(
        "resource-exact",
        "s3:GetObject",
        OBJ,
        bucket(identity=(identity(allow(resource=OBJ)),)),
        "allowed",
    ),
    Case(
        "resource-star",
        "s3:GetObject",
        OBJ,
        bucket(identity=(identity(allow(resource="arn:aws:s3:::data/*")),)),
        "allowed",
    ),
    Case(
        "resource-star-spans-slashes",
        "s3:GetObject",
        OBJ,
        bucket(identity=(identity(allow(resource="arn:aws:s3:::da*")),)),
        "allowed",
    ),
    Case(
        "resource-question-mark",
        "s3:GetObject",
        OBJ,
        bucket(identity=(identity(allow(resource="arn:aws:s3:::data/reports/q?.csv")),)),
        "allowed",
    ),
    Case(
        "resource-case-sensitive",
        "s3:GetObject",
        OBJ,
        bucket(identity=(identity(allow(resource="arn:aws:s3:::DATA/*")),)),
        "implicit:identity-policy",
    ),
    Case(
        "resource-bucket-arn-not-objects",
        "s3:GetObject",
        OBJ,
        bucket(identity=(identity(allow(resource=BUCKET)),)),
        "implicit:identity-policy",
    ),
    Case(
        "resource-list-second",
        "s3:GetObject",
        OBJ,
        bucket(identity=(identity(allow(resource=[BUCKET, "arn:aws:s3:::data/*"])),)),
        "allowed",
    ),
    Case(
        "not-resource-allows-others",
        "s3:GetObject",
        OBJ,
        bucket(identity=(identity(allow(not_resource="arn:aws:s3:::secret/*")),)),
        "allowed",
    ),
    Case(
        "not-resource-excludes",
        "s3:GetObject",
        "arn:aws:s3:::secret/x",
        bucket(identity=(identity(allow(not_resource="arn:aws:s3:::secret/*")),)),
        "implicit:identity-policy",
    ),
    Case(
        "resource-policy-variable",
        "s3:GetObject",
        "arn:aws:s3:::home/alice/notes.txt",
        bucket(identity=(identity(allow(resource="arn:aws:s3:::home/${aws:username}/*")),)),
        "allowed",
        caller=USER,
        context=s3_context(USER, region="us-east-1", resource_account=A),
    ),
    Case(
        "resource-policy-variable-other-user",
        "s3:GetObject",
        "arn:aws:s3:::home/bob/notes.txt",
        bucket(identity=(identity(allow(resource="arn:aws:s3:::home/${aws:username}/*")),)),
        "implicit:identity-policy",
        caller=USER,
        context=s3_context(USER, region="us-east-1", resource_account=A),
    ),
    # --- explicit deny wins ---------------------------------------------------------------
    Case(
        "deny-identity-over-allow",
        "s3:GetObject",
        OBJ,
        bucket(identity=(identity(allow("s3:*"), deny("s3:GetObject")),)),
        "explicit:identity-policy",
    ),
    Case(
        "deny-bucket-over-identity",
        "s3:GetObject",
        OBJ,
        bucket(
            identity=(identity(allow("s3:*")),),
            resource=bucket_policy(deny(principal="*", resource="arn:aws:s3:::data/*")),
        ),
        "explicit:bucket-policy",
    ),
    Case(
        "deny-key-policy",
        "kms:Decrypt",
        KEY_A,
        key(
            A,
            identity=(identity(allow("kms:*")),),
            resource=key_policy(
                allow("kms:*", principal=ROOT_A), deny("kms:Decrypt", principal=ROLE), account=A
            ),
        ),
        "explicit:key-policy",
    ),
    Case(
        "deny-scp",
        "s3:GetObject",
        OBJ,
        bucket(
            identity=(identity(allow("s3:*")),),
            scps=(policy("scp", allow("*"), deny("s3:GetObject")),),
        ),
        "explicit:scp",
    ),
    Case(
        "deny-boundary",
        "s3:GetObject",
        OBJ,
        bucket(
            identity=(identity(allow("s3:*")),),
            permissions_boundary=policy("permissions-boundary", allow("*"), deny("s3:Get*")),
        ),
        "explicit:permissions-boundary",
    ),
    Case(
        "deny-session",
        "s3:GetObject",
        OBJ,
        bucket(
            identity=(identity(allow("s3:*")),),
            session_policies=(policy("session-policy", allow("*"), deny("s3:GetObject")),),
        ),
        "explicit:session-policy",
    ),
    Case(
        "deny-condition-not-holding",
        "s3:GetObject",
        OBJ,
        bucket(
            identity=(
                identity(allow("s3:*"), deny(condition={"Bool": {"aws:SecureTransport": "false"}})),
            )
        ),
        "allowed",
        context=s3_context(APP, region="us-east-1", resource_account=A),
    ),
    Case(
        "deny-condition-holding",
        "s3:GetObject",
        OBJ,
        bucket(
            identity=(
                identity(allow("s3:*"), deny(condition={"Bool": {"aws:SecureTransport": "false"}})),
            )
        ),
        "explicit:identity-policy",
        context=s3_context(
            APP, region="us-east-1", resource_account=A, network=Network(secure_transport=False)
        ),
    ),
    Case(
        "deny-to-account-principal",
        "s3:GetObject",
        OBJ,
        bucket(
            identity=(identity(allow("s3:*")),),
            resource=bucket_policy(deny(principal={"AWS": A}, resource="*")),
        ),
        "explicit:bucket-policy",
    ),
    # --- limiting layers --------------------------------------------------------------------
    Case(
        "scp-no-allow",
        "s3:GetObject",
        OBJ,
        bucket(identity=(identity(allow("s3:*")),), scps=(policy("scp", allow("ec2:*")),)),
        "implicit:scp",
    ),
    Case(
        "scp-allows",
        "s3:GetObject",
        OBJ,
        bucket(identity=(identity(allow("s3:*")),), scps=(policy("scp", allow("*")),)),
        "allowed",
    ),
    # An RCP is the resource account's, whoever calls, and only denies (AWS's
    # RCPFullAWSAccess, never detached, lets the rest through).
    Case(
        "rcp-denies-the-outside-caller",
        "s3:GetObject",
        OBJ,
        bucket(
            B,
            identity=(identity(allow("s3:*")),),
            resource=bucket_policy(allow(principal={"AWS": A}, resource="*"), account=B),
            rcps=(policy("rcp", deny(principal="*"), account=B),),
        ),
        "explicit:rcp",
    ),
    Case(
        "rcp-without-a-matching-deny-needs-no-allow",
        "s3:GetObject",
        OBJ,
        bucket(
            identity=(identity(allow("s3:*")),),
            rcps=(policy("rcp", deny("s3:PutObject", principal="*")),),
        ),
        "allowed",
    ),
    Case(
        "boundary-no-allow",
        "s3:GetObject",
        OBJ,
        bucket(
            identity=(identity(allow("s3:*")),),
            permissions_boundary=policy("permissions-boundary", allow("ec2:*")),
        ),
        "implicit:permissions-boundary",
    ),
    Case(
        "boundary-allows",
        "s3:GetObject",
        OBJ,
        bucket(
            identity=(identity(allow("s3:*")),),
            permissions_boundary=policy("permissions-boundary", allow("s3:Get*")),
        ),
        "allowed",
    ),
    Case(
        "session-no-allow",
        "s3:GetObject",
        OBJ,
        bucket(
            identity=(identity(allow("s3:*")),),
            session_policies=(policy("session-policy", allow("s3:PutObject")),),
        ),
        "implicit:session-policy",
    ),
    Case(
        "session-allows",
        "s3:GetObject",
        OBJ,
        bucket(
            identity=(identity(allow("s3:*")),),
            session_policies=(policy("session-policy", allow("s3:GetObject")),),
        ),
        "allowed",
    ),
    Case(
        "resource-names-session-bypasses-boundary",
        "s3:GetObject",
        OBJ,
        bucket(
            permissions_boundary=policy("permissions-boundary", allow("ec2:*")),
            resource=bucket_policy(
                allow(principal={"AWS": APP.arn}, resource="arn:aws:s3:::data/*")
            ),
        ),
        "allowed",
    ),
    Case(
        "resource-names-role-meets-boundary",
        "s3:GetObject",
        OBJ,
        bucket(
            permissions_boundary=policy("permissions-boundary", allow("ec2:*")),
            resource=bucket_policy(allow(principal=ROLE, resource="arn:aws:s3:::data/*")),
        ),
        "implicit:permissions-boundary",
    ),
    Case(
        "vpc-endpoint-policy-no-allow",
        "s3:GetObject",
        OBJ,
        bucket(
            identity=(identity(allow("s3:*")),),
            vpc_endpoint_policy=policy(
                "vpc-endpoint-policy", allow("s3:PutObject", principal="*"), account=None
            ),
        ),
        "implicit:vpc-endpoint-policy",
    ),
    Case(
        "vpc-endpoint-policy-deny",
        "s3:GetObject",
        OBJ,
        bucket(
            identity=(identity(allow("s3:*")),),
            vpc_endpoint_policy=policy(
                "vpc-endpoint-policy",
                allow("*", principal="*"),
                deny("s3:GetObject", principal="*"),
                account=None,
            ),
        ),
        "explicit:vpc-endpoint-policy",
    ),
    # --- same-account S3: either side suffices ------------------------------------------------
    Case(
        "same-account-identity-only",
        "s3:GetObject",
        OBJ,
        bucket(identity=(identity(allow()),)),
        "allowed",
    ),
    Case(
        "same-account-bucket-only",
        "s3:GetObject",
        OBJ,
        bucket(resource=bucket_policy(allow(principal=ROLE, resource="arn:aws:s3:::data/*"))),
        "allowed",
    ),
    Case(
        "same-account-neither",
        "s3:GetObject",
        OBJ,
        bucket(identity=(identity(allow("s3:PutObject")),)),
        "implicit:identity-policy",
    ),
    Case(
        "same-account-bucket-root-only-delegates",
        "s3:GetObject",
        OBJ,
        bucket(resource=bucket_policy(allow(principal=ROOT_A, resource="arn:aws:s3:::data/*"))),
        "implicit:identity-policy",
    ),
    # --- cross-account S3: both sides --------------------------------------------------------
    Case(
        "cross-account-both",
        "s3:GetObject",
        OBJ,
        bucket(
            B,
            identity=(identity(allow()),),
            resource=bucket_policy(
                allow(principal=ROLE, resource="arn:aws:s3:::data/*"), account=B
            ),
        ),
        "allowed",
    ),
    Case(
        "cross-account-identity-only",
        "s3:GetObject",
        OBJ,
        bucket(B, identity=(identity(allow()),)),
        "implicit:bucket-policy",
    ),
    Case(
        "cross-account-bucket-only",
        "s3:GetObject",
        OBJ,
        bucket(
            B,
            resource=bucket_policy(
                allow(principal=ROLE, resource="arn:aws:s3:::data/*"), account=B
            ),
        ),
        "implicit:identity-policy",
    ),
    Case(
        "cross-account-neither",
        "s3:GetObject",
        OBJ,
        bucket(B),
        "implicit:bucket-policy+identity-policy",
    ),
    Case(
        "cross-account-public-principal",
        "s3:GetObject",
        OBJ,
        bucket(
            B,
            identity=(identity(allow()),),
            resource=bucket_policy(allow(principal="*", resource="arn:aws:s3:::data/*"), account=B),
        ),
        "allowed",
    ),
    Case(
        "cross-account-account-id-shorthand",
        "s3:GetObject",
        OBJ,
        bucket(
            B,
            identity=(identity(allow()),),
            resource=bucket_policy(
                allow(principal={"AWS": A}, resource="arn:aws:s3:::data/*"), account=B
            ),
        ),
        "allowed",
    ),
    Case(
        "cross-account-other-account-named",
        "s3:GetObject",
        OBJ,
        bucket(
            B,
            identity=(identity(allow()),),
            resource=bucket_policy(
                allow(principal={"AWS": "333333333333"}, resource="*"), account=B
            ),
        ),
        "implicit:bucket-policy",
    ),
    # --- KMS: the key policy is mandatory; root delegation --------------------------------------
    Case(
        "kms-same-account-key-names-role",
        "kms:Decrypt",
        KEY_A,
        key(A, resource=key_policy(allow("kms:Decrypt", principal=ROLE), account=A)),
        "allowed",
        context=VIA_S3_SAME,
    ),
    Case(
        "kms-same-account-root-delegation-and-identity",
        "kms:Decrypt",
        KEY_A,
        key(
            A,
            identity=(identity(allow("kms:Decrypt", KEY_A)),),
            resource=key_policy(allow("kms:*", principal=ROOT_A), account=A),
        ),
        "allowed",
        context=VIA_S3_SAME,
    ),
    Case(
        "kms-same-account-root-delegation-no-identity",
        "kms:Decrypt",
        KEY_A,
        key(A, resource=key_policy(allow("kms:*", principal=ROOT_A), account=A)),
        "implicit:identity-policy",
        context=VIA_S3_SAME,
    ),
    Case(
        "kms-same-account-identity-without-key-policy",
        "kms:Decrypt",
        KEY_A,
        key(
            A,
            identity=(identity(allow("kms:*")),),
            resource=key_policy(allow("kms:DescribeKey", principal=ROOT_A), account=A),
        ),
        "implicit:key-policy",
        context=VIA_S3_SAME,
    ),
    Case(
        "kms-cross-account-both",
        "kms:Decrypt",
        KEY_B,
        key(
            B,
            identity=(identity(allow("kms:Decrypt", KEY_B)),),
            resource=key_policy(allow("kms:Decrypt", principal=ROLE)),
        ),
        "allowed",
        context=VIA_S3,
    ),
    Case(
        "kms-cross-account-key-policy-only",
        "kms:Decrypt",
        KEY_B,
        key(B, resource=key_policy(allow("kms:Decrypt", principal=ROLE))),
        "implicit:identity-policy",
        context=VIA_S3,
    ),
    Case(
        "kms-cross-account-identity-only",
        "kms:Decrypt",
        KEY_B,
        key(
            B,
            identity=(identity(allow("kms:Decrypt", KEY_B)),),
            resource=key_policy(allow("kms:*", principal=ROOT_B)),
        ),
        "implicit:key-policy",
        context=VIA_S3,
    ),
    Case(
        "kms-cross-account-neither-original-case",
        "kms:Decrypt",
        KEY_B,
        key(
            B,
            identity=(identity(allow(["kms:GenerateDataKey*", "kms:ReEncrypt*"])),),
            resource=key_policy(
                allow("kms:*", principal=ROOT_B),
                allow(["kms:GenerateDataKey*", "kms:ReEncrypt*"], principal=ROLE),
            ),
        ),
        "implicit:key-policy+identity-policy",
        context=VIA_S3,
    ),
    Case(
        "kms-cross-account-root-delegation-to-caller-account",
        "kms:Decrypt",
        KEY_B,
        key(
            B,
            identity=(identity(allow("kms:Decrypt", KEY_B)),),
            resource=key_policy(allow("kms:Decrypt", principal=ROOT_A)),
        ),
        "allowed",
        context=VIA_S3,
    ),
    Case(
        "kms-identity-names-alias-not-key",
        "kms:Decrypt",
        KEY_B,
        key(
            B,
            identity=(identity(allow("kms:Decrypt", f"arn:aws:kms:us-east-1:{A}:alias/partner")),),
            resource=key_policy(allow("kms:Decrypt", principal=ROLE)),
        ),
        "implicit:identity-policy",
        context=VIA_S3,
    ),
    Case(
        "kms-star-principal-caller-account-condition",
        "kms:GenerateDataKey",
        KEY_A,
        key(
            A,
            resource=key_policy(
                allow(
                    "kms:GenerateDataKey*",
                    principal={"AWS": "*"},
                    condition={
                        "StringEquals": {
                            "kms:CallerAccount": A,
                            "kms:ViaService": "s3.us-east-1.amazonaws.com",
                        }
                    },
                ),
                account=A,
            ),
        ),
        "allowed",
        context=VIA_S3_SAME,
    ),
    Case(
        "kms-aws-managed-key-cross-account",
        "kms:Decrypt",
        aws_managed_s3_key(B, "us-east-1").arn,
        key(
            B,
            identity=(identity(allow("kms:*")),),
            resource=aws_managed_s3_key(B, "us-east-1").policy,
        ),
        "implicit:key-policy",
        context=VIA_S3,
    ),
    Case(
        "kms-aws-managed-key-same-account",
        "kms:Decrypt",
        aws_managed_s3_key(A, "us-east-1").arn,
        key(A, resource=aws_managed_s3_key(A, "us-east-1").policy),
        "allowed",
        context=VIA_S3_SAME,
    ),
    # --- Principal / NotPrincipal ---------------------------------------------------------------
    Case(
        "principal-session-arn-exact",
        "s3:GetObject",
        OBJ,
        bucket(
            B,
            identity=(identity(allow()),),
            resource=bucket_policy(allow(principal={"AWS": APP.arn}, resource="*"), account=B),
        ),
        "allowed",
    ),
    Case(
        "principal-role-with-path-matches-session",
        "s3:GetObject",
        OBJ,
        bucket(
            B,
            identity=(identity(allow()),),
            resource=bucket_policy(
                allow(principal={"AWS": f"arn:aws:iam::{A}:role/team/App"}, resource="*"), account=B
            ),
        ),
        "allowed",
    ),
    Case(
        "principal-user-arn",
        "s3:GetObject",
        OBJ,
        bucket(
            B,
            identity=(identity(allow()),),
            resource=bucket_policy(allow(principal={"AWS": USER.arn}, resource="*"), account=B),
        ),
        "allowed",
        caller=USER,
    ),
    Case(
        "principal-other-role",
        "s3:GetObject",
        OBJ,
        bucket(
            B,
            identity=(identity(allow()),),
            resource=bucket_policy(
                allow(principal={"AWS": f"arn:aws:iam::{A}:role/Other"}, resource="*"), account=B
            ),
        ),
        "implicit:bucket-policy",
    ),
    Case(
        "principal-service-does-not-match-callers",
        "s3:GetObject",
        OBJ,
        bucket(
            B,
            identity=(identity(allow()),),
            resource=bucket_policy(
                allow(principal={"Service": "s3.amazonaws.com"}, resource="*"), account=B
            ),
        ),
        "implicit:bucket-policy",
    ),
    Case(
        "not-principal-deny-exempts-session-and-account",
        "s3:GetObject",
        OBJ,
        bucket(
            identity=(identity(allow()),),
            resource=bucket_policy(
                deny(not_principal={"AWS": [APP.arn, f"arn:aws:iam::{A}:root"]}, resource="*")
            ),
        ),
        "allowed",
    ),
    Case(
        "not-principal-deny-role-arn-alone-does-not-exempt",
        "s3:GetObject",
        OBJ,
        bucket(
            identity=(identity(allow()),),
            resource=bucket_policy(
                deny(not_principal={"AWS": [ROLE_ARN, f"arn:aws:iam::{A}:root"]}, resource="*")
            ),
        ),
        "explicit:bucket-policy",
    ),
    Case(
        "not-principal-deny-hits-others",
        "s3:GetObject",
        OBJ,
        bucket(
            A,
            identity=(identity(allow(), account=B),),
            resource=bucket_policy(
                deny(not_principal={"AWS": [APP.arn, f"arn:aws:iam::{A}:root"]}, resource="*"),
                allow(principal="*", resource="*"),
            ),
        ),
        "explicit:bucket-policy",
        caller=OTHER,
    ),
    Case(
        "not-principal-allow",
        "s3:GetObject",
        OBJ,
        bucket(
            resource=bucket_policy(
                allow(not_principal={"AWS": f"arn:aws:iam::{A}:user/mallory"}, resource="*")
            )
        ),
        "allowed",
    ),
    # --- KMS contexts: ViaService, encryption context, Bucket Keys, VPC endpoints ----------------
    Case(
        "via-service-through-s3",
        "kms:Decrypt",
        KEY_B,
        key(
            B,
            identity=(identity(allow("kms:Decrypt", KEY_B)),),
            resource=key_policy(allow("kms:Decrypt", principal=ROLE, condition=VIA)),
        ),
        "allowed",
        context=VIA_S3,
    ),
    Case(
        "via-service-direct-call",
        "kms:Decrypt",
        KEY_B,
        key(
            B,
            identity=(identity(allow("kms:Decrypt", KEY_B)),),
            resource=key_policy(allow("kms:Decrypt", principal=ROLE, condition=VIA)),
        ),
        "implicit:key-policy",
        context=DIRECT,
    ),
    Case(
        "via-service-other-region",
        "kms:Decrypt",
        KEY_B,
        key(
            B,
            identity=(identity(allow("kms:Decrypt", KEY_B)),),
            resource=key_policy(
                allow(
                    "kms:Decrypt",
                    principal=ROLE,
                    condition={"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}},
                )
            ),
        ),
        "implicit:key-policy",
        context=VIA_S3,
    ),
    Case(
        "encryption-context-object",
        "kms:Decrypt",
        KEY_B,
        key(
            B,
            identity=(identity(allow("kms:Decrypt", KEY_B)),),
            resource=key_policy(
                allow(
                    "kms:Decrypt",
                    principal=ROLE,
                    condition={
                        "StringLike": {"kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::data/*"}
                    },
                )
            ),
        ),
        "allowed",
        context=VIA_S3,
    ),
    Case(
        "encryption-context-object-with-bucket-key",
        "kms:Decrypt",
        KEY_B,
        key(
            B,
            identity=(identity(allow("kms:Decrypt", KEY_B)),),
            resource=key_policy(
                allow(
                    "kms:Decrypt",
                    principal=ROLE,
                    condition={
                        "StringLike": {"kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::data/*"}
                    },
                )
            ),
        ),
        "implicit:key-policy",
        context=VIA_S3_BUCKET_KEY,
    ),
    Case(
        "encryption-context-bucket-with-bucket-key",
        "kms:Decrypt",
        KEY_B,
        key(
            B,
            identity=(identity(allow("kms:Decrypt", KEY_B)),),
            resource=key_policy(
                allow(
                    "kms:Decrypt",
                    principal=ROLE,
                    condition={"StringEquals": {"kms:EncryptionContext:aws:s3:arn": BUCKET}},
                )
            ),
        ),
        "allowed",
        context=VIA_S3_BUCKET_KEY,
    ),
    Case(
        "encryption-context-absent-direct",
        "kms:Decrypt",
        KEY_B,
        key(
            B,
            identity=(identity(allow("kms:Decrypt", KEY_B)),),
            resource=key_policy(
                allow(
                    "kms:Decrypt",
                    principal=ROLE,
                    condition={
                        "StringLike": {"kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::data/*"}
                    },
                )
            ),
        ),
        "implicit:key-policy",
        context=DIRECT,
    ),
    Case(
        "source-vpce-deny-hits-s3-call",
        "kms:Decrypt",
        KEY_A,
        key(
            A,
            identity=(identity(allow("kms:Decrypt", KEY_A)),),
            resource=key_policy(
                allow("kms:*", principal=ROOT_A),
                deny(
                    "kms:*",
                    principal="*",
                    condition={"StringNotEquals": {"aws:SourceVpce": "vpce-0abc"}},
                ),
                account=A,
            ),
        ),
        "explicit:key-policy",
        context=VIA_S3_SAME,
    ),
    Case(
        "source-vpce-deny-spares-direct-call",
        "kms:Decrypt",
        KEY_A,
        key(
            A,
            identity=(identity(allow("kms:Decrypt", KEY_A)),),
            resource=key_policy(
                allow("kms:*", principal=ROOT_A),
                deny(
                    "kms:*",
                    principal="*",
                    condition={"StringNotEquals": {"aws:SourceVpce": "vpce-0abc"}},
                ),
                account=A,
            ),
        ),
        "allowed",
        context=DIRECT_VPCE,
    ),
    Case(
        "source-vpce-deny-with-via-aws-service-exception",
        "kms:Decrypt",
        KEY_A,
        key(
            A,
            identity=(identity(allow("kms:Decrypt", KEY_A)),),
            resource=key_policy(
                allow("kms:*", principal=ROOT_A),
                deny(
                    "kms:*",
                    principal="*",
                    condition={
                        "StringNotEquals": {"aws:SourceVpce": "vpce-0abc"},
                        "Bool": {"aws:ViaAWSService": "false"},
                    },
                ),
                account=A,
            ),
        ),
        "allowed",
        context=VIA_S3_SAME,
    ),
    Case(
        "caller-account-condition-cross-account",
        "kms:Decrypt",
        KEY_B,
        key(
            B,
            identity=(identity(allow("kms:Decrypt", KEY_B)),),
            resource=key_policy(
                allow(
                    "kms:Decrypt",
                    principal=ROLE,
                    condition={"StringEquals": {"kms:CallerAccount": B}},
                )
            ),
        ),
        "implicit:key-policy",
        context=VIA_S3,
    ),
    # --- other operators in context ---------------------------------------------------------
    Case(
        "ip-address-in-range",
        "s3:GetObject",
        OBJ,
        bucket(
            identity=(identity(allow(condition={"IpAddress": {"aws:SourceIp": "10.1.0.0/16"}})),)
        ),
        "allowed",
        context=s3_context(
            APP, region="us-east-1", resource_account=A, network=Network(source_ip="10.1.2.3")
        ),
    ),
    Case(
        "not-ip-address-deny",
        "s3:GetObject",
        OBJ,
        bucket(
            identity=(
                identity(
                    allow(), deny(condition={"NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24"]}})
                ),
            )
        ),
        "explicit:identity-policy",
        context=s3_context(
            APP, region="us-east-1", resource_account=A, network=Network(source_ip="10.1.2.3")
        ),
    ),
    Case(
        "numeric-max-keys",
        "s3:ListBucket",
        BUCKET,
        bucket(
            identity=(
                identity(
                    allow(
                        "s3:ListBucket", condition={"NumericLessThanEquals": {"s3:max-keys": "100"}}
                    )
                ),
            )
        ),
        "allowed",
        context=s3_context(APP, region="us-east-1", resource_account=A, query={"max-keys": "50"}),
    ),
    Case(
        "numeric-max-keys-too-many",
        "s3:ListBucket",
        BUCKET,
        bucket(
            identity=(
                identity(
                    allow(
                        "s3:ListBucket", condition={"NumericLessThanEquals": {"s3:max-keys": "100"}}
                    )
                ),
            )
        ),
        "implicit:identity-policy",
        context=s3_context(APP, region="us-east-1", resource_account=A, query={"max-keys": "500"}),
    ),
    Case(
        "date-before-expiry",
        "s3:GetObject",
        OBJ,
        bucket(
            identity=(
                identity(
                    allow(condition={"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}})
                ),
            )
        ),
        "allowed",
        context=make_context({"aws:CurrentTime": "2026-12-01T10:00:00Z"}),
    ),
    Case(
        "date-after-expiry",
        "s3:GetObject",
        OBJ,
        bucket(
            identity=(
                identity(
                    allow(condition={"DateLessThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}})
                ),
            )
        ),
        "implicit:identity-policy",
        context=make_context({"aws:CurrentTime": "2026-12-01T10:00:00Z"}),
    ),
    Case(
        "acl-required-by-bucket-policy-missing",
        "s3:PutObject",
        OBJ,
        bucket(
            B,
            identity=(identity(allow("s3:PutObject")),),
            resource=bucket_policy(
                allow(
                    "s3:PutObject",
                    principal=ROLE,
                    condition={"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
                ),
                account=B,
            ),
        ),
        "implicit:bucket-policy",
        context=s3_context(APP, region="us-east-1", resource_account=B),
    ),
    Case(
        "acl-required-by-bucket-policy-sent",
        "s3:PutObject",
        OBJ,
        bucket(
            B,
            identity=(identity(allow("s3:PutObject")),),
            resource=bucket_policy(
                allow(
                    "s3:PutObject",
                    principal=ROLE,
                    condition={"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
                ),
                account=B,
            ),
        ),
        "allowed",
        context=s3_context(
            APP,
            region="us-east-1",
            resource_account=B,
            headers={"x-amz-acl": "bucket-owner-full-control"},
        ),
    ),
    Case(
        "for-any-value-tag-keys",
        "s3:PutObject",
        OBJ,
        bucket(
            identity=(
                identity(
                    allow(
                        "s3:PutObject",
                        condition={
                            "ForAnyValue:StringEquals": {"s3:RequestObjectTagKeys": ["team"]}
                        },
                    )
                ),
            )
        ),
        "allowed",
        context=s3_context(
            APP,
            region="us-east-1",
            resource_account=A,
            headers={"x-amz-tagging": "team=red&env=dev"},
        ),
    ),
    Case(
        "for-all-values-tag-keys-extra-key",
        "s3:PutObject",
        OBJ,
        bucket(
            identity=(
                identity(
                    allow(
                        "s3:PutObject",
                        condition={
                            "ForAllValues:StringEquals": {"s3:RequestObjectTagKeys": ["team"]}
                        },
                    )
                ),
            )
        ),
        "implicit:identity-policy",
        context=s3_context(
            APP,
            region="us-east-1",
            resource_account=A,
            headers={"x-amz-tagging": "team=red&env=dev"},
        ),
    ),
    Case(
        "if-exists-missing-key",
        "s3:PutObject",
        OBJ,
        bucket(
            identity=(
                identity(
                    allow(
                        "s3:PutObject",
                        condition={
                            "StringEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}
                        },
                    )
                ),
            )
        ),
        "allowed",
        context=s3_context(APP, region="us-east-1", resource_account=A),
    ),
    Case(
        "null-requires-encryption-header",
        "s3:PutObject",
        OBJ,
        bucket(
            identity=(
                identity(
                    allow("s3:PutObject"),
                    deny(
                        "s3:PutObject",
                        condition={"Null": {"s3:x-amz-server-side-encryption": "true"}},
                    ),
                ),
            )
        ),
        "explicit:identity-policy",
        context=s3_context(APP, region="us-east-1", resource_account=A),
    ),
    Case(
        "arn-like-principal-arn",
        "s3:GetObject",
        OBJ,
        bucket(
            resource=bucket_policy(
                allow(
                    principal="*",
                    resource="*",
                    condition={"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{A}:role/A*"}},
                )
            )
        ),
        "allowed",
        context=s3_context(APP, region="us-east-1", resource_account=A),
    ),
    Case(
        "string-equals-ignore-case",
        "s3:GetObject",
        OBJ,
        bucket(
            identity=(
                identity(
                    allow(
                        condition={"StringEqualsIgnoreCase": {"aws:PrincipalType": "assumedrole"}}
                    )
                ),
            )
        ),
        "allowed",
        context=s3_context(APP, region="us-east-1", resource_account=A),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_evaluate(case: Case) -> None:
    decision = evaluate(
        Request(case.caller, case.action, case.resource, case.context), PolicySet(**case.policies)
    )
    if case.expected == "allowed":
        assert decision.allowed, decision.explain()
        assert decision.allowed_by
        return
    outcome, _, kinds = case.expected.partition(":")
    assert not decision.allowed
    if outcome == "explicit":
        assert decision.outcome == "explicit-deny", decision.explain()
        assert decision.denied_by is not None
        assert decision.denied_by.policy_kind == kinds
    else:
        assert decision.outcome == "implicit-deny", decision.explain()
        assert [m.policy_kind for m in decision.missing] == kinds.split("+")


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES)


def test_same_account_denial_offers_bucket_policy_as_alternative() -> None:
    decision = evaluate(Request(APP, "s3:GetObject", OBJ), PolicySet(**bucket()))
    assert [m.policy_kind for m in decision.alternatives] == ["bucket-policy"]
    assert "or in bucket-policy" in decision.explain()


def test_explicit_deny_names_statement_and_aws_reason() -> None:
    policies = PolicySet(
        **bucket(identity=(identity(allow("s3:*"), deny("s3:GetObject", sid="NoReads")),))
    )
    decision = evaluate(Request(APP, "s3:GetObject", OBJ), policies)
    assert decision.denied_by is not None
    assert decision.denied_by.sid == "NoReads"
    assert decision.denied_by.index == 1
    assert "statement 'NoReads' (#1) of identity-policy" in decision.explain()
    assert decision.aws_reason() == "with an explicit deny in an identity-based policy"


def test_aws_reasons() -> None:
    cross = PolicySet(
        **key(
            B,
            identity=(identity(allow("kms:Decrypt", KEY_B)),),
            resource=key_policy(allow("kms:*", principal=ROOT_B)),
        )
    )
    decision = evaluate(Request(APP, "kms:Decrypt", KEY_B, VIA_S3), cross)
    assert decision.aws_reason() == "because no resource-based policy allows the kms:Decrypt action"
    session = PolicySet(
        **bucket(
            identity=(identity(allow("s3:*")),),
            session_policies=(policy("session-policy", deny("s3:*"), allow("*")),),
        )
    )
    decision = evaluate(Request(APP, "s3:GetObject", OBJ), session)
    assert decision.aws_reason() == "with an explicit deny in a sessions policy"


def test_near_miss_names_the_failing_condition() -> None:
    policies = PolicySet(
        **key(
            B,
            identity=(identity(allow("kms:Decrypt", KEY_B)),),
            resource=key_policy(
                allow("kms:Decrypt", principal=ROLE, condition=VIA, sid="ViaS3Only")
            ),
        )
    )
    decision = evaluate(Request(APP, "kms:Decrypt", KEY_B, DIRECT), policies)
    assert not decision.allowed
    assert decision.near_misses
    assert "ViaS3Only" in decision.near_misses[0].describe()
    assert "kms:ViaService" in decision.near_misses[0].condition
