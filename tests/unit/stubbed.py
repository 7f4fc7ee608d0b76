"""A CopyEngine on botocore's Stubber: the exact requests an engine sends, no server."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.stub import Stubber

from s3xcopy import CopyConfig
from s3xcopy.clients import client_config
from s3xcopy.engine import CopyEngine
from s3xcopy.events import Event


class StubbedEngine:
    """An engine whose client answers from ``stub``; events and backoff sleeps recorded."""

    def __init__(self, config: CopyConfig) -> None:
        self.client = boto3.client(
            "s3",
            region_name="us-east-1",
            aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key="not-a-secret",
            config=client_config(1),
        )
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
