"""Lab scenarios: accounts, principals with access keys, buckets, KMS keys, policies, as JSON.

:func:`load_scenario` reads a file (or a shipped scenario by name, or a dict) and
validates it strictly: an unknown field, a wrong type, an account that is not
declared, a key that does not exist, a policy IAM would reject, each raises
:class:`ScenarioError` with one line naming the file, the JSON path inside it and
what is wrong, e.g. ``original.json: $.keys["dst-key"].policy.Statement[1].Effect:
expected "Allow" or "Deny", got "allow"``.

A :class:`Scenario` carries the :class:`~s3xcopy.policy.World` the evaluator needs,
the principals' access keys, and the error style (``"bare"`` ``Access Denied`` as
across organizations, or ``"explicit"`` IAM sentences as within one). Scenarios are
immutable; :meth:`Scenario.with_statement` and :meth:`Scenario.to_dict` make
changed copies (tests add a grant and retry).

The format (every field not marked optional is required; unknown fields are errors)::

    {
      "description": "optional text",
      "region": "us-east-1",                      # optional, default us-east-1
      "error_style": "bare" | "explicit",          # optional, default bare
      "accounts": {"123456789012": {"name": "optional", "organization": "o-exampleorgid",
                                    "scps": [POLICY, ...], "rcps": [POLICY, ...]}},
      "principals": {
        "EC2Role": {
          "account": "123456789012", "type": "role" | "user",
          "path": "/",                             # optional IAM path
          "session_name": "i-0123",                # optional (roles): the session ARN's last part
          "access_key_id": "AKIALAB...", "secret_access_key": "...",
          "policies": {"PolicyName": POLICY},       # identity policies
          "permissions_boundary": POLICY,           # optional
          "session_policy": POLICY,                 # optional (roles)
          "source_ip": "10.0.0.5",                  # optional aws:SourceIp
          "source_vpce": "vpce-1a2b"                # optional: must be in vpc_endpoints
        }
      },
      "buckets": {
        "cp-dst": {
          "account": "987654321098", "region": "optional",
          "policy": POLICY | null,
          "encryption": {"sse": "AES256" | "aws:kms" | "aws:kms:dsse",
                         "key": "key name in $.keys, key ARN, alias or id",  # none: aws/s3
                         "bucket_key": false},
          "object_ownership": "BucketOwnerEnforced" | "BucketOwnerPreferred" | "ObjectWriter",
          "requester_pays": false
        }
      },
      "keys": {
        "dst-key": {
          "account": "987654321098", "region": "optional", "key_id": "optional (derived)",
          "aliases": ["alias/cp-dst"], "state": "Enabled" | "Disabled" | "PendingDeletion",
          "description": "optional", "policy": POLICY
        }
      },
      "vpc_endpoints": {"vpce-1a2b": {"policy": POLICY}}   # optional
    }

Each account's SCPs form one level: when present, one must allow and any Deny wins.
So do its RCPs (resource control policies), for requests on its buckets and keys by
any caller; their statements name ``"Principal": "*"``. An account's optional
``organization`` sets aws:PrincipalOrgID for its principals and aws:ResourceOrgID for
its buckets and keys (bucket policies granting "aws:PrincipalOrgID": "o-..." work).
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal, cast

from ..errors import InvalidInputError
from ..policy.document import JsonPath, Policy, PolicyError, format_json_path, parse_policy
from ..policy.model import (
    ORGANIZATION_ID,
    BucketInfo,
    Encryption,
    KeyInfo,
    KeyState,
    ObjectOwnership,
    PrincipalInfo,
    World,
    key_arn,
)

__all__ = [
    "ErrorStyle",
    "LabPrincipal",
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "shipped_scenarios",
]

ErrorStyle = Literal["bare", "explicit"]

_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_ACCESS_KEY = re.compile(r"^[A-Z0-9]{16,128}$")
_NAME = re.compile(r"^[A-Za-z0-9+=,.@_-]{1,64}$")
_KEY_NAMESPACE = uuid.UUID("0c7a4b1e-5d2f-4e8a-9b3c-6d1e2f3a4b5c")

_TOP = {
    "description", "region", "error_style", "accounts", "principals", "buckets", "keys",
    "vpc_endpoints",
}  # fmt: skip
_ACCOUNT_FIELDS = {"name", "organization", "scps", "rcps"}
_PRINCIPAL_FIELDS = {
    "account", "type", "path", "session_name", "access_key_id", "secret_access_key",
    "policies", "permissions_boundary", "session_policy", "source_ip", "source_vpce",
}  # fmt: skip
_BUCKET_FIELDS = {"account", "region", "policy", "encryption", "object_ownership", "requester_pays"}
_ENCRYPTION_FIELDS = {"sse", "key", "bucket_key"}
_KEY_FIELDS = {"account", "region", "key_id", "aliases", "state", "policy", "description"}
_VPCE_FIELDS = {"policy"}


class ScenarioError(InvalidInputError):
    """A scenario file that cannot be used: one line naming file, JSON path and problem."""


@dataclass(frozen=True)
class LabPrincipal:
    """A principal the lab knows by its access key."""

    name: str
    info: PrincipalInfo
    access_key_id: str
    secret_access_key: str

    @property
    def caller_arn(self) -> str:
        return self.info.caller().arn


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: the World plus what only the lab needs."""

    name: str
    #: Where it came from (a file path, ``shipped:NAME`` or ``<dict>``).
    origin: str
    description: str
    error_style: ErrorStyle
    region: str
    world: World
    principals: Mapping[str, LabPrincipal]
    #: Scenario key name -> key ARN.
    key_arns: Mapping[str, str]
    document: Mapping[str, Any] = field(repr=False)

    def principal_by_access_key(self, access_key_id: str) -> LabPrincipal | None:
        for principal in self.principals.values():
            if principal.access_key_id == access_key_id:
                return principal
        return None

    def principal(self, name_or_arn: str) -> LabPrincipal:
        """A principal by scenario name, IAM ARN or session ARN; InvalidInputError if none."""
        if name_or_arn in self.principals:
            return self.principals[name_or_arn]
        for principal in self.principals.values():
            if name_or_arn in (principal.info.arn, principal.caller_arn):
                return principal
        known = ", ".join(self.principals) or "none"
        raise InvalidInputError(
            f"no principal {name_or_arn!r} in scenario {self.name} (known: {known})"
        )

    def key(self, name_or_arn: str) -> KeyInfo:
        arn = self.key_arns.get(name_or_arn, name_or_arn)
        info = self.world.key(arn)
        if info is None:
            raise InvalidInputError(f"no key {name_or_arn!r} in scenario {self.name}")
        return info

    def to_dict(self) -> dict[str, Any]:
        """A deep copy of the scenario's JSON, to change and load again."""
        return copy.deepcopy(dict(self.document))

    def with_statement(self, target: str, statement: Mapping[str, Any]) -> Scenario:
        """A copy with ``statement`` appended to one policy.

        ``target`` is ``keys/NAME``, ``buckets/NAME``, ``principals/NAME/POLICY``
        (created if missing), ``principals/NAME/permissions_boundary``,
        ``accounts/ID/scps/INDEX`` or ``accounts/ID/rcps/INDEX``.
        """
        doc = self.to_dict()
        parts = target.split("/")
        holder: Any
        slot: Any
        try:
            if len(parts) == 2 and parts[0] in ("keys", "buckets"):
                holder, slot = doc[parts[0]][parts[1]], "policy"
            elif (
                len(parts) == 3 and parts[0] == "principals" and parts[2] == "permissions_boundary"
            ):
                holder, slot = doc["principals"][parts[1]], "permissions_boundary"
            elif len(parts) == 3 and parts[0] == "principals":
                holder, slot = doc["principals"][parts[1]].setdefault("policies", {}), parts[2]
            elif len(parts) == 4 and parts[0] == "accounts" and parts[2] in ("scps", "rcps"):
                holder, slot = doc["accounts"][parts[1]][parts[2]], int(parts[3])
            else:
                raise KeyError(target)
            policy = holder[slot] if isinstance(slot, int) else holder.get(slot)
        except (KeyError, IndexError, ValueError):
            raise InvalidInputError(f"cannot address policy {target!r} in this scenario") from None
        if policy is None:
            policy = {"Version": "2012-10-17", "Statement": []}
        statements = policy["Statement"]
        policy["Statement"] = [*([statements] if isinstance(statements, dict) else statements)]
        policy["Statement"].append(copy.deepcopy(dict(statement)))
        holder[slot] = policy
        return load_scenario(doc, name=self.name, origin=self.origin)


