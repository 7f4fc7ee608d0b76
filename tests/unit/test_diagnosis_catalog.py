"""Every row of the diagnosis catalog, one parametrized case each (cfn-lint's one rule, one test).

A case is a refused request with its context; it asserts which findings come out:
the row id, the action, the policy kind, the account and the certainty.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from s3xcopy.diagnosis import DenialContext, diagnose, fallback_may_help
from s3xcopy.diagnosis.catalog import CATALOG
from s3xcopy.location import S3Location

SESSION = "arn:aws:sts::123456789012:assumed-role/EC2Role/i-0abc"
ROLE = "arn:aws:iam::123456789012:role/EC2Role"
DEST_KEY = "arn:aws:kms:us-east-1:987654321098:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SOURCE_KEY = "arn:aws:kms:us-east-1:555555555555:key/0000aaaa-12ab-34cd-56ef-1234567890ab"
SAME_KEY = "arn:aws:kms:us-east-1:123456789012:key/9999bbbb-12ab-34cd-56ef-1234567890ab"
OBJ = "arn:aws:s3:::cp-dst/big.bin"

BASE = DenialContext(
    operation="UploadPartCopy",
    code="AccessDenied",
    message="Access Denied",
    strategy="multipart",
    size=64 * 1024 * 1024,
    source=S3Location("cp-src", "big.bin"),
    dest=S3Location("cp-dst", "big.bin"),
    caller_arn=SESSION,
    dest_key_arn=DEST_KEY,
    region="us-east-1",
    proven=frozenset({"HeadObject", "CreateMultipartUpload"}),
)


def explicit(action: str, resource: str, ending: str) -> str:
    return (
        f"User: {SESSION} is not authorized to perform: {action} on resource: {resource} {ending}"
    )


Expected = tuple[str, str, str, str | None, str]  # code, action, policy, account, certainty

CASES: list[tuple[str, dict[str, Any], list[Expected]]] = [
    (
        "credentials-refused",
        {
            "operation": "HeadObject",
            "code": "403",
            "message": "Forbidden",
            "caller_arn": None,
            "credentials_refused": "ExpiredToken",
        },
        [("credentials-refused", "(credentials)", "unknown", None, "stated")],
    ),
    (
        "explicit-deny",
        {
            "operation": "CreateMultipartUpload",
            "message": explicit(
                "s3:PutObject",
                f'"{OBJ}"',
                "with an explicit deny in a service control policy: "
                "arn:aws:organizations::111122223333:policy/o-a/service_control_policy/p-1",
            ),
        },
        [("explicit-deny", "s3:PutObject", "scp", "123456789012", "stated")],
    ),
    (
        "missing-allow",
        {
            "message": explicit(
                "kms:Decrypt",
                DEST_KEY,
                "because no resource-based policy allows the kms:Decrypt action",
            )
        },
        [
            ("missing-allow", "kms:Decrypt", "key-policy", "987654321098", "stated"),
            (
                "missing-allow-other-side",
                "kms:Decrypt",
                "identity-policy",
                "123456789012",
                "inferred",
            ),
        ],
    ),
    (
        "kms-key-disabled",
        {"code": "KMS.DisabledException", "message": f"{DEST_KEY} is disabled."},
        [("kms-key-disabled", "kms:Decrypt", "unknown", "987654321098", "inferred")],
    ),
    (
        "kms-key-pending-deletion",
        {
            "operation": "CreateMultipartUpload",
            "code": "KMS.KMSInvalidStateException",
            "message": f"{DEST_KEY} is pending deletion.",
        },
        [
            (
                "kms-key-pending-deletion",
                "kms:GenerateDataKey",
                "unknown",
                "987654321098",
                "inferred",
            )
        ],
    ),
    (
        "kms-key-wrong-region",
        {
            "operation": "CopyObject",
            "code": "KMS.NotFoundException",
            "message": "Invalid arn eu-west-1",
        },
        [("kms-key-wrong-region", "kms:GenerateDataKey", "unknown", "987654321098", "inferred")],
    ),
    (
        "kms-key-not-found",
        {
            "operation": "CopyObject",
            "code": "KMS.NotFoundException",
            "message": "Invalid keyId 'alias/nope'",
            "dest_key_arn": None,
        },
        [("kms-key-not-found", "kms:GenerateDataKey", "unknown", None, "inferred")],
    ),
    (
        "kms-throttled",
        {
            "code": "SlowDown",
            "message": "Please reduce your request rate for operations involving AWS KMS.",
        },
        [("kms-throttled", "kms:GenerateDataKey", "unknown", "987654321098", "inferred")],
    ),
    (
        "object-lock",
        {
            "operation": "CopyObject",
            "message": "Access Denied because object protected by object lock.",
        },
        [("object-lock", "s3:PutObject", "unknown", None, "inferred")],
    ),
    (
        "aws-managed-key-cross-account",
        {"dest_key_arn": "arn:aws:kms:us-east-1:987654321098:alias/aws/s3"},
        [
            (
                "aws-managed-key-cross-account",
                "kms:Decrypt",
                "key-policy",
                "987654321098",
                "inferred",
            )
        ],
    ),
    (
        "expected-owner-mismatch",
        {
            "operation": "CreateMultipartUpload",
            "dest_bucket_owner": "444455556666",
            "proven": frozenset({"HeadObject"}),
        },
        [("expected-owner-mismatch", "s3:PutObject", "unknown", "444455556666", "inferred")],
    ),
    (
        "requester-pays",
        {
            "operation": "HeadObject",
            "code": "403",
            "message": "Forbidden",
            "proven": frozenset(),
        },
        [("requester-pays", "s3:GetObject", "unknown", None, "inferred")],
    ),
    (
        "acl-required",
        {"operation": "CopyObject", "strategy": "single", "proven": frozenset({"HeadObject"})},
        [("acl-required", "s3:PutObject", "bucket-policy", "987654321098", "inferred")],
    ),
    (
        "dest-default-key-unknown",
        {
            "operation": "CopyObject",
            "dest_key_arn": None,
            "dest_bucket_owner": "987654321098",
            "proven": frozenset({"HeadObject"}),
        },
        [
            (
                "dest-default-key-unknown",
                "kms:GenerateDataKey",
                "key-policy",
                "987654321098",
                "inferred",
            )
        ],
    ),
    (
        "multipart-dest-kms-decrypt",
        {},
        [
            ("multipart-dest-kms-decrypt", "kms:Decrypt", "key-policy", "987654321098", "inferred"),
            (
                "multipart-dest-kms-decrypt",
                "kms:Decrypt",
                "identity-policy",
                "123456789012",
                "inferred",
            ),
        ],
    ),
    (
        "missing-grant",
        {
            "operation": "CreateMultipartUpload",
            "proven": frozenset({"HeadObject"}),
            "flags": frozenset({"tagging"}),
            "dest_bucket_owner": None,
        },
        [
            ("missing-grant", "s3:PutObject", "bucket-policy", None, "inferred"),
            ("missing-grant", "s3:PutObject", "identity-policy", "123456789012", "inferred"),
            ("missing-grant", "s3:PutObjectTagging", "identity-policy", "123456789012", "inferred"),
            ("missing-grant", "kms:GenerateDataKey", "key-policy", "987654321098", "inferred"),
        ],
    ),
]


def test_every_row_has_a_case() -> None:
    assert sorted(row.id for row in CATALOG) == sorted(case[0] for case in CASES)


@pytest.mark.parametrize(("row", "changes", "expected"), CASES, ids=[c[0] for c in CASES])
def test_row(row: str, changes: dict[str, Any], expected: list[Expected]) -> None:
    findings = diagnose(dataclasses.replace(BASE, **changes))
    got = {(f.code, f.action, f.policy, f.account, f.certainty) for f in findings}
    for item in expected:
        assert item in got, f"{item} not in {got}"
    mine = [f for f in findings if f.code.startswith(row)]
    assert mine, f"row {row} produced nothing: {findings}"
    for finding in findings:
        assert finding.summary and "\n" not in finding.summary
        if finding.statement is not None:
            assert "kms:*" not in str(finding.statement)
            assert ":assumed-role/" not in str(finding.statement)  # the role ARN, never a session


def test_original_case_is_exactly_two_findings() -> None:
    findings = diagnose(BASE)
    assert [(f.policy, f.account) for f in findings] == [
        ("key-policy", "987654321098"),
        ("identity-policy", "123456789012"),
    ]
    key_policy, identity = (f.statement for f in findings)
    assert key_policy is not None and identity is not None
    assert key_policy["Principal"] == {"AWS": ROLE}
    assert key_policy["Resource"] == "*"
    assert identity["Resource"] == DEST_KEY
    assert identity["Condition"] == {
        "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}
    }


def test_source_key_is_blamed_when_the_source_is_kms_encrypted() -> None:
    findings = diagnose(dataclasses.replace(BASE, source_key_arn=SOURCE_KEY))
    got = {(f.action, f.resource, f.policy, f.account) for f in findings}
    assert ("kms:Decrypt", SOURCE_KEY, "key-policy", "555555555555") in got
    assert ("kms:Decrypt", DEST_KEY, "key-policy", "987654321098") in got


@pytest.mark.parametrize(
    ("action", "resource", "owner", "account"),
    [
        ("s3:PutObject", f'"{OBJ}"', "987654321098", "987654321098"),  # the bucket's owner
        ("kms:Decrypt", DEST_KEY, None, "987654321098"),  # the key's account
        ("s3:PutObject", f'"{OBJ}"', None, None),  # unknown, never the caller's
    ],
)
def test_an_rcp_deny_is_fixed_in_the_resource_owners_account(
    action: str, resource: str, owner: str | None, account: str | None
) -> None:
    context = dataclasses.replace(
        BASE,
        message=explicit(action, resource, "with an explicit deny in a resource control policy"),
        dest_bucket_owner=owner,
    )
    [finding] = diagnose(context)
    assert (finding.code, finding.action, finding.policy, finding.account) == (
        "explicit-deny", action, "rcp", account,
    )  # fmt: skip
    assert "explicit Deny in a resource control policy" in finding.summary


def test_same_account_key_names_only_the_key_policy() -> None:
    findings = diagnose(dataclasses.replace(BASE, dest_key_arn=SAME_KEY))
    assert [(f.policy, f.account) for f in findings] == [("key-policy", "123456789012")]
    assert "root" in findings[0].summary


def test_unknown_caller_gets_a_placeholder_principal() -> None:
    findings = diagnose(dataclasses.replace(BASE, caller_arn=None))
    assert findings
    assert all(f.principal is None for f in findings)
    assert all("YOUR-ROLE" in f.summary for f in findings)


def test_head_object_forbidden_names_get_object() -> None:
    findings = diagnose(
        dataclasses.replace(
            BASE, operation="HeadObject", code="403", message="Forbidden", proven=frozenset(),
            source_bucket_owner="555555555555",
        )
    )  # fmt: skip
    got = {(f.code, f.action, f.policy, f.account) for f in findings}
    assert ("missing-grant", "s3:GetObject", "bucket-policy", "555555555555") in got
    assert ("missing-grant", "s3:GetObject", "identity-policy", "123456789012") in got


NO_IDENTITY = "because no identity-based policy allows the kms:Decrypt action"
SOURCE_OBJECT = '"arn:aws:s3:::cp-src/big.bin"'


@pytest.mark.parametrize(
    ("changes", "helps"),
    [
        ({}, True),  # bare on UploadPartCopy: try CopyObject
        ({"operation": "CreateMultipartUpload"}, False),  # CopyObject needs the same grants
        ({"message": explicit("kms:Decrypt", DEST_KEY, NO_IDENTITY)}, True),
        ({"message": explicit("kms:Decrypt", SOURCE_KEY, NO_IDENTITY)}, False),
        (
            {
                "message": explicit(
                    "s3:GetObject",
                    SOURCE_OBJECT,
                    "with an explicit deny in a resource-based policy",
                )
            },
            False,
        ),
        # Credentials expired mid-copy: CopyObject would send the same ones.
        ({"code": "ExpiredToken", "message": "The provided token has expired."}, False),
        ({"credentials_refused": "ExpiredToken"}, False),
    ],
)
def test_fallback_verdict(changes: dict[str, Any], helps: bool) -> None:
    assert fallback_may_help(dataclasses.replace(BASE, **changes)) is helps


@pytest.mark.parametrize(
    ("operation", "changes", "action"),
    [
        ("ListObjectsV2", {"source_bucket_owner": "444455556666"}, "s3:ListBucket"),
        ("ListObjectsV2", {"dest_bucket_owner": "444455556666"}, "s3:ListBucket"),
        ("DeleteObjects", {"dest_bucket_owner": "444455556666"}, "s3:DeleteObject"),
    ],
)
def test_a_bulk_request_refused_with_an_owner_given_names_its_own_grant(
    operation: str, changes: dict[str, Any], action: str
) -> None:
    where = S3Location("cp-dst", "out/*" if operation == "DeleteObjects" else "out/")
    context = dataclasses.replace(
        BASE, operation=operation, source=where, dest=where, dest_key_arn=None,
        proven=frozenset(), **changes,
    )  # fmt: skip
    findings = diagnose(context)
    mismatch = [f for f in findings if f.code == "expected-owner-mismatch"]
    assert [(f.action, f.resource, f.account) for f in mismatch] == [
        (action, "arn:aws:s3:::cp-dst", "444455556666")
    ]
    grants = {(f.action, f.policy) for f in findings if f.code == "missing-grant"}
    assert grants == {(action, "bucket-policy"), (action, "identity-policy")}


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"code": "ExpiredToken", "message": "The provided token has expired."}, "S3 answered"),
        ({"code": "InvalidAccessKeyId", "message": "does not exist"}, "S3 answered"),
        ({"code": "AccessDenied", "credentials_refused": "SignatureDoesNotMatch"}, "AWS STS"),
    ],
)
def test_refused_credentials_are_the_only_finding(changes: dict[str, Any], said: str) -> None:
    """No grant helps when the credentials are refused: no statement to add, one finding."""
    findings = diagnose(dataclasses.replace(BASE, **changes))
    assert [f.code for f in findings] == ["credentials-refused"]
    assert findings[0].statement is None
    assert said in findings[0].summary and "no grant helps" in findings[0].summary


def test_a_refusal_without_a_credentials_code_is_not_blamed_on_credentials() -> None:
    findings = diagnose(BASE)
    assert findings and "credentials-refused" not in {f.code for f in findings}
