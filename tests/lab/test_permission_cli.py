"""The original case, end to end through the CLI on the lab: fallback, --no-fallback, preflight.

EC2Role (123456789012) copies into cp-dst (987654321098), encrypted by default with a
customer managed key whose policy, like EC2Role's identity policy, lacks kms:Decrypt.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from s3xcopy import AccessDeniedError, CopyConfig, copy_object
from s3xcopy.api import build_engine
from s3xcopy.limits import MiB
from s3xcopy.location import S3Location

pytestmark = pytest.mark.lab
ROOT = Path(__file__).resolve().parents[2]
DST_ACCOUNT, SRC_ACCOUNT = "987654321098", "123456789012"


def run(
    server: Any, *args: str, principal: str = "EC2Role", access_key: str | None = None
) -> subprocess.CompletedProcess[str]:
    """s3xcopy against the lab as ``principal``, or with an ``access_key`` it does not know."""
    kwargs = server.client_kwargs(principal)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "AWS_ACCESS_KEY_ID": access_key or kwargs["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": kwargs["aws_secret_access_key"],
        "AWS_DEFAULT_REGION": kwargs["region_name"],
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    return subprocess.run(
        [sys.executable, "-m", "s3xcopy", *args, "--endpoint-url", server.endpoint_url],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def put(server: Any, key: str, size: int) -> None:
    s3 = boto3.client("s3", **server.client_kwargs("EC2Role"))
    s3.put_object(Bucket="cp-src", Key=key, Body=os.urandom(size))


def dest_state(server: Any, key: str) -> tuple[bool, bool]:
    """(object exists, an upload is open) at the destination, as its owner sees it."""
    admin = boto3.client("s3", **server.client_kwargs("DstAdmin"))
    exists = bool(admin.list_objects_v2(Bucket="cp-dst", Prefix=key).get("Contents"))
    uploads = bool(admin.list_multipart_uploads(Bucket="cp-dst", Prefix=key).get("Uploads"))
    return exists, uploads


def decrypt_findings(findings: list[dict[str, Any]]) -> set[tuple[str, str | None, str]]:
    return {
        (f["policy"], f["account"], f["certainty"])
        for f in findings
        if f["action"] == "kms:Decrypt"
    }


def test_cp_falls_back_names_both_grants_and_exits_0(lab: Any, unique_key: str) -> None:
    server = lab("original")
    put(server, unique_key, 64 * MiB)
    done = run(server, "cp", f"s3://cp-src/{unique_key}", f"s3://cp-dst/{unique_key}")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"copy: s3://cp-src/{unique_key} to s3://cp-dst/{unique_key}\n"
    assert "copied with one CopyObject instead" in done.stderr
    assert "key-policy of account 987654321098" in done.stderr
    assert "identity-policy of account 123456789012" in done.stderr
    assert '"kms:Decrypt"' in done.stderr and "kms:*" not in done.stderr
    assert dest_state(server, unique_key) == (True, False)


def test_cp_json_reports_fallback_and_findings(lab: Any, unique_key: str) -> None:
    server = lab("original")
    put(server, unique_key, 12 * MiB)
    done = run(server, "cp", f"s3://cp-src/{unique_key}", f"s3://cp-dst/{unique_key}", "--json")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["event"] == "copied"
    assert record["strategy"] == "single"
    assert "UploadPartCopy" in record["fallback"]
    assert decrypt_findings(record["findings"]) == {
        ("key-policy", DST_ACCOUNT, "inferred"),
        ("identity-policy", SRC_ACCOUNT, "inferred"),
    }


def test_no_fallback_exits_3_with_the_report(lab: Any, unique_key: str) -> None:
    server = lab("original")
    put(server, unique_key, 12 * MiB)
    done = run(
        server, "cp", f"s3://cp-src/{unique_key}", f"s3://cp-dst/{unique_key}", "--no-fallback",
        "--json",
    )  # fmt: skip
    assert done.returncode == 3, done.stderr
    record = json.loads(done.stdout)
    assert record["event"] == "failed"
    assert record["error"]["operation"] == "UploadPartCopy"
    assert decrypt_findings(record["findings"]) == {
        ("key-policy", DST_ACCOUNT, "inferred"),
        ("identity-policy", SRC_ACCOUNT, "inferred"),
    }
    assert dest_state(server, unique_key) == (False, False)


def test_explicit_messages_give_a_stated_finding(lab: Any, unique_key: str) -> None:
    server = lab("original-explicit")
    put(server, unique_key, 12 * MiB)
    done = run(
        server, "cp", f"s3://cp-src/{unique_key}", f"s3://cp-dst/{unique_key}", "--no-fallback",
        "--json",
    )  # fmt: skip
    assert done.returncode == 3
    findings = json.loads(done.stdout)["findings"]
    stated = [f for f in findings if f["certainty"] == "stated"]
    assert [(f["action"], f["policy"], f["account"]) for f in stated] == [
        ("kms:Decrypt", "key-policy", DST_ACCOUNT)
    ]


def test_preflight_predicts_the_denial_before_any_copy(lab: Any, unique_key: str) -> None:
    server = lab("original")
    put(server, unique_key, 64 * MiB)
    done = run(server, "preflight", f"s3://cp-src/{unique_key}", f"s3://cp-dst/{unique_key}")
    assert done.returncode == 3, done.stderr
    assert "the copy would take the multipart path" in done.stdout
    assert "single path (CopyObject):   clear" in done.stdout
    assert "multipart path:             DENIED at UploadPartCopy" in done.stdout
    assert "key-policy of account 987654321098" in done.stdout
    # A direct KMS call is reported as evidence, with the caveat, never as the verdict.
    assert "direct kms:DescribeKey on the destination key: KeyState Enabled" in done.stdout
    assert "evidence only" in done.stdout
    assert dest_state(server, unique_key) == (False, False)  # the canary left nothing
    as_json = run(
        server, "preflight", f"s3://cp-src/{unique_key}", f"s3://cp-dst/{unique_key}", "--json"
    )
    report = json.loads(as_json.stdout)
    assert (report["clear"], report["single"]["clear"], report["multipart"]["clear"]) == (
        False,
        True,
        False,
    )
    assert report["caller"].startswith("arn:aws:sts::123456789012:assumed-role/EC2Role/")


def test_preflight_is_clear_once_fixed(lab: Any, unique_key: str) -> None:
    server = lab("original-fixed")
    put(server, unique_key, 12 * MiB)
    done = run(server, "preflight", f"s3://cp-src/{unique_key}", f"s3://cp-dst/{unique_key}")
    assert done.returncode == 0, done.stdout
    assert dest_state(server, unique_key) == (False, False)


def test_cp_with_preflight_copies_with_one_copy_object(lab: Any, unique_key: str) -> None:
    server = lab("original")
    put(server, unique_key, 12 * MiB)
    done = run(
        server, "cp", f"s3://cp-src/{unique_key}", f"s3://cp-dst/{unique_key}", "--preflight",
        "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["strategy"] == "single"
    assert record["fallback"].startswith("preflight:")
    no_fallback = run(
        server, "cp", f"s3://cp-src/{unique_key}", f"s3://cp-dst/{unique_key}-b", "--preflight",
        "--no-fallback",
    )  # fmt: skip
    assert no_fallback.returncode == 3
    assert "nothing was copied" in no_fallback.stderr
    assert dest_state(server, f"{unique_key}-b") == (False, False)


def test_wait_for_permissions_rides_out_propagation(lab: Any, unique_key: str) -> None:
    """A grant that lands while s3xcopy waits (IAM/KMS are eventually consistent) is used."""
    server = lab("original")
    put(server, unique_key, 12 * MiB)
    kwargs = server.client_kwargs("EC2Role")
    session = boto3.session.Session(
        aws_access_key_id=kwargs["aws_access_key_id"],
        aws_secret_access_key=kwargs["aws_secret_access_key"],
        region_name=kwargs["region_name"],
    )
    sleeps: list[float] = []

    def propagate(seconds: float) -> None:  # the first backoff is when the grants "arrive"
        if not sleeps:
            server.set_scenario("original-fixed")
        sleeps.append(seconds)

    engine = build_engine(
        CopyConfig(wait_for_permissions=60, fallback=False),
        session=session, endpoint_url=server.endpoint_url, sleep=propagate,
    )  # fmt: skip
    result = engine.copy(S3Location("cp-src", unique_key), S3Location("cp-dst", unique_key))
    assert result.strategy == "multipart"
    assert result.fallback is None
    assert sleeps


def test_refused_credentials_are_named_instead_of_grants(lab: Any, unique_key: str) -> None:
    """An unknown (or expired) key fails before any policy: no statement would help."""
    server = lab("original")
    put(server, unique_key, 1024)
    unknown = "AKIAUNKNOWN000000000"
    one = run(server, "cp", f"s3://cp-src/{unique_key}", "s3://cp-dst/x", access_key=unknown)
    assert one.returncode == 3, one.stderr
    assert "  cause (stated) [credentials-refused]: HeadObject: " in one.stderr
    assert "AWS STS, asked who these credentials are, answered InvalidClientTokenId" in one.stderr
    assert "add this statement" not in one.stderr  # HeadObject's bare 403 alone would infer grants

    many = run(
        server, "cp", "--recursive", f"s3://cp-src/{unique_key}", "s3://cp-dst/y/",
        access_key=unknown,
    )  # fmt: skip
    assert many.returncode == 3, many.stderr
    assert "ListObjectsV2: S3 answered InvalidAccessKeyId" in many.stderr
    assert "add this statement" not in many.stderr


def test_a_source_identitys_refused_credentials_are_named_too(lab: Any, unique_key: str) -> None:
    """With two identities, STS is asked with the source's credentials for its refusals."""
    server = lab("original")
    put(server, unique_key, 1024)
    kwargs = server.client_kwargs("EC2Role")
    writer = boto3.session.Session(
        aws_access_key_id=kwargs["aws_access_key_id"],
        aws_secret_access_key=kwargs["aws_secret_access_key"],
        region_name=kwargs["region_name"],
    )
    expired = boto3.session.Session(
        aws_access_key_id="AKIAUNKNOWN000000000",
        aws_secret_access_key="x",
        region_name=kwargs["region_name"],
    )
    with pytest.raises(AccessDeniedError) as refused:
        copy_object(
            f"s3://cp-src/{unique_key}", "s3://cp-dst/x", session=writer, source_session=expired,
            endpoint_url=server.endpoint_url,
        )  # fmt: skip
    assert refused.value.operation == "HeadObject"  # a bare 403: only STS can tell
    assert [f.code for f in refused.value.findings] == ["credentials-refused"]
    assert "InvalidClientTokenId" in refused.value.findings[0].summary


