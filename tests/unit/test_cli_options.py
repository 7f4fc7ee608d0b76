"""Flags scripts carry over from ``aws s3 cp``: --grants and the connection flags."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from s3xcopy.cli import main
from s3xcopy.cli.options import (
    ClientFlags,
    FlaggedSession,
    add_copy_options,
    client_flags,
    extra_args,
    session_from,
)
from s3xcopy.errors import InvalidInputError
from s3xcopy.wire import CrtTransport


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("source")
    parser.add_argument("dest")
    add_copy_options(parser)
    return parser.parse_args(["s3://src-b/k", "s3://dst-b/k", *argv])


@pytest.mark.parametrize(
    ("grants", "expected"),
    [
        (["full=id=abc"], {"GrantFullControl": "id=abc"}),
        (
            ["read=uri=http://acs.amazonaws.com/groups/global/AllUsers", "readacl=id=a,id=b"],
            {
                "GrantRead": "uri=http://acs.amazonaws.com/groups/global/AllUsers",
                "GrantReadACP": "id=a,id=b",
            },
        ),
        (["writeacl=emailaddress=a@example.com"], {"GrantWriteACP": "emailaddress=a@example.com"}),
        # The same permission twice grants both grantees, as the comma form does.
        (["read=id=a", "read=id=b"], {"GrantRead": "id=a,id=b"}),
    ],
)
def test_grants_become_the_grant_fields(grants: list[str], expected: dict[str, str]) -> None:
    assert extra_args(parse("--grants", *grants)) == expected


@pytest.mark.parametrize(
    "grant", ["write=id=a", "read", "read=id", "read=id=", "read=user=a", "read=id=a,,id=b"]
)
def test_a_malformed_grant_is_a_usage_error(grant: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cp", "s3://src-b/k", "s3://dst-b/k", "--grants", grant]) == 2
    error = capsys.readouterr().err
    assert f"invalid grant {grant!r}" in error
    assert error.count("\n") == 1


def test_grants_before_the_uris_say_where_they_go(capsys: pytest.CaptureFixture[str]) -> None:
    """nargs='+' takes the URIs too; the error says to put --grants after SRC and DST."""
    assert main(["cp", "--grants", "read=id=a", "s3://src-b/k", "s3://dst-b/k"]) == 2
    assert "put --grants after SRC and DST" in capsys.readouterr().err


def test_acl_and_grants_are_refused_together() -> None:
    with pytest.raises(InvalidInputError, match="--acl cannot be combined with --grants"):
        extra_args(parse("--acl", "private", "--grants", "read=id=a"))


def test_connection_flags_default_to_botocore_s_own() -> None:
    assert client_flags(parse()) == ClientFlags()
    assert type(session_from(None, "us-east-1", ClientFlags())) is not FlaggedSession


def test_timeouts_as_aws_takes_them() -> None:
    flags = client_flags(parse("--cli-connect-timeout", "5", "--cli-read-timeout", "0"))
    assert flags == ClientFlags(None, {"connect_timeout": 5, "read_timeout": None})


@pytest.mark.parametrize("value", ["-1", "1.5", "soon"])
def test_a_bad_timeout_is_a_usage_error(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cp", "s3://src-b/k", "s3://dst-b/k", "--cli-read-timeout", value]) == 2
    assert "expected whole seconds" in capsys.readouterr().err


def test_tls_flags(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    assert client_flags(parse("--no-verify-ssl")).verify is False
    assert client_flags(parse("--ca-bundle", str(bundle))).verify == str(bundle)
    with pytest.raises(InvalidInputError, match="no such file"):
        client_flags(parse("--ca-bundle", str(tmp_path / "missing.pem")))
    with pytest.raises(InvalidInputError, match="cannot be combined"):
        client_flags(parse("--no-verify-ssl", "--ca-bundle", str(bundle)))


def test_every_client_of_a_flagged_session_takes_the_flags() -> None:
    """S3 and STS alike (diagnosis asks STS), unless a client is given its own."""
    flags = client_flags(parse("--no-verify-ssl", "--cli-connect-timeout", "7"))
    session = session_from(None, "us-east-1", flags)
    assert isinstance(session, FlaggedSession)
    for service in ("s3", "sts"):
        client = session.client(
            service, aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret"
        )
        assert client._endpoint.http_session._verify is False
        assert client.meta.config.connect_timeout == 7
        assert client.meta.config.read_timeout == 60  # not given: botocore's default
    own = session.client(
        "s3", verify=True, aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret"
    )
    assert own._endpoint.http_session._verify is True


@pytest.mark.parametrize(("read", "native"), [("0", False), ("5", True)])
def test_no_read_limit_leaves_the_native_transport_to_botocore(read: str, native: bool) -> None:
    """The lean sender's native HTTP waits a bounded time; "wait without limit" is botocore's."""
    session = session_from(None, "us-east-1", client_flags(parse("--cli-read-timeout", read)))
    client = session.client(
        "s3", endpoint_url="http://127.0.0.1:9", aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
    )  # fmt: skip
    transport = CrtTransport.for_client(client, client._endpoint.http_session)
    assert (transport is not None) is native


def test_a_missing_profile_stays_bad_input_with_flags() -> None:
    with pytest.raises(InvalidInputError):
        session_from("no-such-profile-s3xcopy", None, ClientFlags(verify=False))


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--expires", "notadate"], "error: Expires 'notadate' is not a timestamp"),
        (["--tagging", "a=b&=c"], "error: tag key ''"),
    ],
)
@pytest.mark.parametrize("recursive", [[], ["--recursive"]])
def test_bad_destination_settings_are_one_line_before_any_request(
    flags: list[str], message: str, recursive: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """No endpoint answers here: the line comes from the flags alone."""
    source = "s3://src-b/dir/" if recursive else "s3://src-b/key"
    argv = ["cp", *recursive, source, "s3://dst-b/dir/", *flags]
    assert main([*argv, "--endpoint-url", "http://127.0.0.1:9"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(message)


@pytest.mark.parametrize(
    "flags",
    [
        ["--endpoint-url", "notaurl"],
        ["--endpoint-url", "http://"],
        ["--endpoint-url", "http://127.0.0.1:9", "--source-endpoint-url", "ftp://elsewhere"],
    ],
)
@pytest.mark.parametrize("command", [["cp"], ["cp", "--recursive"], ["sync"], ["preflight"]])
def test_an_endpoint_url_that_cannot_be_sent_to_is_bad_input(
    command: list[str], flags: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    source = "s3://src-b/dir/" if command != ["cp"] else "s3://src-b/key"
    assert main([*command, source, "s3://dst-b/dir/", *flags]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("error: invalid endpoint URL")
