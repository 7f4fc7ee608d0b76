"""Fixtures for bulk tests: the fault proxy, a CLI runner, object seeding."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from s3xcopy.seaweed import SeaweedServer

from .faultproxy import FaultProxy

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def proxy(seaweed: SeaweedServer) -> Iterator[FaultProxy]:
    """A counting, fault-injecting proxy in front of the SeaweedFS server."""
    with FaultProxy(seaweed.endpoint_url) as running:
        yield running


@pytest.fixture
def cli_env(seaweed: SeaweedServer) -> dict[str, str]:
    """Environment for ``python -m s3xcopy`` against the server: its credentials, no AWS config."""
    kwargs = seaweed.client_kwargs()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        PYTHONPATH=str(ROOT),
        AWS_ACCESS_KEY_ID=kwargs["aws_access_key_id"],
        AWS_SECRET_ACCESS_KEY=kwargs["aws_secret_access_key"],
        AWS_DEFAULT_REGION=kwargs["region_name"],
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


CliRunner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run_cli(cli_env: dict[str, str], seaweed: SeaweedServer) -> CliRunner:
    """Run ``s3xcopy ARGS --endpoint-url SERVER`` in a subprocess; bounded by a timeout."""

    def run(
        *args: str, endpoint: str | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "s3xcopy", *args]
        command += ["--endpoint-url", endpoint or seaweed.endpoint_url]
        return subprocess.run(
            command, env=cli_env, capture_output=True, text=True, timeout=timeout, check=False
        )

    return run


def fast_client(seaweed: SeaweedServer) -> Any:
    """A client with a pool big enough for the seeding threads."""
    return boto3.client("s3", config=Config(max_pool_connections=32), **seaweed.client_kwargs())


def put_objects(
    client: Any, bucket: str, items: Sequence[tuple[str, bytes, dict[str, Any]]]
) -> None:
    """Put (key, body, extra put_object args) concurrently."""

    def put(item: tuple[str, bytes, dict[str, Any]]) -> None:
        key, body, extra = item
        client.put_object(Bucket=bucket, Key=key, Body=body, **extra)

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put, items))


def list_keys(client: Any, bucket: str, prefix: str = "") -> dict[str, dict[str, Any]]:
    """Every object under ``prefix``: key -> its listing entry."""
    found: dict[str, dict[str, Any]] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", ()):
            found[item["Key"]] = item
    return found


def open_uploads(client: Any, bucket: str) -> list[dict[str, Any]]:
    return list(client.list_multipart_uploads(Bucket=bucket).get("Uploads", ()))
