"""Finding: one missing grant, said plainly enough to fix it.

A finding names the action that is missing, on which resource, in which policy of
which account, the statement that would fix it, and how sure we are. The catalog
that produces findings lives in :mod:`s3xcopy.diagnosis`; this module only
defines the shape every part of s3xcopy (engine, CLI, explain, preflight) shares.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

PolicyKind = Literal[
    "identity-policy",
    "key-policy",
    "bucket-policy",
    "scp",
    "rcp",
    "permissions-boundary",
    "session-policy",
    "vpc-endpoint-policy",
    "acl",
    "unknown",
]
Certainty = Literal["stated", "inferred"]

POLICY_KINDS: tuple[str, ...] = get_args(PolicyKind)
CERTAINTIES: tuple[str, ...] = get_args(Certainty)


@dataclass(frozen=True)
class Finding:
    """One missing grant (or other cause of a denial) and the fix for it.

    A cause no grant fixes (refused credentials) has its action in parentheses, no
    statement, and its fix in the summary.
    """

    code: str
    action: str
    resource: str
    policy: PolicyKind
    account: str | None
    principal: str | None
    #: The policy statement to add; derived from the fields above, so not compared.
    statement: dict[str, Any] | None = field(compare=False)
    certainty: Certainty
    summary: str

    def __post_init__(self) -> None:
        if self.policy not in POLICY_KINDS:
            raise ValueError(f"unknown policy kind {self.policy!r}")
        if self.certainty not in CERTAINTIES:
            raise ValueError(f"unknown certainty {self.certainty!r}")
        if self.account is not None and not (len(self.account) == 12 and self.account.isdigit()):
            raise ValueError(f"account must be 12 digits, got {self.account!r}")

    @property
    def is_grant(self) -> bool:
        """False for a cause no grant fixes (its action is in parentheses: ``(credentials)``)."""
        return not self.action.startswith("(")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with the same field names."""
        return {
            "code": self.code,
            "action": self.action,
            "resource": self.resource,
            "policy": self.policy,
            "account": self.account,
            "principal": self.principal,
            "statement": self.statement,
            "certainty": self.certainty,
            "summary": self.summary,
        }

    def statement_json(self, indent: int = 2) -> str:
        """The statement to add, as JSON text ready to paste ('' when there is none)."""
        return "" if self.statement is None else json.dumps(self.statement, indent=indent)
