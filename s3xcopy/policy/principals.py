"""Callers and principals: who makes a request, and whether a policy's Principal names them.

A :class:`Caller` carries both ARNs IAM uses: the one AWS prints in its messages
(an IAM user ARN, or an assumed-role *session* ARN ``arn:aws:sts::A:assumed-role/R/s``)
and the IAM principal behind it (the role ARN ``arn:aws:iam::A:role/R``), which is
what a policy's Principal usually names and what a fix must name.
"""

from __future__ import annotations

import enum
import hashlib
import re
from dataclasses import dataclass
from typing import Literal

from ..errors import InvalidInputError

__all__ = [
    "Caller",
    "PrincipalMatch",
    "account_of",
    "match_not_principal",
    "match_principal",
    "role_arn_from_session_arn",
]

_ACCOUNT = re.compile(r"^\d{12}$")
_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):(?P<service>iam|sts)::(?P<account>\d{12}):(?P<rest>.+)$"
)

CallerKind = Literal["user", "role", "root", "anonymous"]


def account_of(arn: str) -> str | None:
    """The 12-digit account of an ARN (or of a bare account id), None when it has none."""
    if _ACCOUNT.match(arn):
        return arn
    parts = arn.split(":", 5)
    if len(parts) == 6 and _ACCOUNT.match(parts[4]):
        return parts[4]
    return None


def role_arn_from_session_arn(arn: str) -> str:
    """``arn:aws:sts::A:assumed-role/R/s`` -> ``arn:aws:iam::A:role/R`` (other ARNs unchanged).

    The session ARN carries no role path, so a role with a path is named without it;
    IAM policies must use the role ARN, never the session ARN, to survive new sessions.
    """
    match = _ARN.match(arn)
    if match and match["service"] == "sts" and match["rest"].startswith("assumed-role/"):
        role_name = match["rest"].split("/")[1]
        return f"arn:{match['partition']}:iam::{match['account']}:role/{role_name}"
    return arn


def _user_id(prefix: str, arn: str) -> str:
    digest = hashlib.sha256(arn.encode()).hexdigest().upper()
    alphabet = "".join(c for c in digest if c.isalnum())
    return prefix + alphabet[:17]


@dataclass(frozen=True)
class Caller:
    """The identity behind one request, as IAM evaluates it."""

    #: The ARN AWS reports (session ARN for a role, user ARN, root ARN); "anonymous" if unsigned.
    arn: str
    #: The caller's account (12 digits); "" for anonymous.
    account: str
    #: aws:PrincipalArn: the user, role or root ARN that policies name.
    principal_arn: str
    kind: CallerKind
    #: The user or role name ("" for root and anonymous).
    name: str = ""
    #: The role session name, for assumed roles.
    session_name: str | None = None

    @property
    def partition(self) -> str:
        return self.arn.split(":")[1] if self.arn.startswith("arn:") else "aws"

    @property
    def user_id(self) -> str:
        """aws:userid as AWS shapes it: ``AROA...:session`` for roles, ``AIDA...`` for users."""
        if self.kind == "role":
            return f"{_user_id('AROA', self.principal_arn)}:{self.session_name or ''}"
        if self.kind == "user":
            return _user_id("AIDA", self.principal_arn)
        return self.account

    @classmethod
    def for_role(cls, role_arn: str, session_name: str) -> Caller:
        """A session named ``session_name`` of ``role_arn`` (``arn:aws:iam::A:role/[path/]N``)."""
        match = _ARN.match(role_arn)
        if not match or match["service"] != "iam" or not match["rest"].startswith("role/"):
            raise InvalidInputError(f"not an IAM role ARN: {role_arn!r}")
        name = match["rest"].rsplit("/", 1)[-1]
        session_arn = (
            f"arn:{match['partition']}:sts::{match['account']}:assumed-role/{name}/{session_name}"
        )
        return cls(session_arn, match["account"], role_arn, "role", name, session_name)

    @classmethod
    def for_user(cls, user_arn: str) -> Caller:
        """An IAM user (``arn:aws:iam::A:user/[path/]Name``)."""
        match = _ARN.match(user_arn)
        if not match or match["service"] != "iam" or not match["rest"].startswith("user/"):
            raise InvalidInputError(f"not an IAM user ARN: {user_arn!r}")
        return cls(user_arn, match["account"], user_arn, "user", match["rest"].rsplit("/", 1)[-1])

    @classmethod
    def from_arn(cls, arn: str) -> Caller:
        """Any caller ARN: a session ARN, a role ARN (session ``s3xcopy``), a user or root ARN."""
        match = _ARN.match(arn)
        if not match:
            raise InvalidInputError(
                f"not a caller ARN: {arn!r} (expected "
                "arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION, arn:aws:iam::ACCOUNT:role/ROLE, "
                "arn:aws:iam::ACCOUNT:user/USER or ...:root)"
            )
        rest, account = match["rest"], match["account"]
        if match["service"] == "sts":
            parts = rest.split("/")
            if parts[0] != "assumed-role" or len(parts) != 3 or not all(parts[1:]):
                raise InvalidInputError(f"not an assumed-role session ARN: {arn!r}")
            return cls(arn, account, role_arn_from_session_arn(arn), "role", parts[1], parts[2])
        if rest == "root":
            return cls(arn, account, arn, "root")
        if rest.startswith("role/"):
            return cls.for_role(arn, "s3xcopy")
        if rest.startswith("user/"):
            return cls.for_user(arn)
        raise InvalidInputError(f"not a caller ARN: {arn!r}")

    @classmethod
    def anonymous(cls) -> Caller:
        """An unsigned request: only a resource policy with Principal "*" can allow it."""
        return cls("anonymous", "", "anonymous", "anonymous")