def shipped_scenarios() -> list[str]:
    """Names of the scenarios shipped with s3xcopy."""
    folder = resources.files("s3xcopy.lab") / "scenarios"
    return sorted(p.name[: -len(".json")] for p in folder.iterdir() if p.name.endswith(".json"))


def _shipped_text(name: str) -> str | None:
    resource = resources.files("s3xcopy.lab") / "scenarios" / f"{name}.json"
    return resource.read_text(encoding="utf-8") if resource.is_file() else None


def load_scenario(
    source: str | Path | Mapping[str, Any], *, name: str | None = None, origin: str | None = None
) -> Scenario:
    """Load and validate a scenario: a file path, a shipped scenario's name, or a dict."""
    if isinstance(source, Mapping):
        label = origin or "<dict>"
        return _Loader(label).scenario(source, name or "scenario", label)
    path = Path(source)
    if path.is_file():
        label = str(source)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ScenarioError(f"{label}: cannot read: {exc}") from exc
        scenario_name = name or path.stem
    else:
        shipped = _shipped_text(str(source)) if re.match(r"^[\w-]+$", str(source)) else None
        if shipped is None:
            raise ScenarioError(
                f"{source}: no such scenario file, nor a shipped scenario "
                f"(shipped: {', '.join(shipped_scenarios())})"
            )
        label, text, scenario_name = f"{source}.json", shipped, name or str(source)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(
            f"{label}: line {exc.lineno} column {exc.colno}: invalid JSON: {exc.msg}"
        ) from exc
    return _Loader(label).scenario(document, scenario_name, origin or label)


