"""IAM JSON policy documents parsed once into frozen, validated objects.

``parse_policy(doc, kind=...)`` accepts the JSON text or the decoded dict of an
identity, bucket, key, SCP, RCP, permissions-boundary, session or VPC-endpoint policy
and returns a :class:`Policy`. It rejects what IAM rejects (a Principal in an
identity policy, a resource policy without one, Action and NotAction together,
unknown condition operators...) with a :class:`PolicyError` whose ``path`` says
where in the document the problem is, so callers (the lab's scenario loader,
``explain``) can point at it inside their own files.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import InvalidInputError
from ..findings import PolicyKind

__all__ = [
    "CONDITION_OPERATORS",
    "IDENTITY_KINDS",
    "RESOURCE_KINDS",
    "Condition",
    "Effect",
    "JsonPath",
    "Policy",
    "PolicyError",
    "Statement",
    "format_json_path",
    "parse_policy",
]

Effect = Literal["Allow", "Deny"]
JsonPath = tuple[str | int, ...]

#: Policies attached to (or limiting) a principal: no Principal element allowed.
IDENTITY_KINDS: frozenset[str] = frozenset(
    {"identity-policy", "scp", "permissions-boundary", "session-policy"}
)
#: Policies attached to a resource: a Principal (or NotPrincipal) is required.
#: (A resource control policy's statements name ``"Principal": "*"``: it is one of these.)
RESOURCE_KINDS: frozenset[str] = frozenset(
    {"bucket-policy", "key-policy", "vpc-endpoint-policy", "rcp"}
)

#: Base condition operators (without ``IfExists`` and the ``ForAnyValue:``/``ForAllValues:`` sets).
CONDITION_OPERATORS: frozenset[str] = frozenset(
    {
        "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
        "StringLike", "StringNotLike",
        "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
        "NumericGreaterThan", "NumericGreaterThanEquals",
        "DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals",
        "DateGreaterThan", "DateGreaterThanEquals",
        "Bool", "BinaryEquals", "IpAddress", "NotIpAddress",
        "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike",
        "Null",
    }
)  # fmt: skip

_VERSIONS = ("2012-10-17", "2008-10-17")
_STATEMENT_KEYS = frozenset(
    {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal",
     "NotPrincipal", "Condition"}
)  # fmt: skip
_PRINCIPAL_TYPES = frozenset({"AWS", "Service", "Federated", "CanonicalUser"})


def format_json_path(path: Sequence[str | int], root: str = "$") -> str:
    """``("Statement", 1, "Effect")`` -> ``$.Statement[1].Effect`` (odd names are quoted)."""
    text = root
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part.replace("_", "a").isalnum() and not part[:1].isdigit():
            text += f".{part}"
        else:
            text += f"[{json.dumps(part)}]"
    return text


class PolicyError(InvalidInputError):
    """A policy document IAM would reject; ``path`` locates the problem inside the document."""

    def __init__(self, path: JsonPath, reason: str) -> None:
        super().__init__(f"{format_json_path(path)}: {reason}")
        self.path: JsonPath = tuple(path)
        self.reason = reason


@dataclass(frozen=True)
class Condition:
    """One ``operator: {key: values}`` test of a Condition block."""

    #: The operator as written, e.g. ``ForAnyValue:StringLikeIfExists``.
    operator: str
    #: The base operator, e.g. ``StringLike``.
    base: str
    set_operator: Literal["", "ForAnyValue", "ForAllValues"]
    if_exists: bool
    #: The condition key as written (keys compare case-insensitively).
    key: str
    values: tuple[str, ...]

    def describe(self) -> str:
        """``StringEquals kms:ViaService = s3.us-east-1.amazonaws.com`` style text."""
        shown = self.values[0] if len(self.values) == 1 else "[" + ", ".join(self.values) + "]"
        return f"{self.operator} {self.key} = {shown}"


@dataclass(frozen=True)
class Statement:
    """One statement, normalized: every element is a tuple, absent elements are None."""

    index: int
    sid: str | None
    effect: Effect
    #: Entries of Action, or of NotAction when ``not_action``.
    actions: tuple[str, ...]
    not_action: bool
    #: Entries of Resource / NotResource; None when the statement has neither.
    resources: tuple[str, ...] | None
    not_resource: bool
    #: ``(("AWS", (arn, ...)), ("Service", (...)))``; ``(("*", ("*",)),)`` for ``"*"``.
    principals: tuple[tuple[str, tuple[str, ...]], ...] | None
    not_principal: bool
    conditions: tuple[Condition, ...]
    #: The statement as written, for display.
    raw: Mapping[str, Any] = field(compare=False, hash=False, repr=False)

    @property
    def label(self) -> str:
        """``'Sid'`` or ``#index`` when the statement has no Sid."""
        return f"'{self.sid}' (#{self.index})" if self.sid else f"#{self.index}"


