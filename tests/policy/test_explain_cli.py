"""``s3xcopy explain``: offline, per path, the missing grants and the statements to add."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from s3xcopy.cli import main
from s3xcopy.lab import load_scenario

ROOT = Path(__file__).resolve().parents[2]
KEY = "arn:aws:kms:us-east-1:987654321098:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE = "arn:aws:iam::123456789012:role/EC2Role"
COPY = ["s3://cp-src/big.bin", "s3://cp-dst/big.bin"]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["explain", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_original_names_kms_decrypt_for_multipart_only(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, *COPY, "--scenario", "original", "--size", "64MiB", "--json")
    assert code == 3
    assert err == ""
    report = json.loads(out)
    assert report["paths"]["single"]["clear"] is True
    assert report["paths"]["single"]["findings"] == []
    assert report["paths"]["multipart"]["clear"] is False
    assert report["paths"]["multipart"]["taken"] is True
    found = [
        (f["action"], f["resource"], f["policy"], f["account"], f["principal"], f["paths"])
        for f in report["findings"]
    ]
    assert found == [
        ("kms:Decrypt", KEY, "key-policy", "987654321098", ROLE, ["multipart"]),
        ("kms:Decrypt", KEY, "identity-policy", "123456789012", ROLE, ["multipart"]),
    ]
    key_statement = report["findings"][0]["statement"]
    assert key_statement["Principal"] == {"AWS": ROLE}
    assert key_statement["Action"] == "kms:Decrypt"
    assert report["findings"][1]["statement"]["Resource"] == KEY
    assert "kms:*" not in out


def test_original_text_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *COPY, "--scenario", "original", "--size", "64MiB")
    assert code == 3
    assert "single path (HeadObject + CopyObject): clear" in out
    assert "the path this copy takes: DENIED" in out
    assert "missing grants: 2" in out
    assert "1. kms:Decrypt on " + KEY + " (multipart path)" in out
    assert "policy: key-policy, account 987654321098" in out
    assert "policy: identity-policy, account 123456789012" in out
    assert f"add to an identity policy of {ROLE} in account 123456789012:" in out


def test_small_copy_still_reports_the_multipart_path(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *COPY, "--scenario", "original", "--size", "1MiB")
    assert code == 3  # exit 0 only when both paths are clear
    assert "single path (HeadObject + CopyObject), the path this copy takes: clear" in out


def test_fixed_scenario_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *COPY, "--scenario", "original-fixed", "--size", "64MiB")
    assert code == 0
    assert "nothing is missing: both paths are clear" in out


@pytest.mark.parametrize(
    ("size", "impossible", "verdict"),
    [
        ("6GiB", "single path (HeadObject + CopyObject): not possible: CopyObject takes at "
         "most 5.0 GiB", "nothing is missing: the multipart path is clear (the only one possible)"),
        ("0", "not possible: an empty object cannot be copied in parts",
         "nothing is missing: the single path is clear (the only one possible)"),
    ],
)  # fmt: skip
def test_a_path_the_size_rules_out_is_not_called_clear(
    capsys: pytest.CaptureFixture[str], size: str, impossible: str, verdict: str
) -> None:
    code, out, _ = run(capsys, *COPY, "--scenario", "original-fixed", "--size", size)
    assert code == 0
    assert impossible in out
    assert out.rstrip().endswith(verdict)


def test_verbose_says_which_statement_allowed(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, *COPY, "--scenario", "original", "--size", "64MiB", "-v")
    assert "and statement 'Enable IAM User Permissions' (#1) of key-policy" in out


def _write(path: Path, document: Any) -> str:
    path.write_text(json.dumps(document))
    return str(path)


def test_separate_policy_files_give_the_same_answer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = load_scenario("original").to_dict()
    policies = doc["principals"]["EC2Role"]["policies"]
    args = [
        *COPY,
        "--size",
        "64MiB",
        "--principal",
        "arn:aws:sts::123456789012:assumed-role/EC2Role/i-0123456789abcdef0",
        "--identity-policy",
        _write(tmp_path / "s3.json", policies["S3Permissions"]),
        "--identity-policy",
        _write(tmp_path / "kms.json", policies["KMSPermissions"]),
        "--bucket-owner",
        "cp-dst=987654321098",
        "--bucket-policy",
        "cp-dst=" + _write(tmp_path / "bucket.json", doc["buckets"]["cp-dst"]["policy"]),
        "--bucket-encryption",
        f"cp-dst={KEY}",
        "--key-policy",
        f"{KEY}=" + _write(tmp_path / "key.json", doc["keys"]["dst-key"]["policy"]),
        "--json",
    ]
    code, out, err = run(capsys, *args)
    assert code == 3, err
    report = json.loads(out)
    assert [(f["policy"], f["account"]) for f in report["findings"]] == [
        ("key-policy", "987654321098"),
        ("identity-policy", "123456789012"),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["s3://cp-src/k", "/tmp/x", "--scenario", "original", "--size", "1"], "not an S3 URI"),
        (
            ["s3://cp-src/k", "s3://cp-dst/k", "--scenario", "original", "--size", "lots"],
            "invalid size",
        ),
        (
            [
                "s3://cp-src/k",
                "s3://cp-dst/k",
                "--scenario",
                "original",
                "--size",
                "1",
                "--principal",
                "Nobody",
            ],
            "no principal 'Nobody'",
        ),
        (["s3://cp-src/k", "s3://cp-dst/", "--scenario", "original", "--size", "1"], "one object"),
        (["s3://cp-src/k", "s3://cp-dst/k", "--size", "1"], "--principal ARN is required"),
        (
            ["s3://cp-src/k", "s3://cp-dst/k", "--size", "1", "--principal", "EC2Role"],
            "not a caller ARN",
        ),
        (
            ["s3://cp-src/k", "s3://cp-dst/k", "--scenario", "original"],
            "the following arguments are required: --size",
        ),
        (
            ["s3://cp-src/k", "s3://cp-dst/k", "--scenario", "original", "--size", "100TiB"],
            "--size 100.0 TiB is above S3's largest object (48.8 TiB): no copy can make it",
        ),
    ],
)
def test_bad_input_is_one_line_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert message in err


def test_bad_policy_file_names_file_and_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = _write(
        tmp_path / "bad.json",
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Permit", "Action": "s3:*", "Resource": "*"}],
        },
    )
    code, _, err = run(
        capsys,
        "s3://a-b/k",
        "s3://c-d/k",
        "--size",
        "1",
        "--principal",
        "arn:aws:iam::123456789012:role/R",
        "--identity-policy",
        bad,
    )
    assert code == 2
    assert err == f'error: {bad}: $.Statement[0].Effect: expected "Allow" or "Deny", got "Permit"\n'


def test_explain_as_a_subprocess() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [
        sys.executable,
        "-m",
        "s3xcopy",
        "explain",
        *COPY,
        "--scenario",
        "original",
        "--size",
        "64MiB",
    ]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 3
    assert "kms:Decrypt" in result.stdout
    assert result.stderr == ""


def test_grants_need_put_object_acl_and_meet_grant_header_conditions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A destination bucket that lets the copier write only with a full-control grant for
    its owner (s3:x-amz-grant-full-control): --grants meets it on CopyObject. (Parts carry
    no grant header, so such a bucket policy blocks the multipart path either way.)"""
    owner_grant = "id=dst-owner-canonical-id"
    identity = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectTagging"],
             "Resource": "arn:aws:s3:::cp-src/*"},
            {"Effect": "Allow", "Action": ["s3:PutObject", "s3:PutObjectAcl",
                                           "s3:AbortMultipartUpload"],
             "Resource": "arn:aws:s3:::cp-dst/*"},
        ],
    }  # fmt: skip
    bucket = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": ROLE},
             "Action": ["s3:PutObject", "s3:PutObjectAcl", "s3:AbortMultipartUpload"],
             "Resource": "arn:aws:s3:::cp-dst/*",
             "Condition": {"StringEquals": {"s3:x-amz-grant-full-control": owner_grant}}},
        ],
    }  # fmt: skip
    base = [
        *COPY, "--size", "1MiB",
        "--principal", "arn:aws:sts::123456789012:assumed-role/EC2Role/i-0123456789abcdef0",
        "--identity-policy", _write(tmp_path / "identity.json", identity),
        "--bucket-owner", "cp-dst=987654321098",
        "--bucket-policy", "cp-dst=" + _write(tmp_path / "bucket.json", bucket),
        "--json",
    ]  # fmt: skip
    code, out, _ = run(capsys, *base)
    report = json.loads(out)
    assert code == 3
    assert report["paths"]["single"]["clear"] is False
    assert "bucket-policy" in {f["policy"] for f in report["paths"]["single"]["findings"]}
    code, out, _ = run(capsys, *base, "--grants", f"full={owner_grant}")
    report = json.loads(out)
    assert report["paths"]["single"]["clear"] is True
    code, _, err = run(capsys, *base, "--acl", "private", "--grants", f"full={owner_grant}")
    assert code == 2
    assert "--acl cannot be combined with --grants" in err


