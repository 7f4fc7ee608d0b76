"""cp --recursive --preflight: one canary per permission context, not one per object."""

from __future__ import annotations

import json
from typing import Any

import pytest

from s3xcopy.seaweed import SeaweedServer

from .conftest import CliRunner, fast_client, list_keys, open_uploads, put_objects
from .faultproxy import FaultProxy

pytestmark = pytest.mark.seaweed

DENIED = "in/obj-3"


def seed(seaweed: SeaweedServer, make_bucket: Any) -> tuple[Any, str, str]:
    """Eight small objects; the odd ones tagged (copying tags is another permission)."""
    client = fast_client(seaweed)
    source, dest = make_bucket("pfs"), make_bucket("pfd")
    put_objects(
        client,
        source,
        [(f"in/obj-{n}", b"x" * (100 + n), {"Tagging": "t=1"} if n % 2 else {}) for n in range(8)],
    )
    return client, source, dest


def test_one_canary_per_context(
    seaweed: SeaweedServer, make_bucket: Any, proxy: FaultProxy, run_cli: CliRunner
) -> None:
    client, source, dest = seed(seaweed, make_bucket)
    done = run_cli(
        "cp", "--recursive", f"s3://{source}/in/", f"s3://{dest}/out/", "--preflight",
        "--json", endpoint=proxy.endpoint_url,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    events = [json.loads(line)["event"] for line in done.stdout.splitlines()]
    assert sorted(e for e in events if e != "summary") == ["copied"] * 8
    assert len(list_keys(client, dest, "out/")) == 8
    canaries = proxy.requests("CreateMultipartUpload")
    assert len(canaries) == 2  # tagged and untagged: two contexts, eight objects
    assert len(proxy.requests("AbortMultipartUpload")) == 2
    assert open_uploads(client, dest) == []


def test_an_object_refused_alone_is_not_hidden_and_does_not_fail_the_others(
    seaweed: SeaweedServer, make_bucket: Any, proxy: FaultProxy, run_cli: CliRunner
) -> None:
    client, source, dest = seed(seaweed, make_bucket)
    # The copying identity may not read this one object (an object ACL, say): its canary
    # GetObject (source key) and its copy (named by the destination key) are refused.
    refused = {("GetObject", DENIED), ("CopyObject", DENIED.replace("in/", "out/"))}
    proxy.fault = lambda op, bucket, key: (403, "AccessDenied") if (op, key) in refused else None
    done = run_cli(
        "cp", "--recursive", f"s3://{source}/in/", f"s3://{dest}/out/", "--preflight",
        "--json", "--no-fallback", endpoint=proxy.endpoint_url,
    )  # fmt: skip
    assert done.returncode != 0
    records = {
        r["source"]: r for r in map(json.loads, done.stdout.splitlines()) if r["event"] != "summary"
    }
    failed = [s for s, r in records.items() if r["event"] == "failed"]
    assert failed == [f"s3://{source}/{DENIED}"]
    assert records[failed[0]]["error"]["code"] == "AccessDenied"
    assert sorted(list_keys(client, dest, "out/")) == sorted(
        f"out/obj-{n}" for n in range(8) if f"in/obj-{n}" != DENIED
    )
    assert open_uploads(client, dest) == []