class PrincipalMatch(enum.IntEnum):
    """How a statement's Principal covers a caller; larger is more specific."""

    NONE = 0
    #: The caller's account (``"123456789012"`` or ``arn:aws:iam::123456789012:root``):
    #: a delegation, so the caller's own identity policies must allow too.
    ACCOUNT = 1
    #: ``"*"``, the role ARN behind a session, or a NotPrincipal that leaves the caller in.
    DIRECT = 2
    #: The exact caller ARN (user ARN or session ARN): not limited by boundaries/session policies.
    EXACT = 3


def _same_role(entry: str, caller: Caller) -> bool:
    # A session ARN carries no role path; compare account and role name.
    match = _ARN.match(entry)
    if not match or match["service"] != "iam" or not match["rest"].startswith("role/"):
        return False
    return (
        caller.kind == "role"
        and match["account"] == caller.account
        and match["rest"].rsplit("/", 1)[-1] == caller.name
    )


def _match_entry(entry: str, caller: Caller) -> PrincipalMatch:
    if entry == "*":
        return PrincipalMatch.DIRECT
    if caller.kind == "anonymous":
        return PrincipalMatch.NONE
    if entry == caller.arn:
        return PrincipalMatch.EXACT
    if entry == caller.principal_arn or _same_role(entry, caller):
        return PrincipalMatch.DIRECT
    if entry == caller.account or entry == f"arn:{caller.partition}:iam::{caller.account}:root":
        return PrincipalMatch.EXACT if caller.kind == "root" else PrincipalMatch.ACCOUNT
    return PrincipalMatch.NONE


def match_principal(
    principals: tuple[tuple[str, tuple[str, ...]], ...], caller: Caller
) -> PrincipalMatch:
    """The best match of a Principal element against the caller (only ``AWS`` and ``*`` count)."""
    best = PrincipalMatch.NONE
    for ptype, entries in principals:
        if ptype not in ("AWS", "*"):
            continue
        for entry in entries:
            best = max(best, _match_entry(entry, caller))
    return best


def match_not_principal(
    principals: tuple[tuple[str, tuple[str, ...]], ...], caller: Caller
) -> PrincipalMatch:
    """NotPrincipal: DIRECT unless the caller is exempted, NONE when it is.

    As IAM documents it, a caller is exempted only when its exact ARN (the *session*
    ARN for a role; the role ARN alone is not enough) and its account are both listed.
    """
    entries = {e for ptype, es in principals if ptype in ("AWS", "*") for e in es}
    if "*" in entries:
        return PrincipalMatch.NONE
    account_listed = caller.account in entries or (
        f"arn:{caller.partition}:iam::{caller.account}:root" in entries
    )
    exempt = caller.arn in entries and (account_listed or caller.kind == "root")
    return PrincipalMatch.NONE if exempt else PrincipalMatch.DIRECT