def test_cross_org_rcp_every_grant_in_place_and_still_refused(lab: Any) -> None:
    """The shipped cross-org-rcp scenario: the findings are the grants (all in place), so the
    CLI says an explicit Deny is the other cause; explain, which sees the RCP, names it."""
    server = lab("cross-org-rcp")
    put(server, "rcp.bin", 1024)
    copied = run(server, "cp", "s3://cp-src/rcp.bin", "s3://cp-dst/rcp.bin")
    assert copied.returncode == 3, copied.stderr
    assert "Access Denied" in copied.stderr
    assert copied.stderr.count("an RCP of the bucket's or key's account") == 1
    assert dest_state(server, "rcp.bin") == (False, False)
    predicted = run(server, "preflight", "s3://cp-src/rcp.bin", "s3://cp-dst/rcp.bin")
    assert predicted.returncode == 3, predicted.stderr
    assert predicted.stdout.count("an RCP of the bucket's or key's account") == 1

    explained = subprocess.run(
        [sys.executable, "-m", "s3xcopy", "explain", "s3://cp-src/rcp.bin", "s3://cp-dst/rcp.bin",
         "--scenario", "cross-org-rcp", "--size", "1KiB", "--json"],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert explained.returncode == 3, explained.stderr
    findings = json.loads(explained.stdout)["findings"]
    assert ("explicit-deny", "s3:PutObject", "rcp", DST_ACCOUNT) in {
        (f["code"], f["action"], f["policy"], f["account"]) for f in findings
    }
