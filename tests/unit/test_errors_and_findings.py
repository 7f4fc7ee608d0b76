"""The error tree subclasses the built-ins callers already catch; Finding validates itself."""

from __future__ import annotations

import pytest

from s3xcopy import (
    AccessDeniedError,
    Finding,
    InvalidInputError,
    NotFoundError,
    S3xCopyError,
    SourceChangedError,
)


@pytest.mark.parametrize(
    ("error_type", "builtin"),
    [
        (AccessDeniedError, PermissionError),
        (NotFoundError, FileNotFoundError),
        (InvalidInputError, ValueError),
        (SourceChangedError, S3xCopyError),
    ],
)
def test_error_tree(error_type: type[S3xCopyError], builtin: type[Exception]) -> None:
    err = error_type("it broke", operation="UploadPartCopy", code="X")
    assert isinstance(err, S3xCopyError)
    assert isinstance(err, builtin)
    assert str(err) == "it broke"
    assert err.operation == "UploadPartCopy"
    assert err.findings == ()


def _finding(**changes: object) -> Finding:
    fields: dict[str, object] = {
        "code": "dest-kms-decrypt",
        "action": "kms:Decrypt",
        "resource": "arn:aws:kms:us-east-1:987654321098:key/k",
        "policy": "key-policy",
        "account": "987654321098",
        "principal": "arn:aws:iam::123456789012:role/EC2Role",
        "statement": {"Effect": "Allow"},
        "certainty": "inferred",
        "summary": "kms:Decrypt is missing",
    }
    fields.update(changes)
    return Finding(**fields)  # type: ignore[arg-type]


def test_finding_round_trip_and_hash() -> None:
    finding = _finding()
    assert finding.to_dict()["action"] == "kms:Decrypt"
    assert '"Effect": "Allow"' in finding.statement_json()
    # The statement is derived, so two findings differing only in it are one finding.
    assert {finding, _finding(statement={"Effect": "Allow", "Sid": "x"})} == {finding}


@pytest.mark.parametrize(
    "changes",
    [{"policy": "iam"}, {"certainty": "sure"}, {"account": "12345"}, {"account": "98765432109x"}],
)
def test_finding_rejects_bad_fields(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"must be|unknown"):
        _finding(**changes)
