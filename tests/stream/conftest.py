"""Fixtures of the stream tests: a second S3 server, a fault proxy, a server with identities.

The root conftest's ``seaweed`` server is the destination; ``source_seaweed`` is a
separate SeaweedFS process (another service: no server-side copy spans the two).
Every server is on 127.0.0.1 and stopped by its PID.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from s3xcopy.seaweed import REGION, SeaweedServer

from .faultproxy import FaultProxy

_source_buckets = itertools.count(1)


@pytest.fixture(scope="session")
def source_seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedServer]:
    """A second SeaweedFS server: the source side of copies between two services."""
    server = SeaweedServer(str(tmp_path_factory.mktemp("weed-source")))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def source_s3(source_seaweed: SeaweedServer) -> Any:
    return boto3.client("s3", **source_seaweed.client_kwargs())


@pytest.fixture
def make_source_bucket(source_s3: Any) -> Callable[[str], str]:
    def make(prefix: str = "src") -> str:
        name = f"{prefix}-{os.getpid()}-{next(_source_buckets)}"
        source_s3.create_bucket(Bucket=name)
        return name

    return make


@pytest.fixture
def fault_proxy(source_seaweed: SeaweedServer) -> Iterator[FaultProxy]:
    """A fault-injecting proxy in front of the source server (fresh faults per test)."""
    with FaultProxy(source_seaweed.endpoint_url) as proxy:
        yield proxy


# --- one server, two identities (weed -s3.config) -------------------------------------------


@dataclass(frozen=True)
class Identity:
    name: str
    access_key: str
    secret_key: str

    def session(self) -> boto3.session.Session:
        return boto3.session.Session(
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=REGION,
        )


@dataclass(frozen=True)
class TwoIdentities:
    """A server where ``reader`` may only read ``source_bucket`` and ``writer`` only use
    ``dest_bucket``: no single identity can copy between them server-side."""

    server: SeaweedServer
    admin: Identity
    reader: Identity
    writer: Identity
    source_bucket: str
    dest_bucket: str

    def client(self, who: Identity) -> Any:
        return who.session().client("s3", endpoint_url=self.server.endpoint_url)


@pytest.fixture(scope="session")
def two_identities(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoIdentities]:
    base = tmp_path_factory.mktemp("weed-iam")
    admin = Identity("admin", "admin-key", "admin-secret")
    reader = Identity("source-reader", "reader-key", "reader-secret")
    writer = Identity("dest-writer", "writer-key", "writer-secret")
    src, dst = "iam-src", "iam-dst"
    config = {
        "identities": [
            {
                "name": who.name,
                "credentials": [{"accessKey": who.access_key, "secretKey": who.secret_key}],
                "actions": actions,
            }
            for who, actions in (
                (admin, ["Admin", "Read", "Write", "List", "Tagging"]),
                (reader, [f"Read:{src}", f"List:{src}", f"Tagging:{src}"]),
                (writer, [f"Read:{dst}", f"Write:{dst}", f"List:{dst}", f"Tagging:{dst}"]),
            )
        ]
    }
    config_path = Path(base) / "s3.json"
    config_path.write_text(json.dumps(config))
    data = Path(base) / "data"
    data.mkdir()
    server = SeaweedServer(str(data), s3_config=str(config_path))
    server.start()
    try:
        setup = TwoIdentities(server, admin, reader, writer, src, dst)
        admin_client = setup.client(admin)
        admin_client.create_bucket(Bucket=src)
        admin_client.create_bucket(Bucket=dst)
        yield setup
    finally:
        server.stop()
