"""``s3xcopy policy``'s statements, checked by the evaluator: both paths clear, nothing spare.

The generated statements replace every policy of the original scenario (keeping
only the key's root delegation, which grants EC2Role nothing): the copy must be
allowed by both paths, and removing any single generated statement must break an
operation of some path.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from s3xcopy import InvalidInputError, S3Location
from s3xcopy.lab import load_scenario
from s3xcopy.limits import MiB
from s3xcopy.policy import CopySpec, analyze_copy
from s3xcopy.policy.generate import PolicyGrant, least_privilege, policy_document

ROOT = Path(__file__).resolve().parents[2]
ROLE = "arn:aws:iam::123456789012:role/EC2Role"
DEST_KEY = "arn:aws:kms:us-east-1:987654321098:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SOURCE = S3Location("cp-src", "data/1gb.dat")
DEST = S3Location("cp-dst", "data/1gb.dat")


def original() -> dict[str, Any]:
    scenario = load_scenario("original").to_dict()
    return copy.deepcopy(scenario)


def world_with(grants: tuple[PolicyGrant, ...], skip: tuple[int, int] | None = None) -> Any:
    """The original scenario with only the generated statements (minus ``skip``)."""
    doc = original()
    principal = doc["principals"]["EC2Role"]
    principal["policies"] = {}
    doc["buckets"]["cp-dst"]["policy"] = None
    key = doc["keys"]["dst-key"]
    key["policy"]["Statement"] = key["policy"]["Statement"][:1]  # root delegation only
    for g, grant in enumerate(grants):
        statements = [s for i, s in enumerate(grant.statements) if skip != (g, i)]
        if not statements:
            continue
        if grant.policy == "identity-policy":
            principal["policies"]["Generated"] = policy_document(tuple(statements))
        elif grant.policy == "bucket-policy":
            doc["buckets"][grant.holder]["policy"] = policy_document(tuple(statements))
        elif grant.policy == "key-policy":
            key["policy"]["Statement"].extend(statements)
    return load_scenario(doc)


def analyze(grants: tuple[PolicyGrant, ...], skip: tuple[int, int] | None = None) -> Any:
    scenario = world_with(grants, skip)
    caller = scenario.principal("EC2Role").info.caller()
    spec = CopySpec(SOURCE, DEST, size=64 * MiB, copy_tags=True)
    return analyze_copy(scenario.world, caller, spec)


GRANTS = least_privilege(SOURCE, DEST, ROLE, dest_key_arn=DEST_KEY)


def test_generated_policies_allow_both_paths() -> None:
    analysis = analyze(GRANTS)
    assert analysis.single.clear, analysis.single.findings
    assert analysis.multipart.clear, analysis.multipart.findings


def test_original_write_up_policies_are_wider_and_still_broken() -> None:
    analysis = analyze_copy(
        load_scenario("original").world,
        load_scenario("original").principal("EC2Role").info.caller(),
        CopySpec(SOURCE, DEST, size=64 * MiB),
    )
    assert analysis.single.clear and not analysis.multipart.clear


@pytest.mark.parametrize(
    "skip",
    [(g, i) for g, grant in enumerate(GRANTS) for i in range(len(grant.statements))],
    ids=lambda s: f"grant{s[0]}-statement{s[1]}",
)
def test_every_statement_is_needed(skip: tuple[int, int]) -> None:
    analysis = analyze(GRANTS, skip)
    assert not (analysis.single.clear and analysis.multipart.clear), (
        f"statement {GRANTS[skip[0]].statements[skip[1]]} is not needed"
    )


def test_statements_are_least_privilege() -> None:
    text = json.dumps([g.to_dict() for g in GRANTS])
    for wide in ("kms:*", "s3:*", "kms:Encrypt", "kms:ReEncrypt", "kms:DescribeKey", '"*"}'):
        assert wide not in text
    accounts = {(g.policy, g.account) for g in GRANTS}
    assert accounts == {
        ("identity-policy", "123456789012"),
        ("bucket-policy", "987654321098"),
        ("key-policy", "987654321098"),
    }


def test_same_account_needs_no_bucket_policy_and_no_identity_kms_grant() -> None:
    key = "arn:aws:kms:us-east-1:123456789012:key/9999bbbb-12ab-34cd-56ef-1234567890ab"
    grants = least_privilege(SOURCE, DEST, ROLE, dest_key_arn=key, dest_account="123456789012")
    kinds = [g.policy for g in grants]
    assert kinds == ["identity-policy", "key-policy"]
    identity_actions = {a for s in grants[0].statements for a in s["Action"]}
    assert not any(a.startswith("kms:") for a in identity_actions)


def test_cross_account_source_gets_its_own_bucket_and_key_policies() -> None:
    source_key = "arn:aws:kms:us-east-1:555555555555:key/0000aaaa-12ab-34cd-56ef-1234567890ab"
    grants = least_privilege(SOURCE, DEST, ROLE, source_key_arn=source_key, dest_key_arn=DEST_KEY)
    holders = {(g.policy, g.account, g.holder) for g in grants}
    assert ("bucket-policy", "555555555555", "cp-src") in holders
    assert ("key-policy", "555555555555", source_key) in holders


def test_session_arn_becomes_the_role_arn() -> None:
    grants = least_privilege(
        SOURCE, DEST, "arn:aws:sts::123456789012:assumed-role/EC2Role/i-0abc", dest_key_arn=DEST_KEY
    )
    assert grants[0].holder == ROLE
    assert "assumed-role" not in json.dumps([g.to_dict() for g in grants])


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"role_arn": "EC2Role"}, "not an IAM role"),
        ({"role_arn": ROLE, "dest_key_arn": "alias/cp-dst"}, "not a full KMS key ARN"),
        ({"role_arn": ROLE, "sync": True}, "for prefixes"),
        ({"role_arn": ROLE, "delete": True}, "for prefixes"),
    ],
)
def test_bad_input(kwargs: dict[str, Any], reason: str) -> None:
    role = kwargs.pop("role_arn")
    with pytest.raises(InvalidInputError, match=reason):
        least_privilege(SOURCE, DEST, role, **kwargs)


def test_cli_prints_each_account_and_exit_codes() -> None:
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [
            sys.executable, "-m", "s3xcopy", "policy", "s3://cp-src/data/1gb.dat", "s3://cp-dst/",
            "--role-arn", ROLE, "--dest-key-arn", DEST_KEY, "--json",
        ],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    documents = json.loads(done.stdout)
    assert [d["policy"] for d in documents] == ["identity-policy", "bucket-policy", "key-policy"]
    bad = subprocess.run(
        [sys.executable, "-m", "s3xcopy", "policy", "s3://a1a/k", "s3://b1b/", "--role-arn", "x"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1


def test_a_single_object_needs_no_listing_and_a_prefix_lists_only_its_own_keys() -> None:
    assert "s3:ListBucket" not in json.dumps([g.to_dict() for g in GRANTS])
    grants = least_privilege(
        S3Location("cp-src", "logs/"), S3Location("cp-dst", ""), ROLE, dest_key_arn=DEST_KEY,
        sync=True,
    )  # fmt: skip
    listed = {
        (g.policy, s["Resource"], json.dumps(s.get("Condition")))
        for g in grants
        for s in g.statements
        if s["Action"] == "s3:ListBucket"
    }
    assert listed == {
        ("identity-policy", "arn:aws:s3:::cp-src", '{"StringLike": {"s3:prefix": "logs/*"}}'),
        ("identity-policy", "arn:aws:s3:::cp-dst", "null"),  # the whole bucket
        ("bucket-policy", "arn:aws:s3:::cp-dst", "null"),  # across accounts: both sides
    }


@pytest.mark.parametrize(
    ("kwargs", "acl_needed"),
    [({}, False), ({"acl": "bucket-owner-full-control"}, True), ({"acl_grants": True}, True)],
)
def test_an_acl_or_grants_need_put_object_acl(kwargs: dict[str, Any], acl_needed: bool) -> None:
    grants = least_privilege(SOURCE, DEST, ROLE, dest_key_arn=DEST_KEY, **kwargs)
    for grant in grants:
        if grant.policy == "key-policy":
            continue
        actions = {a for s in grant.statements for a in _actions(s)}
        assert ("s3:PutObjectAcl" in actions) is acl_needed, grant
    with pytest.raises(InvalidInputError, match="cannot be combined with --grants"):
        least_privilege(SOURCE, DEST, ROLE, acl="private", acl_grants=True)


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)
