"""S3 timestamps: the fast parser gives botocore's instants for every form S3 writes."""

from __future__ import annotations

import datetime as dt

import boto3
import pytest
from botocore.utils import parse_timestamp as botocore_parse_timestamp

from s3xcopy.clients import s3_client
from s3xcopy.timestamps import parse_timestamp


@pytest.mark.parametrize(
    "value",
    [
        "2026-12-01T12:48:26.343Z",
        "2026-12-01T12:48:26Z",
        "2026-12-01T12:48:26.1Z",
        "2026-12-01T12:48:26.123456789Z",
        "2024-02-29T23:59:59.999Z",
        "Tue, 01 Dec 2026 12:48:26 GMT",
        "Thu, 29 Feb 2024 00:00:00 GMT",
        # Not S3's forms: botocore's parser decides.
        "2026-12-01T12:48:26+02:00",
        "2026-12-01T12:48:26",
        "1700000000",
    ],
)
def test_same_instant_as_botocore(value: str) -> None:
    ours = parse_timestamp(value)
    assert ours == botocore_parse_timestamp(value)
    assert ours.utcoffset() == botocore_parse_timestamp(value).utcoffset()


def test_utc_values_are_aware() -> None:
    assert parse_timestamp("2026-01-02T03:04:05.678Z") == dt.datetime(
        2026, 1, 2, 3, 4, 5, 678000, tzinfo=dt.timezone.utc
    )


def test_invalid_values_fail_as_in_botocore() -> None:
    for value in ("not a time", "Tue, 01 Foo 2026 12:48:26 GMT"):
        with pytest.raises(ValueError, match="Invalid timestamp"):
            parse_timestamp(value)


def test_s3xcopy_clients_parse_with_it_and_leave_the_session_alone() -> None:
    session = boto3.session.Session(
        aws_access_key_id="a", aws_secret_access_key="b", region_name="us-east-1"
    )
    ours = s3_client(session)
    theirs = session.client("s3")
    parser = ours._endpoint._response_parser_factory.create_parser("rest-xml")
    assert parser._timestamp_parser is parse_timestamp
    other = theirs._endpoint._response_parser_factory.create_parser("rest-xml")
    assert other._timestamp_parser is not parse_timestamp
