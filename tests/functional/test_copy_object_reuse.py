"""``copy_object()`` in a loop keeps its session and clients, as an application keeps one.

ETL code calls it once per object: a new boto3 session and client per call cost about
15 times the copy itself. On moto (nothing leaves the process).
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from s3xcopy import api as api_module
from s3xcopy import copy_object
from s3xcopy.api import SharedClients

KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[Any, tuple[Any, ...]]]]:
    """Fresh shared clients for the test; every S3 client they make, with its session."""
    shared = SharedClients()
    monkeypatch.setattr(api_module, "SHARED_CLIENTS", shared)
    clients: list[tuple[Any, tuple[Any, ...]]] = []
    real = api_module.s3_client

    def counting(session: Any, **kwargs: Any) -> Any:
        client = real(session, **kwargs)
        clients.append((session, tuple(sorted(kwargs.items()))))
        return client

    monkeypatch.setattr(api_module, "s3_client", counting)
    for name, value in {**KEYS, "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        for bucket in ("src", "dst"):
            s3.create_bucket(Bucket=bucket)
        for n in range(3):
            s3.put_object(Bucket="src", Key=f"k{n}", Body=b"x" * (n + 1))
        yield clients


def test_calls_share_one_default_session_and_client(made: list[Any]) -> None:
    for n in range(3):
        assert copy_object(f"s3://src/k{n}", f"s3://dst/k{n}").size == n + 1
    assert len(made) == 1  # one client for the three copies
    session, _ = made[0]
    assert api_module.SHARED_CLIENTS.default_session() is session


def test_a_changed_aws_environment_means_a_new_default_session(
    made: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    copy_object("s3://src/k0", "s3://dst/a")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "rotated")  # another key: the chain is read again
    copy_object("s3://src/k0", "s3://dst/b")
    copy_object("s3://src/k1", "s3://dst/c")
    assert len(made) == 2
    first, second = made[0][0], made[1][0]
    assert first is not second
    credentials = second.get_credentials()
    assert credentials is not None and credentials.access_key == "rotated"


def test_settings_and_sessions_get_their_own_clients_which_go_with_the_session(
    made: list[Any],
) -> None:
    session = boto3.session.Session(region_name="us-east-1")
    copy_object("s3://src/k0", "s3://dst/a", session=session)
    copy_object("s3://src/k1", "s3://dst/b", session=session)
    copy_object("s3://src/k0", "s3://dst/c", session=session, region="us-east-1")
    assert len(made) == 2 and all(s is session for s, _ in made)  # same session, two regions
    shared = api_module.SHARED_CLIENTS
    assert len(shared._clients) == 1
    del session, made[:]
    gc.collect()
    assert len(shared._clients) == 0  # nothing keeps a session the caller let go


def test_the_environment_outside_aws_does_not_matter(made: list[Any]) -> None:
    copy_object("s3://src/k0", "s3://dst/a")
    os.environ["S3XCOPY_TEST_UNRELATED"] = "1"
    try:
        copy_object("s3://src/k0", "s3://dst/b")
    finally:
        del os.environ["S3XCOPY_TEST_UNRELATED"]
    assert len(made) == 1
