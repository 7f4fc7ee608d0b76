"""Permission scenarios from the reference, run on the lab: s3xcopy names the missing grant.

Each scenario starts from the original case with every grant in place
(``original-fixed``), breaks one thing, copies with s3xcopy (no fallback, so the
refusal surfaces), and asserts the findings name the right action, policy kind and
account. Error style "bare" is AWS across organizations (``Access Denied``);
"explicit" is within one (``User: ... is not authorized ... because ...``).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from s3xcopy import AccessDeniedError, CopyConfig, S3xCopyError
from s3xcopy.api import build_engine
from s3xcopy.lab import load_scenario
from s3xcopy.limits import KiB, MiB
from s3xcopy.location import S3Location

pytestmark = pytest.mark.lab

SRC_ACCOUNT, DST_ACCOUNT, OTHER = "123456789012", "987654321098", "555555555555"
ROLE = f"arn:aws:iam::{SRC_ACCOUNT}:role/EC2Role"
DST_KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
DST_KEY = f"arn:aws:kms:us-east-1:{DST_ACCOUNT}:key/{DST_KEY_ID}"
SINGLE = CopyConfig(fallback=False, max_attempts=1)
MULTIPART = CopyConfig(
    fallback=False, max_attempts=1, multipart_threshold=5 * MiB, part_size=5 * MiB
)
ADMIN = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def base(style: str) -> dict[str, Any]:
    doc = copy.deepcopy(load_scenario("original-fixed").to_dict())
    doc["error_style"] = style
    doc["accounts"][OTHER] = {"name": "third"}
    doc["principals"]["SrcAdmin"] = {
        "account": SRC_ACCOUNT,
        "type": "role",
        "session_name": "admin",
        "access_key_id": "AKIALABSRCADMIN00001",
        "secret_access_key": "lab-not-a-secret-srcadmin",
        "policies": {"AdministratorAccess": ADMIN},
    }
    doc["principals"]["OtherAdmin"] = {
        "account": OTHER,
        "type": "role",
        "session_name": "admin",
        "access_key_id": "AKIALABOTHERADMIN001",
        "secret_access_key": "lab-not-a-secret-otheradmin",
        "policies": {"AdministratorAccess": ADMIN},
    }
    return doc


def identity(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """EC2Role's statements (both policies), editable in place."""
    policies = doc["principals"]["EC2Role"]["policies"]
    return [s for p in policies.values() for s in p["Statement"]]


def drop_action(statements: list[dict[str, Any]], action: str) -> None:
    """Remove ``action`` (and wildcards that cover it) from Allow statements."""
    for statement in statements:
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        prefix = action.split(":")[0] + ":"
        kept = [
            a
            for a in actions
            if a != action and not (a.endswith("*") and action.startswith(a[:-1]))
        ]
        if prefix + "GenerateDataKey" == action:
            kept = [a for a in kept if not a.startswith("kms:GenerateDataKey")]
        statement["Action"] = kept or ["s3:ListAllMyBuckets"]


