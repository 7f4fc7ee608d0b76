"""Acceptance on the policy lab: two accounts, no cross-account grants, two profiles.

DestRole (account 222222222222) has no read access to the source bucket; SourceRole
(111111111111) has no write access to the destination. ``s3xcopy cp`` with both
profiles streams (SourceRole reads, DestRole writes, both buckets KMS-encrypted by
their own account's key) and the object arrives identical; without
``--source-profile`` it stops at HeadObject with exit 3, and the diagnosis names
s3:GetObject on the source object in both policies that must allow it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from s3xcopy.lab import LabServer

pytestmark = [pytest.mark.lab, pytest.mark.seaweed]

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = Path(__file__).resolve().parent / "scenarios" / "two-accounts.json"
MiB = 1024 * 1024


@pytest.fixture
def two_accounts(lab: Callable[..., LabServer]) -> LabServer:
    return lab(SCENARIO)


@pytest.fixture
def profiles(tmp_path: Path, two_accounts: LabServer) -> dict[str, str]:
    """AWS config files with the ``dest`` and ``source`` profiles of the two roles."""
    credentials, config = tmp_path / "credentials", tmp_path / "config"
    lines, regions = [], []
    for profile, role in (("dest", "DestRole"), ("source", "SourceRole")):
        kwargs = two_accounts.client_kwargs(role)
        lines.append(
            f"[{profile}]\naws_access_key_id = {kwargs['aws_access_key_id']}\n"
            f"aws_secret_access_key = {kwargs['aws_secret_access_key']}\n"
        )
        regions.append(f"[profile {profile}]\nregion = {kwargs['region_name']}\n")
    credentials.write_text("".join(lines))
    config.write_text("".join(regions))
    return {
        "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
        "AWS_CONFIG_FILE": str(config),
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def client(lab: LabServer, role: str) -> Any:
    return boto3.client("s3", **lab.client_kwargs(role))


def put_source(lab: LabServer, key: str, size: int) -> bytes:
    data = os.urandom(size)
    client(lab, "SourceRole").put_object(
        Bucket="st-src",
        Key=key,
        Body=data,
        Metadata={"origin": "account-a"},
        ContentType="application/octet-stream",
        CacheControl="no-store",
        Tagging="project=migration",
    )
    return data


def cp(lab: LabServer, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable, "-m", "s3xcopy", "cp", *args,
            "--endpoint-url", lab.endpoint_url, "--json", "--max-attempts", "1",
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip


def by_operation(lab: LabServer, bucket: str, key: str) -> dict[str, set[tuple[str | None, int]]]:
    """Who sent each operation on one object, and with what status."""
    seen: dict[str, set[tuple[str | None, int]]] = {}
    for record in list(lab.requests):
        if (record.bucket, record.key) == (bucket, key):
            seen.setdefault(record.operation, set()).add((record.principal, record.status))
    return seen


@pytest.mark.parametrize(
    ("size", "denied_at"), [(1 * MiB, "CopyObject"), (20 * MiB, "UploadPartCopy")]
)
def test_with_both_profiles_the_copy_streams_and_arrives_identical(
    two_accounts: LabServer, profiles: dict[str, str], unique_key: str, size: int, denied_at: str
) -> None:
    data = put_source(two_accounts, unique_key, size)
    done = cp(
        two_accounts,
        profiles,
        f"s3://st-src/{unique_key}",
        f"s3://st-dst/{unique_key}",
        "--profile", "dest", "--source-profile", "source", "--part-size", "5MiB",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["event"] == "copied"
    assert record["strategy"] == "stream"
    assert f"denied at {denied_at} (AccessDenied)" in record["fallback"]
    dest = client(two_accounts, "DestRole")
    head = dest.head_object(Bucket="st-dst", Key=unique_key)
    assert dest.get_object(Bucket="st-dst", Key=unique_key)["Body"].read() == data
    assert head["Metadata"] == {"origin": "account-a"}
    assert (head["ContentType"], head["CacheControl"]) == ("application/octet-stream", "no-store")
    tags = dest.get_object_tagging(Bucket="st-dst", Key=unique_key)["TagSet"]
    assert tags == [{"Key": "project", "Value": "migration"}]
    # who did what: the destination role was refused the source; the source role read it;
    # only the destination role wrote
    source = by_operation(two_accounts, "st-src", unique_key)
    dest_seen = by_operation(two_accounts, "st-dst", unique_key)
    assert ("DestRole", 403) in dest_seen[denied_at]  # the server-side copy
    assert ("DestRole", 403) in source["GetObject"]  # the one-byte probe
    assert {p for p, status in source["GetObject"] if status in (200, 206)} == {"SourceRole"}
    writes = dest_seen.get("UploadPart", set()) | dest_seen.get("PutObject", set())
    assert ("DestRole", 200) in writes
    assert not any(p == "SourceRole" for p, _ in writes)
    # the destination's own key encrypts the copy
    encryption = two_accounts.object_encryption("st-dst", unique_key)
    assert encryption is not None
    assert encryption.key_arn is not None
    assert "222222222222" in encryption.key_arn


def test_without_the_source_profile_the_copy_is_denied_with_exit_3(
    two_accounts: LabServer, profiles: dict[str, str], unique_key: str
) -> None:
    put_source(two_accounts, unique_key, 1 * MiB)
    done = cp(
        two_accounts,
        profiles,
        f"s3://st-src/{unique_key}",
        f"s3://st-dst/{unique_key}",
        "--profile", "dest",
    )  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr
    record = json.loads(done.stdout)
    assert record["event"] == "failed"
    assert record["error"]["operation"] == "HeadObject"
    assert record["error"]["code"] == "403"
    listed = client(two_accounts, "DestRole").list_objects_v2(Bucket="st-dst", Prefix=unique_key)
    assert listed.get("KeyCount", 0) == 0


def test_without_the_source_profile_findings_name_the_missing_read_grant(
    two_accounts: LabServer, profiles: dict[str, str], unique_key: str
) -> None:
    put_source(two_accounts, unique_key, 1 * MiB)
    done = cp(
        two_accounts,
        profiles,
        f"s3://st-src/{unique_key}",
        f"s3://st-dst/{unique_key}",
        "--profile", "dest", "--expected-source-bucket-owner", "111111111111",
    )  # fmt: skip
    assert done.returncode == 3, done.stderr
    findings = json.loads(done.stdout)["findings"]
    missing = [f for f in findings if f["code"] == "missing-grant"]
    assert {(f["action"], f["resource"]) for f in missing} == {
        ("s3:GetObject", f"arn:aws:s3:::st-src/{unique_key}")
    }
    # Cross-account: the source bucket's policy and the caller's identity policy must both allow.
    assert {(f["policy"], f["account"]) for f in missing} == {
        ("bucket-policy", "111111111111"),
        ("identity-policy", "222222222222"),
    }
    assert {f["principal"] for f in missing} == {"arn:aws:iam::222222222222:role/DestRole"}


@pytest.mark.parametrize("with_source_profile", [True, False])
def test_preflight_takes_the_source_profile(
    two_accounts: LabServer, profiles: dict[str, str], unique_key: str, with_source_profile: bool
) -> None:
    """preflight --source-profile probes the source with that identity too (it was taken
    as a flag and never used): the copying identity is refused the source, the source
    identity may read it, so a stream could do the copy."""
    put_source(two_accounts, unique_key, 1 * MiB)
    argv = [
        sys.executable, "-m", "s3xcopy", "preflight",
        f"s3://st-src/{unique_key}", f"s3://st-dst/{unique_key}",
        "--endpoint-url", two_accounts.endpoint_url, "--max-attempts", "1", "--json",
        "--profile", "dest", *(["--source-profile", "source"] * with_source_profile),
    ]  # fmt: skip
    done = subprocess.run(
        argv, env={**os.environ, "PYTHONPATH": str(ROOT), **profiles},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert "Traceback" not in done.stderr
    report = json.loads(done.stdout)
    notes = " ".join(report["notes"])
    if with_source_profile:
        assert "the source identity can read the source" in notes
        source_reads = by_operation(two_accounts, "st-src", unique_key).get("GetObject", set())
        assert ("SourceRole", 206) in source_reads or ("SourceRole", 200) in source_reads
    else:
        assert "source identity" not in notes
