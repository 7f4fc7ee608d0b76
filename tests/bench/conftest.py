"""Fixtures for the benchmark kit: an in-process modelled S3 with no waiting in it."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from s3xcopy.bench import ModelParams, ModelServer

#: No latency and an effectively infinite copy rate: the API's behaviour, never its timing.
FAST = ModelParams(latency_ms=0, copy_rate_mbps=1e9, write_rps=0, read_rps=0)
_names = itertools.count(1)


@pytest.fixture(scope="session")
def model() -> Iterator[ModelServer]:
    """The modelled S3 on a free 127.0.0.1 port, for the whole session."""
    with ModelServer(FAST) as server:
        yield server


def client(server: ModelServer, **config: Any) -> Any:
    """A boto3 S3 client on ``server``; botocore retries off so an error is seen as sent."""
    settings = Config(retries={"total_max_attempts": 1, "mode": "standard"}, **config)
    return boto3.client("s3", config=settings, **server.client_kwargs())


@pytest.fixture
def s3(model: ModelServer) -> Any:
    return client(model)


@pytest.fixture
def bucket(s3: Any) -> str:
    """A fresh bucket on the model."""
    name = f"bench-{next(_names)}"
    s3.create_bucket(Bucket=name)
    return name
