"""Refusals of the commands that copy many times still name the grant.

On the lab: EC2Role (123456789012) lists cp-src and cp-dst (987654321098) for cp
--recursive and sync, deletes at cp-dst for sync --delete, and copies into cp-dst for
bench, whose refused multipart cells must fail rather than time a fallback; the
preflight of a prefix probes the listing before the first object.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import boto3
import pytest

from s3xcopy.lab.scenario import load_scenario
from tests.lab.test_permission_cli import run

pytestmark = pytest.mark.lab
ROLE = "arn:aws:iam::123456789012:role/EC2Role"


def may_list_both_buckets(*, dest: bool = True) -> dict[str, Any]:
    """The fixed case, plus s3:ListBucket on cp-src and (both sides for it) on cp-dst."""
    doc = copy.deepcopy(load_scenario("original-fixed").to_dict())
    statements = doc["principals"]["EC2Role"]["policies"]["S3Permissions"]["Statement"]
    buckets = ["arn:aws:s3:::cp-src", "arn:aws:s3:::cp-dst"] if dest else "arn:aws:s3:::cp-src"
    statements.append({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": buckets})
    if dest:
        doc["buckets"]["cp-dst"]["policy"]["Statement"].append(
            {"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "s3:ListBucket",
             "Resource": "arn:aws:s3:::cp-dst"}
        )  # fmt: skip
    return doc


def put(server: Any, principal: str, bucket: str, keys: list[str]) -> None:
    s3 = boto3.client("s3", **server.client_kwargs(principal))
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x" * 10)


def test_a_refused_listing_names_s3_list_bucket_in_both_policies(lab: Any, unique_key: str) -> None:
    server = lab("original")  # EC2Role has no s3:ListBucket anywhere
    put(server, "EC2Role", "cp-src", [f"{unique_key}/a", f"{unique_key}/b"])
    done = run(server, "cp", "--recursive", f"s3://cp-src/{unique_key}/", "s3://cp-dst/x/")
    assert done.returncode == 3, done.stderr
    assert "when calling the ListObjectsV2 operation" in done.stderr
    assert done.stderr.count("action s3:ListBucket on arn:aws:s3:::cp-src") == 2
    assert "fix in: identity-policy of account 123456789012" in done.stderr
    assert "fix in: bucket-policy" in done.stderr
    assert '"Action": "s3:ListBucket"' in done.stderr

    as_json = run(
        server, "cp", "--recursive", f"s3://cp-src/{unique_key}/", "s3://cp-dst/x/", "--json"
    )
    summary = json.loads(as_json.stdout.splitlines()[-1])
    assert summary["event"] == "summary"
    assert {(f["action"], f["resource"], f["policy"]) for f in summary["findings"]} == {
        ("s3:ListBucket", "arn:aws:s3:::cp-src", "identity-policy"),
        ("s3:ListBucket", "arn:aws:s3:::cp-src", "bucket-policy"),
    }


def test_refused_deletions_name_s3_delete_object_once(lab: Any, unique_key: str) -> None:
    server = lab(may_list_both_buckets())  # no s3:DeleteObject for EC2Role
    put(server, "EC2Role", "cp-src", [f"{unique_key}/a"])
    extra = [f"{unique_key}/old-{n}" for n in range(3)]
    put(server, "DstAdmin", "cp-dst", extra)
    done = run(
        server, "sync", "--delete", f"s3://cp-src/{unique_key}/", f"s3://cp-dst/{unique_key}/"
    )
    assert done.returncode == 3, done.stderr  # every failure was a denial
    assert f"copy: s3://cp-src/{unique_key}/a to s3://cp-dst/{unique_key}/a" in done.stdout
    assert done.stderr.count("delete failed:") == 3
    resource = f"arn:aws:s3:::cp-dst/{unique_key}/*"
    # One finding per policy that must allow it, printed once for the three refusals.
    assert done.stderr.count(f"action s3:DeleteObject on {resource}") == 2
    assert "fix in: identity-policy of account 123456789012" in done.stderr
    assert '"Action": "s3:DeleteObject"' in done.stderr


def test_bench_fails_a_refused_cell_instead_of_timing_a_fallback(lab: Any, unique_key: str) -> None:
    server = lab("original")  # the multipart path is refused (kms:Decrypt), one CopyObject is not
    s3 = boto3.client("s3", **server.client_kwargs("EC2Role"))
    s3.put_object(Bucket="cp-src", Key=unique_key, Body=b"x" * (11 * 1024 * 1024))
    done = run(
        server, "bench", f"s3://cp-src/{unique_key}", "--dest-prefix", f"s3://cp-dst/{unique_key}/",
        "--part-sizes", "5MB", "--concurrency", "2", "--repeat", "2",
    )  # fmt: skip
    assert done.returncode == 3, done.stderr  # every failure was a denial
    table = done.stdout.splitlines()[-1].split()
    assert table[-1] == "0/2" and "-" in table  # no time recorded under the cell's part size
    assert done.stderr.count("failed: AccessDeniedError") == 2
    # The grant is named once per policy, not once per refused copy.
    assert done.stderr.count("action kms:Decrypt on arn:aws:kms:") == 2
    admin = boto3.client("s3", **server.client_kwargs("DstAdmin"))
    left = admin.list_objects_v2(Bucket="cp-dst", Prefix=f"{unique_key}/").get("Contents", [])
    uploads = admin.list_multipart_uploads(Bucket="cp-dst", Prefix=f"{unique_key}/")
    assert left == [] and not uploads.get("Uploads")


def test_preflight_of_a_prefix_probes_the_listing_first(lab: Any, unique_key: str) -> None:
    server = lab("original")  # no s3:ListBucket
    done = run(server, "preflight", f"s3://cp-src/{unique_key}/", "s3://cp-dst/x/", "--json")
    assert done.returncode == 3, done.stderr
    report = json.loads(done.stdout)
    assert [(s["operation"], s["ok"]) for s in report["steps"]] == [("ListObjectsV2", False)]
    assert report["single"]["blocked_at"] == "ListObjectsV2"
    assert {f["action"] for f in report["single"]["findings"]} == {"s3:ListBucket"}


def test_preflight_of_a_prefix_probes_its_first_object_where_the_copy_would_put_it(
    lab: Any, unique_key: str
) -> None:
    server = lab(may_list_both_buckets())
    s3 = boto3.client("s3", **server.client_kwargs("EC2Role"))
    s3.put_object(Bucket="cp-src", Key=f"{unique_key}/", Body=b"")  # a console's folder marker
    s3.put_object(Bucket="cp-src", Key=f"{unique_key}/big", Body=b"x" * (6 * 1024 * 1024))
    done = run(server, "preflight", f"s3://cp-src/{unique_key}/", "s3://cp-dst/out", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["source"], report["dest"]) == (
        f"s3://cp-src/{unique_key}/big",
        "s3://cp-dst/out/big",  # as cp --recursive maps it
    )
    steps = [s["operation"] for s in report["steps"]]
    assert steps[:2] == ["ListObjectsV2", "HeadObject"] and "UploadPartCopy" in steps
    assert report["clear"]

    empty = run(server, "preflight", f"s3://cp-src/{unique_key}-none/", "s3://cp-dst/out/")
    assert empty.returncode == 0, empty.stderr
    assert "only the listing was checked" in empty.stdout


def test_preflight_sync_probes_the_destination_listing_too(lab: Any, unique_key: str) -> None:
    server = lab(may_list_both_buckets(dest=False))  # EC2Role may list cp-src only
    put(server, "EC2Role", "cp-src", [f"{unique_key}/a"])
    src, dst = f"s3://cp-src/{unique_key}/", f"s3://cp-dst/{unique_key}/"
    as_cp = run(server, "preflight", src, dst, "--json")
    assert as_cp.returncode == 0, as_cp.stderr  # cp --recursive never lists cp-dst
    assert any("add --sync" in note for note in json.loads(as_cp.stdout)["notes"])

    done = run(server, "preflight", src, dst, "--sync", "--json")
    assert done.returncode == 3, done.stderr
    report = json.loads(done.stdout)
    steps = [(s["operation"], s["ok"]) for s in report["steps"]]
    assert steps[:3] == [("ListObjectsV2", True), ("ListObjectsV2", False), ("HeadObject", True)]
    assert ("UploadPartCopy", True) in steps  # the canary ran: one report names everything
    for path in ("single", "multipart"):
        assert report[path]["blocked_at"] == "ListObjectsV2"
        assert {(f["action"], f["resource"]) for f in report[path]["findings"]} == {
            ("s3:ListBucket", "arn:aws:s3:::cp-dst")
        }
    text = run(server, "preflight", src, dst, "--sync")
    assert text.returncode == 3, text.stderr
    assert "DENIED  s3:ListBucket on s3://cp-dst, prefix" in text.stdout
    assert "fix in: bucket-policy, for arn:aws:iam::123456789012:role/EC2Role" in text.stdout
    assert "fix in: identity-policy of account 123456789012" in text.stdout

    fixed = lab(may_list_both_buckets())
    put(fixed, "EC2Role", "cp-src", [f"{unique_key}/a"])
    clear = run(fixed, "preflight", src, dst, "--sync", "--json")
    assert clear.returncode == 0, clear.stderr
    assert [s["ok"] for s in json.loads(clear.stdout)["steps"][:2]] == [True, True]

    an_object = run(fixed, "preflight", f"{src}a", dst, "--sync")
    assert an_object.returncode == 2
    assert an_object.stderr.strip().splitlines() == [
        f"error: --sync probes a prefix (s3://bucket/prefix/), and {src}a is an object"
    ]