def _into_other_account(tmp_path: Path, grant: dict[str, Any]) -> list[str]:
    """explain's arguments: ROLE (allowed s3:*) copies 1 MiB into account 987654321098's
    cp-dst, whose bucket policy allows s3:PutObject with ``grant`` (Principal, Condition)."""
    statement = {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::cp-dst/*"}
    identity = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
    return [
        *COPY, "--size", "1MiB", "--principal", ROLE,
        "--identity-policy", _write(
            tmp_path / "id.json", {"Version": "2012-10-17", "Statement": [identity]}
        ),
        "--bucket-owner", "cp-dst=987654321098",
        "--bucket-policy", "cp-dst=" + _write(
            tmp_path / "bucket.json",
            {"Version": "2012-10-17", "Statement": [{**statement, **grant}]},
        ),
    ]  # fmt: skip


def test_an_rcp_of_the_destination_account_is_named_with_that_account(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": "*",
                "Condition": {"StringNotEquals": {"aws:PrincipalAccount": "987654321098"}},
            }
        ],
    }
    base = [*_into_other_account(tmp_path, {"Principal": {"AWS": ROLE}}), "--json"]
    assert run(capsys, *base)[0] == 0  # allowed without the RCP
    code, out, err = run(
        capsys, *base, "--rcp", "987654321098=" + _write(tmp_path / "rcp.json", outside)
    )
    assert code == 3, err
    findings = json.loads(out)["findings"]
    assert {(f["code"], f["action"], f["policy"], f["account"]) for f in findings} == {
        ("explicit-deny", "s3:PutObject", "rcp", "987654321098")
    }
    code, _, err = run(capsys, *base, "--rcp", "98765=" + str(tmp_path / "rcp.json"))
    assert (code, err) == (2, "error: --rcp 98765=" + str(tmp_path / "rcp.json")
                           + ": '98765' is not a 12-digit account id\n")  # fmt: skip


def test_organizations_meet_a_bucket_policy_that_grants_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    org = "o-a1b2c3d4e5"
    grant = {"Principal": "*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": org}}}
    base = _into_other_account(tmp_path, grant)
    code, out, _ = run(capsys, *base)
    assert code == 3 and "aws:PrincipalOrgID" in out  # the near miss says which condition
    code, _, err = run(capsys, *base, "--organization", f"123456789012={org}")
    assert code == 0, err
    code, _, err = run(capsys, *base, "--organization", "123456789012=org-1")
    assert code == 2 and err.startswith("error: --organization expects ACCOUNT=o-ID")