@dataclass(frozen=True)
class Policy:
    """A parsed policy: what kind it is, whose it is, and its statements."""

    kind: PolicyKind
    #: Human name: the identity policy's name, ``bucket cp-dst``, the key's ARN...
    name: str
    #: The account the policy lives in (12 digits), when known.
    account: str | None
    version: str
    statements: tuple[Statement, ...]
    document: Mapping[str, Any] = field(compare=False, hash=False, repr=False)


def _strings(
    value: Any, path: JsonPath, what: str, *, allow_empty: bool = False
) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        if not value and not allow_empty:
            raise PolicyError(path, f"{what} must not be an empty list")
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise PolicyError((*path, i), f"{what} entries must be strings, got {_kind(item)}")
        return tuple(value)
    raise PolicyError(path, f"{what} must be a string or a list of strings, got {_kind(value)}")


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _kind(value: Any) -> str:
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


def _condition_value(value: Any, path: JsonPath) -> str:
    # IAM accepts JSON booleans and numbers in conditions and compares their text.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value
    raise PolicyError(
        path, f"condition values must be strings, numbers or booleans, got {_kind(value)}"
    )


def _parse_operator(
    operator: str, path: JsonPath
) -> tuple[str, Literal["", "ForAnyValue", "ForAllValues"], bool]:
    set_operator: Literal["", "ForAnyValue", "ForAllValues"] = ""
    rest = operator
    if ":" in rest:
        prefix, _, rest = rest.partition(":")
        if prefix == "ForAnyValue":
            set_operator = "ForAnyValue"
        elif prefix == "ForAllValues":
            set_operator = "ForAllValues"
        else:
            raise PolicyError(
                path, f"unknown condition set operator {prefix!r} (ForAnyValue or ForAllValues)"
            )
    if_exists = rest.endswith("IfExists")
    base = rest[: -len("IfExists")] if if_exists else rest
    if base not in CONDITION_OPERATORS:
        raise PolicyError(path, f"unknown condition operator {operator!r}")
    if base == "Null" and (if_exists or set_operator):
        raise PolicyError(path, "the Null operator takes no IfExists or set qualifier")
    return base, set_operator, if_exists


def _parse_conditions(block: Any, path: JsonPath) -> tuple[Condition, ...]:
    if not isinstance(block, dict):
        raise PolicyError(path, f"Condition must be an object, got {_kind(block)}")
    conditions: list[Condition] = []
    for operator, tests in block.items():
        op_path = (*path, operator)
        base, set_operator, if_exists = _parse_operator(operator, op_path)
        if not isinstance(tests, dict) or not tests:
            raise PolicyError(op_path, "expected an object of condition keys and values")
        for key, raw in tests.items():
            key_path = (*op_path, key)
            if not key or not isinstance(key, str):
                raise PolicyError(key_path, "empty condition key")
            raw_values = raw if isinstance(raw, list) else [raw]
            if not raw_values:
                raise PolicyError(key_path, "condition values must not be empty")
            values = tuple(_condition_value(v, (*key_path, i)) for i, v in enumerate(raw_values))
            if base in ("Bool", "Null"):
                for i, v in enumerate(values):
                    if v.lower() not in ("true", "false"):
                        raise PolicyError((*key_path, i), f"{base} takes true or false, got {v!r}")
            conditions.append(Condition(operator, base, set_operator, if_exists, key, values))
    return tuple(conditions)


def _parse_principal(value: Any, path: JsonPath) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if value == "*":
        return (("*", ("*",)),)
    if not isinstance(value, dict) or not value:
        raise PolicyError(
            path, f'principal must be "*" or an object like {{"AWS": ...}}, got {_kind(value)}'
        )
    entries = []
    for ptype, ids in value.items():
        if ptype not in _PRINCIPAL_TYPES:
            raise PolicyError(
                (*path, ptype),
                f"unknown principal type {ptype!r} (AWS, Service, Federated, CanonicalUser)",
            )
        entries.append((ptype, _strings(ids, (*path, ptype), "principal")))
    return tuple(entries)


def _check_rcp_statement(raw: Mapping[str, Any], path: JsonPath) -> None:
    """What AWS Organizations accepts in a resource control policy's statement.

    Allow is only in AWS's own RCPFullAWSAccess, attached to every account and never
    detached (so the evaluator lets what no RCP denies through); the Principal is
    ``"*"`` and NotPrincipal is not supported.
    """
    if raw["Effect"] != "Deny":
        raise PolicyError(
            (*path, "Effect"),
            'an rcp statement must be "Deny" (Allow is only in AWS\'s RCPFullAWSAccess)',
        )
    if "NotPrincipal" in raw:
        raise PolicyError((*path, "NotPrincipal"), "an rcp cannot name a NotPrincipal")
    if raw.get("Principal") != "*":
        raise PolicyError((*path, "Principal"), 'an rcp statement\'s Principal must be "*"')


