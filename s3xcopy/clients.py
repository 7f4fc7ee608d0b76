"""boto3 clients configured for s3xcopy: one retry layer, enough connections, our user agent."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.parsers import ResponseParserFactory

from .responses import PlannedParserFactory
from .timestamps import parse_timestamp

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
else:
    S3Client = Any

#: Connections kept above the concurrency, for HeadObject/Complete alongside parts in flight.
SPARE_CONNECTIONS = 4


def client_config(max_concurrency: int) -> Config:
    """botocore Config: no botocore retries (retry.py owns them), pool sized to the concurrency."""
    return Config(
        retries={"total_max_attempts": 1, "mode": "standard"},
        max_pool_connections=max_concurrency + SPARE_CONNECTIONS,
        user_agent_extra="s3xcopy",
        tcp_keepalive=True,
    )


def s3_client(
    session: boto3.session.Session | None,
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    max_concurrency: int = 10,
) -> S3Client:
    """An S3 client from ``session`` (boto3's default chain when None)."""
    session = session or boto3.session.Session()
    client: S3Client = session.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region or session.region_name,
        config=client_config(max_concurrency),
    )
    fast_parsing(client)
    return client


class LazyClient:
    """A client made on first use (creating one costs a tenth of a second of CPU).

    Attribute access makes the client once, whichever thread asks first; errors in making
    it (a bad endpoint) come out of that first use.
    """

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._client: Any = None
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._make()
                client = self._client
        return getattr(client, name)


def fast_parsing(client: Any) -> None:
    """Give ``client`` botocore's parser with faster parts: same values, less CPU.

    Timestamps with :func:`~s3xcopy.timestamps.parse_timestamp` (a twentieth of the CPU;
    a listing page has 1,000 of them), and listed objects, CopyObject results and answer
    headers with :class:`~s3xcopy.responses.PlannedParser` (per-shape plans in place of
    a generic walk). botocore has no public hook for one client's parser, so this sets
    the client's own parser factory (the session's, shared with other clients, is left
    alone); a client without one keeps botocore's parser.
    """
    endpoint: Any = getattr(client, "_endpoint", None)
    shared = getattr(endpoint, "_response_parser_factory", None)
    if not isinstance(shared, ResponseParserFactory):
        return
    own = PlannedParserFactory()
    own.set_parser_defaults(
        **{**getattr(shared, "_defaults", {}), "timestamp_parser": parse_timestamp}
    )
    endpoint._response_parser_factory = own


def partition_for(region: str | None) -> str:
    """The ARN partition of a region: ``aws``, ``aws-cn``, ``aws-us-gov``, ..."""
    if region is None:
        return "aws"
    session = boto3.session.Session()
    try:
        return str(session.get_partition_for_region(region))
    except Exception:  # an unknown or S3-compatible region name
        return "aws"
