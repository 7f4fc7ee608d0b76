"""Acceptance: the real aws CLI against the lab reproduces the original write-up.

A 1 MiB ``aws s3 cp`` between the buckets succeeds (one CopyObject); a 64 MiB one
fails at UploadPartCopy with a bare Access Denied; kms:Decrypt on the destination
key added to the key policy only, or to the identity policy only, still fails;
added to both, the copy succeeds.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from s3xcopy.lab import LabServer
from s3xcopy.location import S3Location
from s3xcopy.policy import CopySpec, analyze_copy

pytestmark = [pytest.mark.lab, pytest.mark.seaweed]

MiB = 1024 * 1024
KEY_ARN = "arn:aws:kms:us-east-1:987654321098:key/1234abcd-12ab-34cd-56ef-1234567890ab"
DENIED = "An error occurred (AccessDenied) when calling the UploadPartCopy operation: Access Denied"

KEY_POLICY_DECRYPT = {
    "Sid": "AllowEC2RoleDecrypt",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::123456789012:role/EC2Role"},
    "Action": "kms:Decrypt",
    "Resource": "*",
}
IDENTITY_DECRYPT = {
    "Sid": "AllowDecryptDestinationKey",
    "Effect": "Allow",
    "Action": "kms:Decrypt",
    "Resource": KEY_ARN,
}

RunAws = Callable[..., subprocess.CompletedProcess[str]]


def _put_source(lab: LabServer, key: str, size: int) -> None:
    s3: Any = boto3.client("s3", **lab.client_kwargs("EC2Role"))
    s3.put_object(Bucket="cp-src", Key=key, Body=b"\x5a" * size)


def _cp(run_aws: RunAws, lab: LabServer, key: str) -> subprocess.CompletedProcess[str]:
    return run_aws(lab, "EC2Role", "s3", "cp", f"s3://cp-src/{key}", f"s3://cp-dst/{key}")


def _operations(lab: LabServer, name: str) -> list[tuple[int, str | None]]:
    return [(r.status, r.error_code) for r in lab.requests if r.operation == name]


def test_small_copy_succeeds_with_one_copy_object(
    lab: Callable[..., LabServer], run_aws: RunAws, unique_key: str
) -> None:
    server = lab("original")
    _put_source(server, unique_key, 1 * MiB)
    result = _cp(run_aws, server, unique_key)
    assert result.returncode == 0, result.stderr
    assert f"copy: s3://cp-src/{unique_key} to s3://cp-dst/{unique_key}" in result.stdout
    assert _operations(server, "CopyObject") == [(200, None)]
    assert not _operations(server, "UploadPartCopy")
    # The copy landed encrypted with the destination bucket's default key.
    encryption = server.object_encryption("cp-dst", unique_key)
    assert encryption is not None
    assert encryption.key_arn == KEY_ARN


def test_large_copy_fails_at_upload_part_copy(
    lab: Callable[..., LabServer], run_aws: RunAws, unique_key: str
) -> None:
    server = lab("original")
    _put_source(server, unique_key, 64 * MiB)
    result = _cp(run_aws, server, unique_key)
    assert result.returncode != 0
    assert DENIED in result.stderr
    denied = [r for r in server.requests if r.operation == "UploadPartCopy" and r.status == 403]
    assert denied
    assert denied[0].detail is not None
    assert denied[0].detail.startswith(f"kms:Decrypt on {KEY_ARN}")


@pytest.mark.parametrize(
    ("grants", "succeeds"),
    [
        pytest.param(["key"], False, id="key-policy-only"),
        pytest.param(["identity"], False, id="identity-policy-only"),
        pytest.param(["key", "identity"], True, id="both"),
    ],
)
def test_kms_decrypt_is_needed_on_both_sides(
    lab: Callable[..., LabServer],
    run_aws: RunAws,
    unique_key: str,
    grants: list[str],
    succeeds: bool,
) -> None:
    server = lab("original")
    _put_source(server, unique_key, 64 * MiB)
    if "key" in grants:
        server.add_statement("keys/dst-key", KEY_POLICY_DECRYPT)
    if "identity" in grants:
        server.add_statement("principals/EC2Role/KMSPermissions", IDENTITY_DECRYPT)
    result = _cp(run_aws, server, unique_key)
    if succeeds:
        assert result.returncode == 0, result.stderr
        admin: Any = boto3.client("s3", **server.client_kwargs("DstAdmin"))
        head = admin.head_object(Bucket="cp-dst", Key=unique_key)
        assert head["ContentLength"] == 64 * MiB
        assert head["ServerSideEncryption"] == "aws:kms"
        assert head["SSEKMSKeyId"] == KEY_ARN
        assert all(status == 200 for status, _ in _operations(server, "UploadPartCopy"))
    else:
        assert result.returncode != 0
        assert DENIED in result.stderr


def test_statements_from_explain_fix_the_copy(
    lab: Callable[..., LabServer], run_aws: RunAws, unique_key: str
) -> None:
    """The least-privilege statements explain proposes (with their kms:ViaService
    condition) are enough: applied to the lab, the aws CLI's multipart copy succeeds."""
    server = lab("original")
    scenario = server.scenario
    caller = scenario.principal("EC2Role").info.caller()
    spec = CopySpec(
        S3Location("cp-src", unique_key), S3Location("cp-dst", unique_key), size=64 * MiB
    )
    findings = analyze_copy(scenario.world, caller, spec).findings
    assert {f.policy for f in findings} == {"key-policy", "identity-policy"}
    key_names = {arn: name for name, arn in scenario.key_arns.items()}
    for finding in findings:
        assert finding.statement is not None
        if finding.policy == "key-policy":
            server.add_statement(f"keys/{key_names[finding.resource]}", finding.statement)
        else:
            server.add_statement("principals/EC2Role/S3xcopyFix", finding.statement)
    _put_source(server, unique_key, 64 * MiB)
    result = _cp(run_aws, server, unique_key)
    assert result.returncode == 0, result.stderr
    after = analyze_copy(server.scenario.world, caller, spec)
    assert after.clear
