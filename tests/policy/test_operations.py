"""The per-operation table, S3 calls checked against a World, and whole-copy analysis."""

from __future__ import annotations

import dataclasses

import pytest

from s3xcopy.errors import InvalidInputError
from s3xcopy.lab import load_scenario
from s3xcopy.location import S3Location
from s3xcopy.policy import (
    OPERATIONS,
    Caller,
    CopySpec,
    Encryption,
    S3Call,
    analyze_copy,
    aws_managed_s3_key,
    check_call,
    findings_for_operation,
    merge_statements,
    required_permissions,
    role_arn_from_session_arn,
)

SRC_KEY = "arn:aws:kms:us-east-1:111111111111:key/src"
DST_KEY = "arn:aws:kms:us-east-1:222222222222:key/dst"
SRC = S3Location("src-bucket", "in/a.bin")
DST = S3Location("dst-bucket", "out/a.bin")
KMS_SRC = Encryption("aws:kms", SRC_KEY)
KMS_DST = Encryption("aws:kms", DST_KEY)

# What each S3 API needs with SSE-KMS on both sides, no optional headers, no versions:
# the reference table, restated independently of the code's table.
EXPECTED = {
    "HeadObject": ["s3:GetObject object"],
    "GetObject": ["s3:GetObject object", "kms:Decrypt object key"],
    "PutObject": ["s3:PutObject destination object", "kms:GenerateDataKey destination key"],
    "CopyObject": [
        "s3:GetObject source object",
        "s3:PutObject destination object",
        "kms:Decrypt source key",
        "kms:GenerateDataKey destination key",
    ],
    "CreateMultipartUpload": [
        "s3:PutObject destination object",
        "kms:GenerateDataKey destination key",
    ],
    "UploadPart": ["s3:PutObject destination object", "kms:Decrypt destination key"],
    "UploadPartCopy": [
        "s3:GetObject source object",
        "s3:PutObject destination object",
        "kms:Decrypt source key",
        "kms:Decrypt destination key",
    ],
    "CompleteMultipartUpload": ["s3:PutObject destination object"],
    "AbortMultipartUpload": ["s3:AbortMultipartUpload destination object"],
    "ListParts": ["s3:ListMultipartUploadParts object"],
    "GetObjectTagging": ["s3:GetObjectTagging object"],
    "PutObjectTagging": ["s3:PutObjectTagging object"],
    "DeleteObjectTagging": ["s3:DeleteObjectTagging object"],
    "GetObjectAcl": ["s3:GetObjectAcl object"],
    "PutObjectAcl": ["s3:PutObjectAcl object"],
    "GetObjectAttributes": ["s3:GetObject object", "s3:GetObjectAttributes object"],
    "DeleteObject": ["s3:DeleteObject object"],
    "DeleteObjects": ["s3:DeleteObject object"],
    "ListObjectsV2": ["s3:ListBucket bucket"],
    "ListObjects": ["s3:ListBucket bucket"],
    "ListObjectVersions": ["s3:ListBucketVersions bucket"],
    "ListMultipartUploads": ["s3:ListBucketMultipartUploads bucket"],
    "HeadBucket": ["s3:ListBucket bucket"],
    "GetBucketLocation": ["s3:GetBucketLocation bucket"],
    "GetBucketEncryption": ["s3:GetEncryptionConfiguration bucket"],
    "GetBucketVersioning": ["s3:GetBucketVersioning bucket"],
    "GetBucketPolicy": ["s3:GetBucketPolicy bucket"],
    "GetBucketOwnershipControls": ["s3:GetBucketOwnershipControls bucket"],
    "GetBucketRequestPayment": ["s3:GetBucketRequestPayment bucket"],
    "CreateBucket": ["s3:CreateBucket bucket"],
    "DeleteBucket": ["s3:DeleteBucket bucket"],
    "ListBuckets": ["s3:ListAllMyBuckets account"],
}
_WRITES = {"PutObject", "CopyObject", "CreateMultipartUpload", "UploadPart", "UploadPartCopy",
           "CompleteMultipartUpload", "AbortMultipartUpload"}  # fmt: skip


def _call(operation: str, **changes: object) -> S3Call:
    copying = operation in ("CopyObject", "UploadPartCopy")
    call = S3Call(
        operation,
        DST if operation in _WRITES else SRC,
        source=SRC if copying else None,
        target_encryption=KMS_DST if operation in _WRITES else KMS_SRC,
        source_encryption=KMS_SRC if copying else None,
        target_role="destination" if operation in _WRITES else "object",
    )
    return dataclasses.replace(call, **changes)  # type: ignore[arg-type]


