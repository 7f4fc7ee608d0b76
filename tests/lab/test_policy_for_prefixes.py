"""``s3xcopy policy`` for prefixes, applied on the lab: cp --recursive and sync --delete run.

The generated statements replace every policy of the original scenario (as in
tests/policy/test_generate.py); then the real commands run against the lab, and each
statement the listing or the deletions need is shown to be needed by removing it.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from s3xcopy import S3Location
from s3xcopy.policy.generate import PolicyGrant, least_privilege
from tests.lab.test_permission_cli import run
from tests.policy.test_generate import DEST_KEY, ROLE, world_with

pytestmark = pytest.mark.lab


def grants_for(prefix: str, **kwargs: Any) -> tuple[PolicyGrant, ...]:
    return least_privilege(
        S3Location("cp-src", f"{prefix}/"), S3Location("cp-dst", f"{prefix}/"), ROLE,
        dest_key_arn=DEST_KEY, **kwargs,
    )  # fmt: skip


def without(grants: tuple[PolicyGrant, ...], sid: str, policy: str) -> tuple[int, int]:
    """Where the statement ``sid`` of the ``policy`` grant is (for world_with's skip)."""
    for g, grant in enumerate(grants):
        for i, statement in enumerate(grant.statements):
            if grant.policy == policy and statement["Sid"] == sid:
                return g, i
    raise AssertionError(f"no {sid} in the {policy}")


def seed(server: Any, prefix: str) -> None:
    source = boto3.client("s3", **server.client_kwargs("EC2Role"))
    for name in ("a", "b"):
        source.put_object(Bucket="cp-src", Key=f"{prefix}/{name}", Body=b"x" * 10)
    admin = boto3.client("s3", **server.client_kwargs("DstAdmin"))
    admin.put_object(Bucket="cp-dst", Key=f"{prefix}/stale", Body=b"old")


def test_cp_recursive_runs_and_needs_the_source_listing(lab: Any, unique_key: str) -> None:
    grants = grants_for(unique_key)
    seed(lab("original-fixed"), unique_key)  # the objects, put with the fixed policies
    server = lab(world_with(grants).to_dict())
    uri = f"s3://cp-src/{unique_key}/", f"s3://cp-dst/{unique_key}/"
    done = run(server, "cp", "--recursive", *uri)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("copy: ") == 2

    skip = without(grants, "ListCopySource", "identity-policy")
    refused = run(lab(world_with(grants, skip).to_dict()), "cp", "--recursive", *uri)
    assert refused.returncode == 3
    assert "action s3:ListBucket on arn:aws:s3:::cp-src" in refused.stderr


def test_sync_delete_runs_and_needs_each_destination_statement(lab: Any, unique_key: str) -> None:
    grants = grants_for(unique_key, delete=True)
    seed(lab("original-fixed"), unique_key)
    uri = f"s3://cp-src/{unique_key}/", f"s3://cp-dst/{unique_key}/"
    done = run(lab(world_with(grants).to_dict()), "sync", "--delete", *uri)
    assert done.returncode == 0, done.stderr
    assert f"delete: s3://cp-dst/{unique_key}/stale" in done.stdout

    for sid, policy, action in (
        ("ListCopyDestination", "identity-policy", "s3:ListBucket"),
        ("ListCopyDestination", "bucket-policy", "s3:ListBucket"),
        ("DeleteAtDestination", "identity-policy", "s3:DeleteObject"),
        ("DeleteAtDestination", "bucket-policy", "s3:DeleteObject"),
    ):
        server = lab(world_with(grants, without(grants, sid, policy)).to_dict())
        boto3.client("s3", **server.client_kwargs("DstAdmin")).put_object(
            Bucket="cp-dst", Key=f"{unique_key}/stale", Body=b"old"
        )
        refused = run(server, "sync", "--delete", *uri)
        assert refused.returncode == 3, (sid, policy, refused.stderr)
        assert f"action {action} on arn:aws:s3:::cp-dst" in refused.stderr, (sid, policy)
