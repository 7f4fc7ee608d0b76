"""Shared fixtures: a SeaweedFS server per test session, fresh buckets per test."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from s3xcopy.seaweed import SeaweedServer

# Never let a developer's real AWS settings leak into a test.
for _name in [n for n in os.environ if n.startswith("AWS_")]:
    del os.environ[_name]
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

_bucket_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedServer]:
    """A real S3 server (SeaweedFS ``weed mini``) on free loopback ports, stopped by PID."""
    data_dir = tmp_path_factory.mktemp("weed")
    server = SeaweedServer(str(data_dir))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def seaweed_session(seaweed: SeaweedServer) -> boto3.session.Session:
    """A boto3 session whose credentials SeaweedFS accepts."""
    kwargs = seaweed.client_kwargs()
    return boto3.session.Session(
        aws_access_key_id=kwargs["aws_access_key_id"],
        aws_secret_access_key=kwargs["aws_secret_access_key"],
        region_name=kwargs["region_name"],
    )


@pytest.fixture
def s3(seaweed: SeaweedServer) -> Any:
    """A plain boto3 S3 client on the SeaweedFS server, for arranging and checking."""
    return boto3.client("s3", **seaweed.client_kwargs())


@pytest.fixture
def make_bucket(s3: Any) -> Any:
    """Create a fresh, uniquely named bucket on the server and return its name."""

    def make(prefix: str = "b") -> str:
        name = f"{prefix}-{os.getpid()}-{next(_bucket_numbers)}"
        s3.create_bucket(Bucket=name)
        return name

    return make