def _summary(call: S3Call) -> list[str]:
    return [f"{p.action} {p.role}" for p in required_permissions(call)]


def test_every_operation_has_an_expected_row() -> None:
    assert set(EXPECTED) == set(OPERATIONS)


@pytest.mark.parametrize("operation", sorted(EXPECTED))
def test_requirements_row(operation: str) -> None:
    assert _summary(_call(operation)) == EXPECTED[operation]


@pytest.mark.parametrize(
    ("operation", "flags", "extra"),
    [
        ("PutObject", {"tagging"}, ["s3:PutObjectTagging destination object"]),
        ("PutObject", {"acl"}, ["s3:PutObjectAcl destination object"]),
        (
            "PutObject",
            {"retention", "legal-hold"},
            [
                "s3:PutObjectRetention destination object",
                "s3:PutObjectLegalHold destination object",
            ],
        ),
        (
            "CreateMultipartUpload",
            {"tagging", "acl"},
            ["s3:PutObjectTagging destination object", "s3:PutObjectAcl destination object"],
        ),
        (
            "CopyObject",
            {"copy-tags"},
            ["s3:GetObjectTagging source object", "s3:PutObjectTagging destination object"],
        ),
        ("HeadObject", {"checksum-mode"}, ["kms:Decrypt object key"]),
        ("CompleteMultipartUpload", {"additional-checksums"}, ["kms:Decrypt destination key"]),
    ],
)
def test_conditional_needs(operation: str, flags: set[str], extra: list[str]) -> None:
    base = _summary(_call(operation))
    with_flags = _summary(_call(operation, flags=frozenset(flags)))
    assert [s for s in with_flags if s not in base] == extra


def test_version_actions() -> None:
    versioned = S3Location("src-bucket", "in/a.bin", "v1")
    assert _summary(_call("GetObject", target=versioned))[0] == "s3:GetObjectVersion object"
    assert _summary(_call("GetObjectTagging", target=versioned)) == [
        "s3:GetObjectVersionTagging object"
    ]
    copy = _call("CopyObject", source=versioned, flags=frozenset({"copy-tags"}))
    assert "s3:GetObjectVersion source object" in _summary(copy)
    assert "s3:GetObjectVersionTagging source object" in _summary(copy)
    # The version of the source does not change what the destination needs.
    assert "s3:PutObject destination object" in _summary(copy)


def test_no_kms_needs_without_sse_kms() -> None:
    call = _call(
        "UploadPartCopy",
        target_encryption=Encryption("AES256"),
        source_encryption=Encryption("AES256"),
    )
    assert _summary(call) == ["s3:GetObject source object", "s3:PutObject destination object"]


def test_encryption_context_is_object_or_bucket_arn() -> None:
    plain = required_permissions(_call("PutObject"))[-1]
    assert plain.encryption_context_arn == "arn:aws:s3:::dst-bucket/out/a.bin"
    bucket_key = required_permissions(
        _call("PutObject", target_encryption=Encryption("aws:kms", DST_KEY, True))
    )[-1]
    assert bucket_key.encryption_context_arn == "arn:aws:s3:::dst-bucket"


# --- checks against scenarios --------------------------------------------------------------

ORIGINAL = load_scenario("original")
EC2 = ORIGINAL.principal("EC2Role").info.caller()
KEY = "arn:aws:kms:us-east-1:987654321098:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def test_original_case_analysis() -> None:
    spec = CopySpec(
        S3Location("cp-src", "big.bin"), S3Location("cp-dst", "big.bin"), size=64 * 1024 * 1024
    )
    analysis = analyze_copy(ORIGINAL.world, EC2, spec)
    assert analysis.single.clear
    assert not analysis.single.findings
    assert not analysis.multipart.clear
    assert analysis.multipart.taken
    assert not analysis.clear
    found = [(f.action, f.resource, f.policy, f.account, f.principal) for f in analysis.findings]
    assert found == [
        (
            "kms:Decrypt",
            KEY,
            "key-policy",
            "987654321098",
            "arn:aws:iam::123456789012:role/EC2Role",
        ),
        (
            "kms:Decrypt",
            KEY,
            "identity-policy",
            "123456789012",
            "arn:aws:iam::123456789012:role/EC2Role",
        ),
    ]
    key_statement, identity_statement = (f.statement for f in analysis.findings)
    assert key_statement == {
        "Sid": "AllowKmsDecrypt",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:role/EC2Role"},
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
    }
    assert identity_statement is not None
    assert identity_statement["Resource"] == KEY
    assert "Principal" not in identity_statement
    assert all(f.certainty == "inferred" for f in analysis.findings)
    # The clean-up call is reported but does not decide the path.
    abort = analysis.multipart.steps[-1]
    assert abort.cleanup
    assert not abort.check.allowed


