"""Offline S3 clients, and a CopyEngine on botocore's Stubber: exact requests, no server."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.credentials import Credentials
from botocore.stub import Stubber

from s3xcopy import CopyConfig
from s3xcopy.clients import client_config
from s3xcopy.engine import CopyEngine
from s3xcopy.events import Event
from s3xcopy.wire import LeanCopyObject

ACCESS_KEY, SECRET_KEY = "AKIDEXAMPLE", "not-a-secret"


def offline_client(endpoint_url: str | None = None, region: str = "us-east-1") -> Any:
    """An S3 client as s3xcopy configures one, with example keys; nothing is ever sent."""
    return boto3.client(
        "s3",
        region_name=region,
        endpoint_url=endpoint_url,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=client_config(1),
    )


def lean_sender(client: Any) -> LeanCopyObject:
    """The lean CopyObject sender of an offline client."""
    sender = LeanCopyObject.for_client(client, Credentials(ACCESS_KEY, SECRET_KEY))
    assert sender is not None
    return sender


class StubbedEngine:
    """An engine whose client answers from ``stub``; events and backoff sleeps recorded."""

    def __init__(self, config: CopyConfig) -> None:
        self.client = offline_client()
        self.stub = Stubber(self.client)
        self.events: list[Event] = []
        self.sleeps: list[float] = []
        self.engine = CopyEngine(
            self.client,
            config=config,
            listener=self.events.append,
            sleep=self.sleeps.append,
        )

    def ok(
        self, method: str, response: dict[str, Any], params: dict[str, Any] | None = None
    ) -> None:
        self.stub.add_response(method, response, params)

    def error(
        self,
        method: str,
        code: str,
        status: int,
        message: str = "",
        *,
        params: dict[str, Any] | None = None,
    ) -> None:
        self.stub.add_client_error(
            method,
            service_error_code=code,
            http_status_code=status,
            service_message=message,
            expected_params=params,
        )
