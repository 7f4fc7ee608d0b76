"""Two identities on one server: neither can copy alone, both together stream the copy.

The server (SeaweedFS with an identities file) lets ``reader`` only read the source
bucket and ``writer`` only use the destination bucket, as the lab's two accounts
without cross-account grants do; so a server-side copy by ``writer`` is denied on
the source side, and s3xcopy switches to streaming with ``reader``'s credentials.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from s3xcopy import AccessDeniedError, CopyConfig, copy_object
from s3xcopy.events import Event, StrategyChanged
from s3xcopy.limits import MiB

from .conftest import TwoIdentities

pytestmark = pytest.mark.seaweed


def put(setup: TwoIdentities, key: str, size: int) -> bytes:
    data = random.Random(size).randbytes(size)
    setup.client(setup.admin).put_object(
        Bucket=setup.source_bucket,
        Key=key,
        Body=data,
        Metadata={"k": "v"},
        ContentType="text/csv",
        Tagging="a=1",
    )
    return data


def read(setup: TwoIdentities, key: str) -> tuple[bytes, dict[str, Any], list[Any]]:
    admin = setup.client(setup.admin)
    head = admin.head_object(Bucket=setup.dest_bucket, Key=key)
    tags = admin.get_object_tagging(Bucket=setup.dest_bucket, Key=key)["TagSet"]
    body = admin.get_object(Bucket=setup.dest_bucket, Key=key)["Body"].read()
    return body, {"Metadata": head["Metadata"], "ContentType": head["ContentType"]}, tags


def uploads(setup: TwoIdentities) -> list[Any]:
    admin = setup.client(setup.admin)
    return list(admin.list_multipart_uploads(Bucket=setup.dest_bucket).get("Uploads", []))


@pytest.mark.parametrize(
    ("size", "denied_at", "old"),
    [(1000, "CopyObject", "single"), (20 * MiB, "UploadPartCopy", "multipart")],
)
def test_a_copy_the_destination_may_not_read_streams_with_the_source_identity(
    two_identities: TwoIdentities, size: int, denied_at: str, old: str
) -> None:
    setup = two_identities
    key = f"switch-{size}"
    data = put(setup, key, size)
    events: list[Event] = []
    result = copy_object(
        f"s3://{setup.source_bucket}/{key}",
        f"s3://{setup.dest_bucket}/{key}",
        config=CopyConfig(part_size=5 * MiB),
        session=setup.writer.session(),
        source_session=setup.reader.session(),
        endpoint_url=setup.server.endpoint_url,
        listener=events.append,
    )
    assert result.strategy == "stream"
    assert result.fallback is not None
    assert f"denied at {denied_at} (AccessDenied)" in result.fallback
    assert "cannot read the source" in result.fallback
    changed = [(e.old, e.new) for e in events if isinstance(e, StrategyChanged)]
    assert changed == [(old, "stream")]
    body, properties, tags = read(setup, key)
    assert body == data
    assert properties == {"Metadata": {"k": "v"}, "ContentType": "text/csv"}
    assert tags == [{"Key": "a", "Value": "1"}]
    assert uploads(setup) == []  # the denied server-side upload was aborted


def test_without_the_source_identity_the_copy_is_denied(two_identities: TwoIdentities) -> None:
    setup = two_identities
    put(setup, "alone", 1000)
    with pytest.raises(AccessDeniedError) as caught:
        copy_object(
            f"s3://{setup.source_bucket}/alone",
            f"s3://{setup.dest_bucket}/alone",
            session=setup.writer.session(),
            endpoint_url=setup.server.endpoint_url,
        )
    assert caught.value.operation == "HeadObject"


@pytest.mark.parametrize("config", [CopyConfig(stream="never"), CopyConfig(fallback=False)])
def test_the_switch_can_be_refused(two_identities: TwoIdentities, config: CopyConfig) -> None:
    setup = two_identities
    put(setup, "refused", 1000)
    with pytest.raises(AccessDeniedError) as caught:
        copy_object(
            f"s3://{setup.source_bucket}/refused",
            f"s3://{setup.dest_bucket}/refused",
            config=config,
            session=setup.writer.session(),
            source_session=setup.reader.session(),
            endpoint_url=setup.server.endpoint_url,
        )
    assert caught.value.operation == "CopyObject"
    admin = setup.client(setup.admin)
    listed = admin.list_objects_v2(Bucket=setup.dest_bucket, Prefix="refused")
    assert listed.get("KeyCount", 0) == 0


def test_the_preflight_finds_the_denial_first_and_the_copy_streams(
    two_identities: TwoIdentities,
) -> None:
    setup = two_identities
    data = put(setup, "preflight", 12 * MiB)
    events: list[Event] = []
    result = copy_object(
        f"s3://{setup.source_bucket}/preflight",
        f"s3://{setup.dest_bucket}/preflight",
        config=CopyConfig(part_size=5 * MiB, preflight=True),
        session=setup.writer.session(),
        source_session=setup.reader.session(),
        endpoint_url=setup.server.endpoint_url,
        listener=events.append,
    )
    assert result.strategy == "stream"
    assert result.fallback is not None
    # The canary reads the source with the copying identity, as a server-side copy would.
    assert result.fallback.startswith("preflight: the multipart path is denied at GetObject")
    changed = [(e.old, e.new) for e in events if isinstance(e, StrategyChanged)]
    assert changed == [("multipart", "stream")]  # before any part: no server-side attempt
    assert read(setup, "preflight")[0] == data
    assert uploads(setup) == []  # the canary's upload is gone too