def test_small_copy_takes_single_path() -> None:
    spec = CopySpec(S3Location("cp-src", "s"), S3Location("cp-dst", "s"), size=1024 * 1024)
    analysis = analyze_copy(ORIGINAL.world, EC2, spec)
    assert analysis.single.taken
    assert not analysis.multipart.taken


def test_over_5_gib_has_no_single_path() -> None:
    spec = CopySpec(S3Location("cp-src", "h"), S3Location("cp-dst", "h"), size=6 * 1024**3)
    analysis = analyze_copy(ORIGINAL.world, EC2, spec)
    assert not analysis.single.possible
    assert analysis.single.impossible_reason is not None
    assert analysis.multipart.taken


def test_fixed_scenario_is_clear() -> None:
    fixed = load_scenario("original-fixed")
    spec = CopySpec(S3Location("cp-src", "b"), S3Location("cp-dst", "b"), size=64 * 1024 * 1024)
    caller = fixed.principal("EC2Role").info.caller()
    assert analyze_copy(fixed.world, caller, spec).clear


def test_same_account_needs_identity_only() -> None:
    scenario = load_scenario("same-account")
    spec = CopySpec(S3Location("sa-src", "b"), S3Location("sa-dst", "b"), size=64 * 1024 * 1024)
    analysis = analyze_copy(scenario.world, scenario.principal("CopyRole").info.caller(), spec)
    assert analysis.single.clear
    assert [(f.action, f.policy) for f in analysis.findings] == [("kms:Decrypt", "identity-policy")]


def test_bucket_key_context_fails_both_paths_and_merges_statements() -> None:
    scenario = load_scenario("bucket-key")
    spec = CopySpec(S3Location("cp-src", "b"), S3Location("cp-dst", "b"), size=64 * 1024 * 1024)
    analysis = analyze_copy(scenario.world, scenario.principal("EC2Role").info.caller(), spec)
    assert not analysis.single.clear
    assert not analysis.multipart.clear
    assert "kms:EncryptionContext:aws:s3:arn" in analysis.findings[0].summary
    (fix,) = merge_statements(analysis.findings)
    assert fix.policy == "key-policy"
    assert fix.statement["Action"] == ["kms:GenerateDataKey", "kms:Decrypt"]
    # Turning Bucket Keys off for this copy makes the same key policy work.
    assert analyze_copy(scenario.world, EC2, dataclasses.replace(spec, bucket_key=False)).clear


def test_copy_tags_and_acl_add_needs() -> None:
    spec = CopySpec(
        S3Location("cp-src", "t"), S3Location("cp-dst", "t"), size=64 * 1024 * 1024,
        copy_tags=True, acl="bucket-owner-full-control",
    )  # fmt: skip
    analysis = analyze_copy(ORIGINAL.world, EC2, spec)
    actions = {f.action for f in analysis.findings}
    assert {"s3:GetObjectTagging", "s3:PutObjectTagging", "s3:PutObjectAcl"} <= actions
    operations = [s.operation for s in analysis.multipart.steps]
    assert operations[:2] == ["HeadObject", "GetObjectTagging"]


def test_checksum_algorithm_adds_decrypt_at_complete() -> None:
    fixed = load_scenario("original-fixed")
    spec = CopySpec(
        S3Location("cp-src", "c"),
        S3Location("cp-dst", "c"),
        size=64 * 1024 * 1024,
        checksum_algorithm="CRC32",
    )
    analysis = analyze_copy(fixed.world, EC2, spec)
    complete = next(s for s in analysis.multipart.steps if s.operation == "CompleteMultipartUpload")
    assert [c.permission.action for c in complete.check.checks] == ["s3:PutObject", "kms:Decrypt"]