def _parse_statement(raw: Any, index: int, kind: str, path: JsonPath) -> Statement:
    if not isinstance(raw, dict):
        raise PolicyError(path, f"a statement must be an object, got {_kind(raw)}")
    for key in raw:
        if key not in _STATEMENT_KEYS:
            raise PolicyError((*path, key), f"unknown statement element {key!r}")
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise PolicyError((*path, "Sid"), f"Sid must be a string, got {_kind(sid)}")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        if effect is None:
            raise PolicyError((*path, "Effect"), 'missing Effect ("Allow" or "Deny")')
        raise PolicyError(
            (*path, "Effect"), f'expected "Allow" or "Deny", got {json.dumps(effect)}'
        )
    if kind == "rcp":
        _check_rcp_statement(raw, path)

    if ("Action" in raw) == ("NotAction" in raw):
        raise PolicyError(path, "a statement needs exactly one of Action or NotAction")
    action_key = "Action" if "Action" in raw else "NotAction"
    actions = _strings(raw[action_key], (*path, action_key), action_key)
    for i, action in enumerate(actions):
        if action != "*" and ":" not in action:
            raise PolicyError(
                (*path, action_key, i), f"action {action!r} is not service:action or *"
            )

    if "Resource" in raw and "NotResource" in raw:
        raise PolicyError(path, "a statement cannot have both Resource and NotResource")
    resources: tuple[str, ...] | None = None
    not_resource = "NotResource" in raw
    if "Resource" in raw or not_resource:
        res_key = "NotResource" if not_resource else "Resource"
        resources = _strings(raw[res_key], (*path, res_key), res_key)
    elif kind != "vpc-endpoint-policy":
        raise PolicyError(path, "a statement needs Resource or NotResource")

    principals = None
    not_principal = "NotPrincipal" in raw
    if "Principal" in raw and not_principal:
        raise PolicyError(path, "a statement cannot have both Principal and NotPrincipal")
    if kind in IDENTITY_KINDS:
        for key in ("Principal", "NotPrincipal"):
            if key in raw:
                raise PolicyError((*path, key), f"{_article(kind)} {kind} cannot name a {key}")
    else:
        if "Principal" not in raw and not not_principal:
            raise PolicyError(
                path, f"{_article(kind)} {kind} statement needs Principal or NotPrincipal"
            )
        pkey = "NotPrincipal" if not_principal else "Principal"
        principals = _parse_principal(raw[pkey], (*path, pkey))

    conditions = (
        _parse_conditions(raw["Condition"], (*path, "Condition")) if "Condition" in raw else ()
    )
    return Statement(
        index=index,
        sid=sid,
        effect=effect,
        actions=actions,
        not_action=action_key == "NotAction",
        resources=resources,
        not_resource=not_resource,
        principals=principals,
        not_principal=not_principal,
        conditions=conditions,
        raw=raw,
    )


def parse_policy(
    document: Mapping[str, Any] | str,
    *,
    kind: PolicyKind,
    name: str = "",
    account: str | None = None,
) -> Policy:
    """Parse one policy document (dict or JSON text); raise PolicyError on anything IAM rejects."""
    if kind not in IDENTITY_KINDS and kind not in RESOURCE_KINDS:
        raise ValueError(f"not an evaluable policy kind: {kind!r}")
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError as exc:
            raise PolicyError(
                (), f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
            ) from exc
    if not isinstance(document, Mapping):
        raise PolicyError((), f"a policy must be a JSON object, got {_kind(document)}")
    for key in document:
        if key not in ("Version", "Id", "Statement"):
            raise PolicyError((key,), f"unknown policy element {key!r} (Version, Id, Statement)")
    version = document.get("Version", "2008-10-17")
    if version not in _VERSIONS:
        raise PolicyError(("Version",), f'unknown Version {json.dumps(version)} (use "2012-10-17")')
    if "Statement" not in document:
        raise PolicyError((), "missing Statement")
    raw_statements = document["Statement"]
    statements: tuple[Statement, ...]
    if isinstance(raw_statements, dict):
        statements = (_parse_statement(raw_statements, 0, kind, ("Statement",)),)
    elif isinstance(raw_statements, list):
        statements = tuple(
            _parse_statement(raw, i, kind, ("Statement", i)) for i, raw in enumerate(raw_statements)
        )
    else:
        raise PolicyError(
            ("Statement",), f"Statement must be an object or a list, got {_kind(raw_statements)}"
        )
    return Policy(
        kind=kind,
        name=name,
        account=account,
        version=version,
        statements=statements,
        document=document,
    )
