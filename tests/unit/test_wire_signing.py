"""The native transport signs as botocore's CRT signer does, with the time and keys of now.

Signing settings are kept for one second (a signature's time has one-second steps):
requests of one second share them, a new second or new credentials (a refresh) get new
ones. No network: requests are only signed.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.credentials import Credentials

from s3xcopy import wire
from s3xcopy.wire import CrtTransport


@pytest.fixture
def transport() -> CrtTransport:
    return CrtTransport(
        verify=True, connect_timeout=1, read_timeout=1, keepalive=False, max_idle=1,
        proxied=lambda url: False,
    )  # fmt: skip


def sign(transport: CrtTransport, credentials: Credentials) -> dict[str, str]:
    request = transport.signed_request(
        method="PUT",
        url="http://127.0.0.1:9/bucket/a%20key",
        headers={"x-amz-copy-source": "src/k"},
        body=b"",
        credentials=credentials.get_frozen_credentials(),
        region="eu-west-1",
        service="s3",
    )
    return {name.lower(): value for name, value in request.headers}


def test_requests_of_one_second_share_settings_and_carry_its_time(
    transport: CrtTransport, monkeypatch: Any
) -> None:
    clock = [1_000.2]
    monkeypatch.setattr(wire.time, "time", lambda: clock[0])
    keys = Credentials("AKIDONE", "secret-one")
    first = sign(transport, keys)
    kept = transport._signing
    clock[0] = 1_000.9
    second = sign(transport, keys)
    assert transport._signing is kept  # the same second: the same settings
    assert first["x-amz-date"] == second["x-amz-date"] == "19700101T001640Z"
    clock[0] = 1_001.0
    third = sign(transport, keys)
    assert transport._signing is not kept
    assert third["x-amz-date"] == "19700101T001641Z"
    scope = "Credential=AKIDONE/19700101/eu-west-1/s3/aws4_request"
    assert scope in first["authorization"]
    assert "x-amz-copy-source" in first["authorization"]  # signed, as botocore signs it
    assert first["x-amz-content-sha256"]


def test_refreshed_credentials_sign_at_once(transport: CrtTransport, monkeypatch: Any) -> None:
    monkeypatch.setattr(wire.time, "time", lambda: 2_000.0)
    before = sign(transport, Credentials("AKIDOLD", "old"))
    after = sign(transport, Credentials("AKIDNEW", "new", "session-token"))
    assert "Credential=AKIDOLD/" in before["authorization"]
    assert "Credential=AKIDNEW/" in after["authorization"]
    assert after["x-amz-security-token"] == "session-token"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9000/bucket/a%20key",
        "https://bucket.s3.eu-west-1.amazonaws.com/k/%E6%97%A5?x-id=CopyObject",
        "https://s3.amazonaws.com",
        "https://s3.amazonaws.com/",
        "http://[::1]:8333/b/k?versionId=v&x=y",
        "https://host.example:443/b/k?",
        "http://host?x=1",
        "https://host/b/k%23frag#fragment",
    ],
)
def test_url_split_by_hand_is_urlsplits(url: str) -> None:
    import urllib.parse

    base, target = wire._split(url)
    parts = urllib.parse.urlsplit(url)
    assert base == f"{parts.scheme}://{parts.netloc}"
    assert target == (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    origin, host = wire._site(base)
    assert origin == (
        parts.scheme,
        parts.hostname,
        parts.port or {"http": 80, "https": 443}[parts.scheme],
    )
    assert host == wire._host_header(parts)