@pytest.mark.parametrize(
    ("state", "code", "message"),
    [
        ("Disabled", "KMS.DisabledException", f"{KEY} is disabled."),
        ("PendingDeletion", "KMS.KMSInvalidStateException", f"{KEY} is pending deletion."),
    ],
)
def test_key_states(state: str, code: str, message: str) -> None:
    doc = load_scenario("original-fixed").to_dict()
    doc["keys"]["dst-key"]["state"] = state
    scenario = load_scenario(doc)
    call = S3Call(
        "PutObject",
        S3Location("cp-dst", "k"),
        target_encryption=Encryption("aws:kms", KEY),
        target_role="destination",
    )
    failure = check_call(scenario.world, EC2, call).first_failure
    assert failure is not None
    assert failure.key_problem is not None
    assert (failure.key_problem.code, failure.key_problem.message) == (code, message)
    (finding,) = findings_for_operation(check_call(scenario.world, EC2, call))
    assert finding.code == f"kms-key-{state.lower().replace('pendingdeletion', 'pending-deletion')}"


def test_denial_comes_before_key_state() -> None:
    doc = ORIGINAL.to_dict()
    doc["keys"]["dst-key"]["state"] = "Disabled"
    scenario = load_scenario(doc)
    call = S3Call(
        "UploadPart",
        S3Location("cp-dst", "k"),
        target_encryption=Encryption("aws:kms", KEY),
        target_role="destination",
    )
    failure = check_call(scenario.world, EC2, call).first_failure
    assert failure is not None
    assert failure.key_problem is None
    assert failure.decision is not None
    assert not failure.decision.allowed


@pytest.mark.parametrize(
    ("key_arn", "message"),
    [
        (
            "arn:aws:kms:us-east-1:987654321098:key/nope",
            "Key 'arn:aws:kms:us-east-1:987654321098:key/nope' does not exist",
        ),
        (
            "arn:aws:kms:eu-west-1:987654321098:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "Invalid arn eu-west-1",
        ),
    ],
)
def test_missing_or_foreign_region_key(key_arn: str, message: str) -> None:
    call = S3Call(
        "PutObject", S3Location("cp-dst", "k"), target_encryption=Encryption("aws:kms", key_arn)
    )
    failure = check_call(ORIGINAL.world, EC2, call).first_failure
    assert failure is not None
    assert failure.key_problem is not None
    assert failure.key_problem.code == "KMS.NotFoundException"
    assert failure.key_problem.message == message


def test_write_encryption_resolution() -> None:
    world = ORIGINAL.world
    assert world.write_encryption("cp-dst", caller_account="123456789012").key_arn == KEY
    alias = world.write_encryption(
        "cp-dst", caller_account="987654321098", sse="aws:kms", kms_key="alias/cp-dst"
    )
    assert alias.key_arn == KEY
    # A bare alias resolves in the caller's account: the source account has no such alias.
    foreign = world.write_encryption(
        "cp-dst", caller_account="123456789012", sse="aws:kms", kms_key="alias/cp-dst"
    )
    assert foreign.key_arn == "arn:aws:kms:us-east-1:123456789012:alias/cp-dst"
    managed = world.write_encryption("cp-dst", caller_account="123456789012", sse="aws:kms")
    assert managed.key_arn == aws_managed_s3_key("123456789012", "us-east-1").arn
    assert world.write_encryption("cp-dst", caller_account="1", sse="AES256").algorithm == "AES256"


def test_callers() -> None:
    session = "arn:aws:sts::123456789012:assumed-role/EC2Role/i-0abc"
    assert role_arn_from_session_arn(session) == "arn:aws:iam::123456789012:role/EC2Role"
    caller = Caller.from_arn(session)
    assert (caller.kind, caller.name, caller.session_name, caller.account) == (
        "role",
        "EC2Role",
        "i-0abc",
        "123456789012",
    )
    assert caller.user_id.startswith("AROA")
    assert caller.user_id.endswith(":i-0abc")
    assert Caller.from_arn("arn:aws:iam::123456789012:user/alice").kind == "user"
    assert Caller.from_arn("arn:aws:iam::123456789012:root").kind == "root"
    for bad in ("alice", "arn:aws:s3:::bucket", "arn:aws:sts::123456789012:assumed-role/OnlyRole"):
        with pytest.raises(InvalidInputError):
            Caller.from_arn(bad)
