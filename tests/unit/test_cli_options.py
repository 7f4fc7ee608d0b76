"""Flags scripts carry over from ``aws s3 cp``: --grants."""

from __future__ import annotations

import argparse

import pytest

from s3xcopy.cli import main
from s3xcopy.cli.options import add_copy_options, extra_args
from s3xcopy.errors import InvalidInputError


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