def key_statements(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return doc["keys"]["dst-key"]["policy"]["Statement"]  # type: ignore[no-any-return]


def bucket_statements(doc: dict[str, Any], bucket: str = "cp-dst") -> list[dict[str, Any]]:
    return doc["buckets"][bucket]["policy"]["Statement"]  # type: ignore[no-any-return]


def deny(principal: str, action: str, resource: str, **extra: Any) -> dict[str, Any]:
    statement = {"Effect": "Deny", "Action": action, "Resource": resource, **extra}
    if principal:
        statement["Principal"] = {"AWS": principal}
    return statement


def outside_writes_denied(action: str) -> dict[str, Any]:
    """An RCP: ``action`` on the account's resources is denied to principals outside it."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OnlyOurAccount",
                "Effect": "Deny",
                "Principal": "*",
                "Action": action,
                "Resource": "*",
                "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalAccount": DST_ACCOUNT}},
            }
        ],
    }


def source_in_other_account(doc: dict[str, Any], **bucket: Any) -> None:
    doc["buckets"]["cp-src"] = {"account": OTHER, "encryption": {"sse": "AES256"}, **bucket}


def source_kms(doc: dict[str, Any], account: str, allow_role: bool) -> None:
    """The source bucket encrypts with a key in ``account`` (its admins may use it)."""
    statements = [
        {
            "Sid": "Admins",
            "Effect": "Allow",
            "Principal": {"AWS": [f"arn:aws:iam::{SRC_ACCOUNT}:role/SrcAdmin"]},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    if allow_role:
        statements.append(
            {
                "Effect": "Allow",
                "Principal": {"AWS": ROLE},
                "Action": "kms:GenerateDataKey",
                "Resource": "*",
            }
        )
    doc["keys"]["src-key"] = {
        "account": account,
        "policy": {"Version": "2012-10-17", "Statement": statements},
    }
    if account != SRC_ACCOUNT:
        doc["principals"]["SrcAdmin"]["policies"]["AdministratorAccess"] = ADMIN
    doc["buckets"]["cp-src"]["encryption"] = {"sse": "aws:kms", "key": "src-key"}


def identity_policy(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The statement list of EC2Role's first identity policy, to append to."""
    return doc["principals"]["EC2Role"]["policies"]["S3Permissions"]["Statement"]  # type: ignore[no-any-return]


def allow_tags(doc: dict[str, Any]) -> None:
    identity_policy(doc).append(
        {
            "Effect": "Allow",
            "Action": ["s3:GetObjectTagging", "s3:PutObjectTagging"],
            "Resource": "*",
        }
    )


@dataclass(frozen=True)
class Case:
    id: str
    style: str
    change: Callable[[dict[str, Any]], None]
    expected: tuple[tuple[str, str, str | None], ...]
    config: CopyConfig = MULTIPART
    extra_args: dict[str, Any] = field(default_factory=dict)
    source_tags: str | None = None
    writer: str = "SrcAdmin"
    codes: tuple[str, ...] = ()


def _dst_decrypt_both(d: dict[str, Any]) -> None:
    drop_action(identity(d), "kms:Decrypt")
    drop_action(key_statements(d)[1:], "kms:Decrypt")


def _key_condition(d: dict[str, Any]) -> None:
    key_statements(d)[1]["Condition"] = {
        "StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}
    }


def _acl_required(d: dict[str, Any]) -> None:
    bucket_statements(d).append(
        deny(
            "",
            "s3:PutObject",
            "arn:aws:s3:::cp-dst/*",
            Principal="*",
            Condition={"StringNotEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
        )
    )


CASES = [
    Case("dest-kms-decrypt-bare", "bare", _dst_decrypt_both,
         (("kms:Decrypt", "key-policy", DST_ACCOUNT),
          ("kms:Decrypt", "identity-policy", SRC_ACCOUNT)),
         codes=("multipart-dest-kms-decrypt",)),
    Case("dest-kms-decrypt-key-policy-only-bare", "bare",
         lambda d: drop_action(key_statements(d)[1:], "kms:Decrypt"),
         (("kms:Decrypt", "key-policy", DST_ACCOUNT),)),
    Case("dest-kms-decrypt-explicit", "explicit", _dst_decrypt_both,
         (("kms:Decrypt", "key-policy", DST_ACCOUNT),), codes=("missing-allow",)),
    Case("dest-kms-decrypt-identity-explicit", "explicit",
         lambda d: drop_action(identity(d), "kms:Decrypt"),
         (("kms:Decrypt", "identity-policy", SRC_ACCOUNT),), codes=("missing-allow",)),
    Case("dest-generate-data-key-key-policy-bare", "bare",
         lambda d: drop_action(key_statements(d)[1:], "kms:GenerateDataKey"),
         (("kms:GenerateDataKey", "key-policy", DST_ACCOUNT),), config=SINGLE,
         extra_args={"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": DST_KEY}),
    Case("dest-generate-data-key-default-key-bare", "bare",
         lambda d: drop_action(key_statements(d)[1:], "kms:GenerateDataKey"),
         (("kms:GenerateDataKey", "key-policy", DST_ACCOUNT),), config=SINGLE,
         extra_args={"ExpectedBucketOwner": DST_ACCOUNT}, codes=("dest-default-key-unknown",)),
    Case("dest-generate-data-key-identity-explicit", "explicit",
         lambda d: drop_action(identity(d), "kms:GenerateDataKey"),
         (("kms:GenerateDataKey", "identity-policy", SRC_ACCOUNT),), config=SINGLE),
    Case("dest-put-object-bucket-policy-bare", "bare",
         lambda d: drop_action(bucket_statements(d), "s3:PutObject"),
         (("s3:PutObject", "bucket-policy", DST_ACCOUNT),), config=SINGLE,
         extra_args={"ExpectedBucketOwner": DST_ACCOUNT}),
    Case("dest-put-object-bucket-policy-explicit", "explicit",
         lambda d: drop_action(bucket_statements(d), "s3:PutObject"),
         (("s3:PutObject", "bucket-policy", DST_ACCOUNT),), config=SINGLE,
         extra_args={"ExpectedBucketOwner": DST_ACCOUNT}),
    Case("dest-put-object-identity-explicit", "explicit",
         lambda d: drop_action(identity(d), "s3:PutObject"),
         (("s3:PutObject", "identity-policy", SRC_ACCOUNT),), config=SINGLE),
    Case("source-get-object-identity-bare", "bare",
         lambda d: drop_action(identity(d), "s3:GetObject"),
         (("s3:GetObject", "identity-policy", SRC_ACCOUNT),), config=SINGLE),
    Case("source-get-object-identity-explicit", "explicit",
         lambda d: drop_action(identity(d), "s3:GetObject"),
         (("s3:GetObject", "identity-policy", SRC_ACCOUNT),), config=SINGLE),
    Case("source-cross-account-bucket-policy-bare", "bare", source_in_other_account,
         (("s3:GetObject", "bucket-policy", OTHER),), config=SINGLE, writer="OtherAdmin",
         extra_args={"ExpectedSourceBucketOwner": OTHER}),
    Case("source-kms-cross-account-key-bare", "bare",
         lambda d: source_kms(d, OTHER, allow_role=False),
         (("kms:Decrypt", "key-policy", OTHER), ("kms:Decrypt", "identity-policy", SRC_ACCOUNT)),
         config=SINGLE),
    Case("source-kms-same-account-key-bare", "bare",
         lambda d: source_kms(d, SRC_ACCOUNT, allow_role=False),
         (("kms:Decrypt", "key-policy", SRC_ACCOUNT),), config=SINGLE),
    Case("source-kms-cross-account-key-multipart-bare", "bare",
         lambda d: source_kms(d, OTHER, allow_role=False),
         (("kms:Decrypt", "key-policy", OTHER),)),
    Case("source-tags-read-multipart-bare", "bare", lambda d: None,
         (("s3:GetObjectTagging", "identity-policy", SRC_ACCOUNT),), source_tags="team=data"),
    Case("source-tags-read-single-explicit", "explicit", lambda d: None,
         (("s3:GetObjectTagging", "identity-policy", SRC_ACCOUNT),), config=SINGLE,
         source_tags="team=data"),
    Case("dest-tags-bucket-policy-explicit", "explicit", allow_tags,
         (("s3:PutObjectTagging", "bucket-policy", DST_ACCOUNT),), source_tags="team=data",
         extra_args={"ExpectedBucketOwner": DST_ACCOUNT}),
    Case("acl-required-bare", "bare", _acl_required,
         (("s3:PutObject", "bucket-policy", DST_ACCOUNT),), config=SINGLE, codes=("acl-required",),
         extra_args={"ExpectedBucketOwner": DST_ACCOUNT}),
    Case("acl-required-explicit", "explicit", _acl_required,
         (("s3:PutObject", "bucket-policy", DST_ACCOUNT),), config=SINGLE, codes=("explicit-deny",),
         extra_args={"ExpectedBucketOwner": DST_ACCOUNT}),
    Case("dest-owner-mismatch", "bare", lambda d: None,
         (("s3:PutObject", "unknown", "444455556666"),), config=SINGLE,
         extra_args={"ExpectedBucketOwner": "444455556666"}, codes=("expected-owner-mismatch",)),
    Case("source-owner-mismatch", "bare", lambda d: None,
         (("s3:GetObject", "unknown", "444455556666"),), config=SINGLE,
         extra_args={"ExpectedSourceBucketOwner": "444455556666"},
         codes=("expected-owner-mismatch",)),
    Case("source-requester-pays", "bare",
         lambda d: source_in_other_account(d, requester_pays=True, policy={
             "Version": "2012-10-17",
             "Statement": [{"Effect": "Allow", "Principal": {"AWS": ROLE},
                            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::cp-src/*"}]}),
         (("s3:GetObject", "unknown", None),), config=SINGLE, writer="OtherAdmin",
         codes=("requester-pays",)),
    Case("dest-key-disabled", "bare",
         lambda d: d["keys"]["dst-key"].update(state="Disabled"),
         (("kms:GenerateDataKey", "unknown", DST_ACCOUNT),), config=SINGLE,
         codes=("kms-key-disabled",)),
    Case("dest-key-pending-deletion", "bare",
         lambda d: d["keys"]["dst-key"].update(state="PendingDeletion"),
         (("kms:GenerateDataKey", "unknown", DST_ACCOUNT),), config=SINGLE,
         codes=("kms-key-pending-deletion",)),
    Case("dest-key-other-region", "bare",
         lambda d: d["keys"]["dst-key"].update(region="eu-west-1"),
         (("kms:GenerateDataKey", "unknown", DST_ACCOUNT),), config=SINGLE,
         extra_args={"ExpectedBucketOwner": DST_ACCOUNT}, codes=("kms-key-wrong-region",)),
    Case("dest-key-missing", "bare", lambda d: None,
         (("kms:GenerateDataKey", "unknown", DST_ACCOUNT),), config=SINGLE,
         extra_args={"ServerSideEncryption": "aws:kms",
                     "SSEKMSKeyId": f"arn:aws:kms:us-east-1:{DST_ACCOUNT}:key/no-such-key"},
         codes=("kms-key-not-found",)),
    Case("scp-explicit-deny", "explicit",
         lambda d: d["accounts"][SRC_ACCOUNT].update(scps=[ADMIN, {"Version": "2012-10-17",
             "Statement": [deny("", "s3:PutObject", "arn:aws:s3:::cp-dst/*")]}]),
         (("s3:PutObject", "scp", SRC_ACCOUNT),), config=SINGLE, codes=("explicit-deny",)),
    # An RCP governs the resources of its own account, whoever calls: the fix is in the
    # destination's organization, not the caller's.
    Case("rcp-explicit-deny", "explicit",
         lambda d: d["accounts"][DST_ACCOUNT].update(rcps=[outside_writes_denied("s3:PutObject")]),
         (("s3:PutObject", "rcp", DST_ACCOUNT),), config=SINGLE, codes=("explicit-deny",),
         extra_args={"ExpectedBucketOwner": DST_ACCOUNT}),  # else the owner is not known
    Case("rcp-explicit-deny-on-the-key", "explicit",
         lambda d: d["accounts"][DST_ACCOUNT].update(rcps=[outside_writes_denied("kms:Decrypt")]),
         (("kms:Decrypt", "rcp", DST_ACCOUNT),), codes=("explicit-deny",)),
    Case("key-policy-explicit-deny", "explicit",
         lambda d: key_statements(d).append(deny(ROLE, "kms:Decrypt", "*")),
         (("kms:Decrypt", "key-policy", DST_ACCOUNT),), codes=("explicit-deny",)),
    Case("identity-explicit-deny", "explicit",
         lambda d: identity_policy(d).append(deny("", "kms:Decrypt", "*")),
         (("kms:Decrypt", "identity-policy", SRC_ACCOUNT),), codes=("explicit-deny",)),
    Case("permissions-boundary", "explicit",
         lambda d: d["principals"]["EC2Role"].update(permissions_boundary={
             "Version": "2012-10-17",
             "Statement": [{"Effect": "Allow", "Action": ["s3:*", "kms:GenerateDataKey"],
                            "Resource": "*"}]}),
         (("kms:Decrypt", "permissions-boundary", SRC_ACCOUNT),), codes=("missing-allow",)),
    Case("session-policy", "explicit",
         lambda d: d["principals"]["EC2Role"].update(session_policy={
             "Version": "2012-10-17",
             "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "kms:*"],
                            "Resource": "*"}]}),
         (("s3:PutObject", "session-policy", SRC_ACCOUNT),), config=SINGLE,
         codes=("missing-allow",)),
    Case("key-policy-via-service-condition", "bare", _key_condition,
         (("kms:GenerateDataKey", "key-policy", DST_ACCOUNT),), config=SINGLE,
         extra_args={"ExpectedBucketOwner": DST_ACCOUNT}),
    Case("key-policy-via-service-condition-multipart", "bare", _key_condition,
         (("kms:GenerateDataKey", "key-policy", DST_ACCOUNT),),
         extra_args={"ExpectedBucketOwner": DST_ACCOUNT}),
]  # fmt: skip


def _session(server: Any, principal: str) -> boto3.session.Session:
    kwargs = server.client_kwargs(principal)
    return boto3.session.Session(
        aws_access_key_id=kwargs["aws_access_key_id"],
        aws_secret_access_key=kwargs["aws_secret_access_key"],
        region_name=kwargs["region_name"],
    )


def put_source(server: Any, writer: str, key: str, size: int, tags: str | None) -> None:
    s3 = boto3.client("s3", **server.client_kwargs(writer))
    extra = {"Tagging": tags} if tags else {}
    s3.put_object(Bucket="cp-src", Key=key, Body=os.urandom(size), **extra)


def role_engine(server: Any, config: CopyConfig) -> Any:
    """An engine copying as EC2Role on the lab, retries without waiting."""
    return build_engine(
        config, session=_session(server, "EC2Role"), endpoint_url=server.endpoint_url,
        sleep=lambda _: None,
    )  # fmt: skip


def copy_denied(server: Any, case: Case, key: str) -> S3xCopyError:
    size = 1 * KiB if case.config is SINGLE else 6 * MiB
    put_source(server, case.writer, key, size, case.source_tags)
    engine = role_engine(server, case.config)
    with pytest.raises(S3xCopyError) as info:
        engine.copy(S3Location("cp-src", key), S3Location("cp-dst", key), case.extra_args)
    return info.value


def test_at_least_thirty_scenarios() -> None:
    assert len(CASES) >= 30
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_scenario_names_the_missing_grant(lab: Any, unique_key: str, case: Case) -> None:
    doc = base(case.style)
    case.change(doc)
    server = lab(doc)
    error = copy_denied(server, case, unique_key)
    got = {(f.action, f.policy, f.account) for f in error.findings}
    for expected in case.expected:
        assert expected in got, f"{expected} not in {got} ({error})"
    for code in case.codes:
        assert code in {f.code for f in error.findings}, [f.code for f in error.findings]
    if case.style == "explicit" and any(
        c in ("missing-allow", "explicit-deny") for c in case.codes
    ):
        assert any(f.certainty == "stated" for f in error.findings)
    for finding in error.findings:
        assert finding.statement is None or "kms:*" not in str(finding.statement)
    admin = boto3.client("s3", **server.client_kwargs("DstAdmin"))
    assert not admin.list_multipart_uploads(Bucket="cp-dst", Prefix=unique_key).get("Uploads")


def test_granting_what_was_asked_fixes_the_copy(lab: Any, unique_key: str) -> None:
    """Apply the stated findings' statements one refusal at a time, as a user would."""
    doc = base("explicit")
    _dst_decrypt_both(doc)
    server = lab(doc)
    put_source(server, "SrcAdmin", unique_key, 6 * MiB, None)
    engine = role_engine(server, MULTIPART)
    stated_policies = []
    for _ in range(3):  # bounded: one stated refusal per missing policy
        try:
            result = engine.copy(S3Location("cp-src", unique_key), S3Location("cp-dst", unique_key))
            break
        except AccessDeniedError as error:
            stated = [f for f in error.findings if f.certainty == "stated"]
            assert len(stated) == 1, error.findings  # noqa: PT017 - a loop of refusals
            finding = stated[0]
            assert finding.statement is not None
            stated_policies.append((finding.policy, finding.account))
            target = (
                "keys/dst-key"
                if finding.policy == "key-policy"
                else "principals/EC2Role/GrantedByS3xcopy"
            )
            server.add_statement(target, finding.statement)
    else:
        pytest.fail("the copy never succeeded")
    assert result.strategy == "multipart"
    assert stated_policies == [("key-policy", DST_ACCOUNT), ("identity-policy", SRC_ACCOUNT)]


def test_a_bucket_policy_granting_an_organization_admits_its_accounts_only(
    lab: Any, unique_key: str
) -> None:
    """The common cross-account grant: ``"aws:PrincipalOrgID": "o-..."`` in the bucket policy."""
    org = "o-a1b2c3d4e5"
    doc = base("explicit")
    bucket_statements(doc)[0].update(
        Principal="*", Condition={"StringEquals": {"aws:PrincipalOrgID": org}}
    )
    doc["accounts"][DST_ACCOUNT]["organization"] = org
    outside = lab(doc)  # the caller's account is in no organization
    error = copy_denied(
        outside, Case("org", "explicit", lambda d: None, (), config=SINGLE), unique_key
    )
    assert ("s3:PutObject", "bucket-policy", "stated") in {
        (f.action, f.policy, f.certainty) for f in error.findings
    }

    doc["accounts"][SRC_ACCOUNT]["organization"] = org
    inside = lab(doc)
    put_source(inside, "SrcAdmin", unique_key, 1 * KiB, None)
    engine = role_engine(inside, SINGLE)
    result = engine.copy(S3Location("cp-src", unique_key), S3Location("cp-dst", unique_key))
    assert result.size == 1 * KiB