class _Loader:
    """Validates one document, raising ScenarioError with the JSON path of the first problem."""

    def __init__(self, label: str) -> None:
        self.label = label

    def fail(self, path: JsonPath, what: str) -> ScenarioError:
        return ScenarioError(f"{self.label}: {format_json_path(path)}: {what}")

    def obj(self, value: Any, path: JsonPath, allowed: set[str] | None = None) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"expected an object, got {_type_name(value)}")
        if allowed is not None:
            for key in value:
                if key not in allowed:
                    raise self.fail(
                        (*path, key),
                        f"unknown field (expected one of: {', '.join(sorted(allowed))})",
                    )
        return value

    def string(
        self, value: Any, path: JsonPath, pattern: re.Pattern[str] | None = None, what: str = ""
    ) -> str:
        if not isinstance(value, str):
            raise self.fail(path, f"expected a string, got {_type_name(value)}")
        if pattern is not None and not pattern.match(value):
            raise self.fail(path, f"{json.dumps(value)} is not a valid {what}")
        return value

    def boolean(self, value: Any, path: JsonPath) -> bool:
        if not isinstance(value, bool):
            raise self.fail(path, f"expected true or false, got {_type_name(value)}")
        return value

    def choice(self, value: Any, path: JsonPath, choices: tuple[str, ...]) -> str:
        if value not in choices:
            shown = (
                json.dumps(value)
                if isinstance(value, (str, int, float, bool))
                else _type_name(value)
            )
            raise self.fail(path, f"expected one of {', '.join(choices)}, got {shown}")
        return cast(str, value)

    def policy(
        self, value: Any, path: JsonPath, *, kind: Any, name: str, account: str | None
    ) -> Policy:
        try:
            return parse_policy(self.obj(value, path), kind=kind, name=name, account=account)
        except PolicyError as exc:
            raise self.fail((*path, *exc.path), exc.reason) from exc

    def organization_policies(
        self, spec: Mapping[str, Any], path: JsonPath, member: str, kind: str, account: str
    ) -> tuple[Policy, ...]:
        """An account's SCPs (``scps``) or RCPs (``rcps``): a list of policies, maybe empty."""
        raw = spec.get(member, [])
        if not isinstance(raw, list):
            raise self.fail((*path, member), f"expected a list of policies, got {_type_name(raw)}")
        label = kind.upper()
        return tuple(
            self.policy(
                p, (*path, member, i), kind=kind, name=f"{label} {i} of {account}", account=account
            )
            for i, p in enumerate(raw)
        )

    def account_ref(self, value: Any, path: JsonPath, accounts: Mapping[str, Any]) -> str:
        account = self.string(value, path, _ACCOUNT, "account id (12 digits)")
        if account not in accounts:
            raise self.fail(path, f"account {account} is not declared in $.accounts")
        return account

    def scenario(self, document: Any, name: str, origin: str) -> Scenario:
        doc = self.obj(document, (), _TOP)
        for required in ("accounts", "principals", "buckets"):
            if required not in doc:
                raise self.fail((), f"missing field {required!r}")
        region = self.string(doc.get("region", "us-east-1"), ("region",), _REGION, "region")
        style = self.choice(doc.get("error_style", "bare"), ("error_style",), ("bare", "explicit"))
        description = self.string(doc.get("description", ""), ("description",))

        accounts = self.obj(doc["accounts"], ("accounts",))
        if not accounts:
            raise self.fail(("accounts",), "declare at least one account")
        scps: dict[str, tuple[Policy, ...]] = {}
        rcps: dict[str, tuple[Policy, ...]] = {}
        organizations: dict[str, str] = {}
        for account, spec in accounts.items():
            path: JsonPath = ("accounts", account)
            self.string(account, path, _ACCOUNT, "account id (12 digits)")
            spec = self.obj(spec, path, _ACCOUNT_FIELDS)
            if "name" in spec:
                self.string(spec["name"], (*path, "name"))
            if "organization" in spec:
                organizations[account] = self.string(
                    spec["organization"], (*path, "organization"), ORGANIZATION_ID,
                    "organization id (o- and 10 to 32 lower-case letters or digits)",
                )  # fmt: skip
            scps[account] = self.organization_policies(spec, path, "scps", "scp", account)
            rcps[account] = self.organization_policies(spec, path, "rcps", "rcp", account)

        keys, key_arns = self.keys(doc.get("keys", {}), accounts, region)
        vpc_endpoints = {}
        for vpce_id, spec in self.obj(doc.get("vpc_endpoints", {}), ("vpc_endpoints",)).items():
            path = ("vpc_endpoints", vpce_id)
            spec = self.obj(spec, path, _VPCE_FIELDS)
            if "policy" not in spec:
                raise self.fail(path, "missing field 'policy'")
            vpc_endpoints[vpce_id] = self.policy(
                spec["policy"],
                (*path, "policy"),
                kind="vpc-endpoint-policy",
                name=vpce_id,
                account=None,
            )
        principals = self.principals(doc["principals"], accounts, vpc_endpoints)
        buckets = self.buckets(doc["buckets"], accounts, region, key_arns, keys)
        world = World(
            principals=tuple(p.info for p in principals.values()),
            buckets=buckets,
            keys=tuple(keys),
            scps={a: p for a, p in scps.items() if p},
            rcps={a: p for a, p in rcps.items() if p},
            organizations=organizations,
            vpc_endpoints=vpc_endpoints,
            region=region,
        )
        return Scenario(
            name=name,
            origin=origin,
            description=description,
            error_style=cast(ErrorStyle, style),
            region=region,
            world=world,
            principals=principals,
            key_arns=key_arns,
            document=copy.deepcopy(doc),
        )

    def keys(
        self, raw: Any, accounts: Mapping[str, Any], region: str
    ) -> tuple[list[KeyInfo], dict[str, str]]:
        keys: list[KeyInfo] = []
        key_arns: dict[str, str] = {}
        for key_name, spec in self.obj(raw, ("keys",)).items():
            path: JsonPath = ("keys", key_name)
            spec = self.obj(spec, path, _KEY_FIELDS)
            for required in ("account", "policy"):
                if required not in spec:
                    raise self.fail(path, f"missing field {required!r}")
            account = self.account_ref(spec["account"], (*path, "account"), accounts)
            key_region = self.string(
                spec.get("region", region), (*path, "region"), _REGION, "region"
            )
            default_id = str(uuid.uuid5(_KEY_NAMESPACE, f"{account}:{key_region}:{key_name}"))
            key_id = self.string(spec.get("key_id", default_id), (*path, "key_id"))
            if not key_id or "/" in key_id or ":" in key_id:
                raise self.fail((*path, "key_id"), "a key id has no '/' or ':' (use the bare id)")
            arn = key_arn(key_region, account, key_id)
            aliases_raw = spec.get("aliases", [])
            if not isinstance(aliases_raw, list):
                raise self.fail(
                    (*path, "aliases"), f"expected a list, got {_type_name(aliases_raw)}"
                )
            aliases = []
            for i, alias in enumerate(aliases_raw):
                alias = self.string(alias, (*path, "aliases", i))
                if not alias.startswith("alias/") or alias.startswith("alias/aws/"):
                    raise self.fail(
                        (*path, "aliases", i), "an alias starts with alias/ (not alias/aws/)"
                    )
                aliases.append(alias)
            state = self.choice(
                spec.get("state", "Enabled"),
                (*path, "state"),
                ("Enabled", "Disabled", "PendingDeletion"),
            )
            policy = self.policy(
                spec["policy"], (*path, "policy"), kind="key-policy", name=arn, account=account
            )
            description = self.string(spec.get("description", ""), (*path, "description"))
            if arn in key_arns.values():
                raise self.fail((*path, "key_id"), f"two keys have the ARN {arn}")
            keys.append(
                KeyInfo(
                    arn, account, key_region, key_id, policy, cast(KeyState, state),
                    tuple(aliases), description=description,
                )
            )  # fmt: skip
            key_arns[key_name] = arn
        return keys, key_arns

    def principals(
        self, raw: Any, accounts: Mapping[str, Any], vpc_endpoints: Mapping[str, Policy]
    ) -> dict[str, LabPrincipal]:
        principals: dict[str, LabPrincipal] = {}
        seen_keys: dict[str, str] = {}
        for name, spec in self.obj(raw, ("principals",)).items():
            path: JsonPath = ("principals", name)
            self.string(name, path, _NAME, "IAM name")
            spec = self.obj(spec, path, _PRINCIPAL_FIELDS)
            for required in ("account", "type", "access_key_id", "secret_access_key"):
                if required not in spec:
                    raise self.fail(path, f"missing field {required!r}")
            account = self.account_ref(spec["account"], (*path, "account"), accounts)
            kind = self.choice(spec["type"], (*path, "type"), ("role", "user"))
            iam_path = self.string(spec.get("path", "/"), (*path, "path"))
            if not (iam_path.startswith("/") and iam_path.endswith("/")):
                raise self.fail((*path, "path"), "an IAM path starts and ends with '/'")
            arn = f"arn:aws:iam::{account}:{kind}{iam_path}{name}"
            access_key = self.string(
                spec["access_key_id"], (*path, "access_key_id"), _ACCESS_KEY,
                "access key id (16+ upper-case letters and digits)",
            )  # fmt: skip
            if access_key in seen_keys:
                raise self.fail(
                    (*path, "access_key_id"), f"also the access key of {seen_keys[access_key]}"
                )
            seen_keys[access_key] = name
            secret = self.string(spec["secret_access_key"], (*path, "secret_access_key"))
            if not secret:
                raise self.fail((*path, "secret_access_key"), "must not be empty")
            policies = tuple(
                self.policy(
                    doc,
                    (*path, "policies", policy_name),
                    kind="identity-policy",
                    name=policy_name,
                    account=account,
                )
                for policy_name, doc in self.obj(
                    spec.get("policies", {}), (*path, "policies")
                ).items()
            )
            boundary = None
            if "permissions_boundary" in spec:
                boundary = self.policy(
                    spec["permissions_boundary"], (*path, "permissions_boundary"),
                    kind="permissions-boundary", name=f"boundary of {name}", account=account,
                )  # fmt: skip
            session: tuple[Policy, ...] = ()
            if "session_policy" in spec:
                if kind != "role":
                    raise self.fail(
                        (*path, "session_policy"), "only role sessions have session policies"
                    )
                session = (
                    self.policy(
                        spec["session_policy"], (*path, "session_policy"),
                        kind="session-policy", name=f"session policy of {name}", account=account,
                    ),
                )  # fmt: skip
            session_name = self.string(
                spec.get("session_name", "s3xcopy-lab"), (*path, "session_name")
            )
            if not _NAME.match(session_name):
                raise self.fail(
                    (*path, "session_name"),
                    f"{json.dumps(session_name)} is not a valid session name",
                )
            source_ip = spec.get("source_ip")
            if source_ip is not None:
                source_ip = self.string(source_ip, (*path, "source_ip"))
            source_vpce = spec.get("source_vpce")
            if source_vpce is not None:
                source_vpce = self.string(source_vpce, (*path, "source_vpce"))
                if source_vpce not in vpc_endpoints:
                    raise self.fail(
                        (*path, "source_vpce"), f"{source_vpce} is not declared in $.vpc_endpoints"
                    )
            info = PrincipalInfo(
                arn=arn, account=account, kind=cast(Literal["user", "role"], kind), name=name,
                policies=policies, permissions_boundary=boundary, session_policies=session,
                session_name=session_name, source_ip=source_ip, source_vpce=source_vpce,
            )  # fmt: skip
            principals[name] = LabPrincipal(name, info, access_key, secret)
        return principals

    def buckets(
        self,
        raw: Any,
        accounts: Mapping[str, Any],
        region: str,
        key_arns: Mapping[str, str],
        keys: list[KeyInfo],
    ) -> dict[str, BucketInfo]:
        buckets: dict[str, BucketInfo] = {}
        for name, spec in self.obj(raw, ("buckets",)).items():
            path: JsonPath = ("buckets", name)
            self.string(name, path, _BUCKET, "bucket name")
            spec = self.obj(spec, path, _BUCKET_FIELDS)
            if "account" not in spec:
                raise self.fail(path, "missing field 'account'")
            account = self.account_ref(spec["account"], (*path, "account"), accounts)
            bucket_region = self.string(
                spec.get("region", region), (*path, "region"), _REGION, "region"
            )
            policy = None
            if spec.get("policy") is not None:
                policy = self.policy(
                    spec["policy"],
                    (*path, "policy"),
                    kind="bucket-policy",
                    name=f"bucket {name}",
                    account=account,
                )
            encryption = self.encryption(
                spec.get("encryption"),
                (*path, "encryption"),
                account,
                bucket_region,
                key_arns,
                keys,
            )
            ownership = self.choice(
                spec.get("object_ownership", "BucketOwnerEnforced"), (*path, "object_ownership"),
                ("BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter"),
            )  # fmt: skip
            requester_pays = self.boolean(
                spec.get("requester_pays", False), (*path, "requester_pays")
            )
            buckets[name] = BucketInfo(
                name, account, bucket_region, policy, encryption,
                cast(ObjectOwnership, ownership), requester_pays,
            )  # fmt: skip
        return buckets

    def encryption(
        self,
        raw: Any,
        path: JsonPath,
        account: str,
        region: str,
        key_arns: Mapping[str, str],
        keys: list[KeyInfo],
    ) -> Encryption:
        if raw is None:
            return Encryption("AES256")
        spec = self.obj(raw, path, _ENCRYPTION_FIELDS)
        sse = self.choice(
            spec.get("sse", "AES256"), (*path, "sse"), ("AES256", "aws:kms", "aws:kms:dsse")
        )
        bucket_key = self.boolean(spec.get("bucket_key", False), (*path, "bucket_key"))
        if sse == "AES256":
            if "key" in spec:
                raise self.fail((*path, "key"), "a key only goes with sse aws:kms")
            return Encryption("AES256", None, bucket_key)
        if "key" not in spec:
            from ..policy.model import aws_managed_s3_key

            return Encryption(sse, aws_managed_s3_key(account, region).arn, bucket_key)  # type: ignore[arg-type]
        ref = self.string(spec["key"], (*path, "key"))
        arn = key_arns.get(ref)
        if arn is None:
            arn = ref if ref.startswith("arn:") else None
            for info in keys:
                if ref in info.aliases or ref == info.key_id:
                    arn = info.arn
            if arn is None:
                raise self.fail(
                    (*path, "key"),
                    f"{json.dumps(ref)} names no key in $.keys (use its name or ARN)",
                )
        return Encryption(sse, arn, bucket_key)  # type: ignore[arg-type]


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
