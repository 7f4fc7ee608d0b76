"""Bad scenario files: one line naming the file, the JSON path inside it and what is wrong."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from s3xcopy.cli import main
from s3xcopy.lab import ScenarioError, load_scenario, shipped_scenarios

ROOT = Path(__file__).resolve().parents[2]


def _original() -> dict[str, Any]:
    return load_scenario("original").to_dict()


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        target = doc
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return mutate


def _delete(path: list[Any]) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        target = doc
        for part in path[:-1]:
            target = target[part]
        del target[path[-1]]

    return mutate


def _rename_account(doc: dict[str, Any]) -> None:
    doc["accounts"]["12345"] = doc["accounts"].pop("123456789012")


def _rcp(effect: str, principal: Any) -> dict[str, Any]:
    statement = {"Effect": effect, "Principal": principal, "Action": "s3:*", "Resource": "*"}
    return {"Version": "2012-10-17", "Statement": [statement]}


BAD = [
    (
        "unknown-top-field",
        _set(["bucketz"], {}),
        "$.bucketz: unknown field (expected one of: accounts, buckets,",
    ),
    (
        "effect-lower-case",
        _set(["keys", "dst-key", "policy", "Statement", 1, "Effect"], "allow"),
        '$.keys["dst-key"].policy.Statement[1].Effect: expected "Allow" or "Deny", got "allow"',
    ),
    (
        "undeclared-account",
        _set(["principals", "EC2Role", "account"], "111111111111"),
        "$.principals.EC2Role.account: account 111111111111 is not declared in $.accounts",
    ),
    (
        "unknown-key",
        _set(["buckets", "cp-dst", "encryption", "key"], "nokey"),
        '$.buckets["cp-dst"].encryption.key: "nokey" names no key in $.keys',
    ),
    (
        "duplicate-access-key",
        _set(["principals", "DstAdmin", "access_key_id"], "AKIALABEC2ROLE000001"),
        "$.principals.DstAdmin.access_key_id: also the access key of EC2Role",
    ),
    (
        "short-account-id",
        _rename_account,
        '$.accounts["12345"]: "12345" is not a valid account id (12 digits)',
    ),
    (
        "error-style",
        _set(["error_style"], "loud"),
        '$.error_style: expected one of bare, explicit, got "loud"',
    ),
    (
        "principal-in-identity-policy",
        _set(
            ["principals", "EC2Role", "policies", "S3Permissions", "Statement", 0, "Principal"], "*"
        ),
        "$.principals.EC2Role.policies.S3Permissions.Statement[0].Principal: "
        "an identity-policy cannot name a Principal",
    ),
    ("missing-principals", _delete(["principals"]), "$: missing field 'principals'"),
    (
        "bad-bucket-name",
        lambda d: d["buckets"].update({"CP_DST": d["buckets"].pop("cp-dst")}),
        '$.buckets.CP_DST: "CP_DST" is not a valid bucket name',
    ),
    (
        "key-state",
        _set(["keys", "dst-key", "state"], "Gone"),
        '$.keys["dst-key"].state: expected one of Enabled, Disabled, PendingDeletion, got "Gone"',
    ),
    (
        "bucket-policy-without-principal",
        _delete(["buckets", "cp-dst", "policy", "Statement", 0, "Principal"]),
        '$.buckets["cp-dst"].policy.Statement[0]: '
        "a bucket-policy statement needs Principal or NotPrincipal",
    ),
    (
        "requester-pays-type",
        _set(["buckets", "cp-src", "requester_pays"], "yes"),
        '$.buckets["cp-src"].requester_pays: expected true or false, got a string',
    ),
    (
        "unknown-principal-field",
        _set(["principals", "EC2Role", "role"], "x"),
        "$.principals.EC2Role.role: unknown field",
    ),
    (
        "principals-not-object",
        _set(["principals"], []),
        "$.principals: expected an object, got a list",
    ),
    (
        "rcp-allow",
        _set(["accounts", "987654321098", "rcps"], [_rcp("Allow", "*")]),
        '$.accounts["987654321098"].rcps[0].Statement[0].Effect: '
        'an rcp statement must be "Deny" (Allow is only in AWS\'s RCPFullAWSAccess)',
    ),
    (
        "rcp-named-principal",
        _set(["accounts", "987654321098", "rcps"], [_rcp("Deny", {"AWS": "123456789012"})]),
        '$.accounts["987654321098"].rcps[0].Statement[0].Principal: '
        'an rcp statement\'s Principal must be "*"',
    ),
    (
        "rcps-not-a-list",
        _set(["accounts", "987654321098", "rcps"], {}),
        '$.accounts["987654321098"].rcps: expected a list of policies, got an object',
    ),
    (
        "organization-id",
        _set(["accounts", "123456789012", "organization"], "org-1"),
        '$.accounts["123456789012"].organization: "org-1" is not a valid organization id '
        "(o- and 10 to 32 lower-case letters or digits)",
    ),
    (
        "bad-condition",
        _set(
            ["keys", "dst-key", "policy", "Statement", 0, "Condition"], {"StringEqual": {"a": "b"}}
        ),
        '$.keys["dst-key"].policy.Statement[0].Condition.StringEqual: unknown condition operator',
    ),
]


@pytest.mark.parametrize(("name", "mutate", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_scenario_file(
    tmp_path: Path,
    name: str,
    mutate: Callable[[dict[str, Any]], None],
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    doc = _original()
    mutate(doc)
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(doc, indent=2))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value).startswith(f"{path}: {message}")
    assert "\n" not in str(info.value)
    assert main(["lab", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"error: {path}: {message}")


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "accounts": {,\n}\n')
    with pytest.raises(ScenarioError, match=r"broken\.json: line 2 column 16: invalid JSON: "):
        load_scenario(path)


def test_missing_scenario_lists_shipped_ones() -> None:
    with pytest.raises(
        ScenarioError, match=r"no such scenario file, nor a shipped scenario .*original"
    ):
        load_scenario("no-such-scenario")


def test_shipped_scenarios_all_load() -> None:
    names = shipped_scenarios()
    assert {"original", "original-explicit", "original-fixed", "same-account", "bucket-key"} <= set(
        names
    )
    for name in names:
        load_scenario(name)


def test_cli_exit_2_for_bad_files_as_subprocess(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"accounts": {}, "principals": {}, "buckets": {}}))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for args in (
        ["lab", "serve", str(path)],
        ["lab", "check", str(path)],
        ["explain", "s3://a-b/k", "s3://c-d/k", "--size", "1", "--scenario", str(path)],
    ):
        result = subprocess.run(
            [sys.executable, "-m", "s3xcopy", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr == f"error: {path}: $.accounts: declare at least one account\n"
        assert "Traceback" not in result.stderr


def test_with_statement_rejects_unknown_targets() -> None:
    scenario = load_scenario("original")
    with pytest.raises(ValueError, match="cannot address policy"):
        scenario.with_statement("keys/nope", {})
    changed = scenario.with_statement(
        "principals/EC2Role/NewPolicy",
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"},
    )
    assert [p.name for p in changed.world.principals[0].policies] == [
        "S3Permissions",
        "KMSPermissions",
        "NewPolicy",
    ]
    assert scenario.world.principals[0].policies[-1].name == "KMSPermissions"  # unchanged
