"""Bulk copies planned from the listing, on the real server, counted through the fault proxy.

Small objects are copied with one CopyObject each (no HeadObject of the source, none of
the destination when the copy's ETag proves the bytes), and still arrive with their
metadata, content headers and tags; a source replaced after the listing is refused.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import boto3
import pytest

from s3xcopy import CopyConfig, SourceChangedError, copy_prefix
from s3xcopy.seaweed import SeaweedServer

from .conftest import fast_client, list_keys, put_objects
from .faultproxy import FaultProxy

pytestmark = pytest.mark.seaweed

ITEMS = {
    "data/a.csv": {"ContentType": "text/csv", "CacheControl": "max-age=60"},
    "data/b.json": {"ContentType": "application/json", "ContentDisposition": "inline"},
    "data/sub/c.txt": {"ContentType": "text/plain", "ContentLanguage": "en"},
}


def seed(client: Any, name: str) -> tuple[str, str]:
    source, dest = f"{name}-src", f"{name}-dst"
    client.create_bucket(Bucket=source)
    client.create_bucket(Bucket=dest)
    put_objects(
        client,
        source,
        [
            (
                key,
                key.encode() * 50,
                {**headers, "Metadata": {"origin": key}, "Tagging": f"name={key}&set=listed"},
            )
            for key, headers in ITEMS.items()
        ],
    )
    return source, dest


def session(seaweed: SeaweedServer) -> boto3.session.Session:
    kwargs = seaweed.client_kwargs()
    return boto3.session.Session(
        aws_access_key_id=kwargs["aws_access_key_id"],
        aws_secret_access_key=kwargs["aws_secret_access_key"],
        region_name=kwargs["region_name"],
    )


def test_one_copy_object_per_object_and_everything_arrives(
    seaweed: SeaweedServer, proxy: FaultProxy
) -> None:
    client = fast_client(seaweed)
    source, dest = seed(client, "listed")
    run = copy_prefix(
        f"s3://{source}/data/", f"s3://{dest}/copy/", CopyConfig(), session(seaweed),
        endpoint_url=proxy.endpoint_url,
    )  # fmt: skip
    summary = run.result()
    assert (summary.objects, summary.failed) == (3, 0)
    sent = Counter(r.operation for r in proxy.requests())
    assert sent == {"ListObjectsV2": 1, "CopyObject": 3}
    copied = list_keys(client, dest, "copy/")
    for key, headers in ITEMS.items():
        target = "copy/" + key[len("data/") :]
        assert copied[target]["ETag"] == list_keys(client, source, key)[key]["ETag"]
        head = client.head_object(Bucket=dest, Key=target)
        assert head["Metadata"] == {"origin": key}
        for name, value in headers.items():
            assert head[name] == value, (key, name)
        tags = client.get_object_tagging(Bucket=dest, Key=target)["TagSet"]
        assert sorted((t["Key"], t["Value"]) for t in tags) == [("name", key), ("set", "listed")]


def test_a_source_replaced_after_the_listing_is_refused_not_copied(
    seaweed: SeaweedServer, proxy: FaultProxy
) -> None:
    client = fast_client(seaweed)
    source, dest = seed(client, "replaced")
    replaced: list[str] = []

    def replace_before_its_copy(operation: str, bucket: str, key: str) -> tuple[int, str] | None:
        """Not a fault: overwrite the source just before the proxy forwards its copy."""
        if operation == "CopyObject" and key == "copy/b.json" and not replaced:
            client.put_object(Bucket=source, Key="data/b.json", Body=b"a newer version")
            replaced.append(key)
        return None

    proxy.fault = replace_before_its_copy
    run = copy_prefix(
        f"s3://{source}/data/", f"s3://{dest}/copy/", CopyConfig(), session(seaweed),
        endpoint_url=proxy.endpoint_url,
    )  # fmt: skip
    outcomes = {o.dest: o for o in run}
    assert replaced == ["copy/b.json"]
    refused = outcomes[f"s3://{dest}/copy/b.json"]
    assert refused.status == "failed"
    assert isinstance(refused.error, SourceChangedError)
    assert "changed since it was listed" in str(refused.error)
    assert sorted(list_keys(client, dest, "copy/")) == ["copy/a.csv", "copy/sub/c.txt"]
    assert run.summary.failed == 1
