"""Read AWS's AccessDenied texts: who was refused what, on which resource, by which policy.

Every shape in the reference is recognised: IAM-style explicit messages (resource
quoted or not, ``on resource:`` missing, a trailing policy ARN or ``. Go to ...``;
identity, resource, SCP, RCP, permissions boundary, session and VPC endpoint
policies; implicit or explicit deny), KMS's own text relayed by S3, the old
"ciphertext refers to a customer master key" text, HeadObject's body-less
``403 Forbidden``, the object-lock text and the bare ``Access Denied``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from ..findings import PolicyKind

#: S3's codes for credentials it does not accept (the request never reached a policy).
CREDENTIAL_CODES = frozenset(
    {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken",
     "TokenRefreshRequired"}
)  # fmt: skip

Shape = Literal["explicit", "ciphertext", "forbidden", "object-lock", "bare", "other"]
Deny = Literal["implicit", "explicit"]

#: AWS's phrase for each policy type -> our policy kind. AWS spells "sessions policy"
#: in explicit-deny messages; both spellings are accepted.
_POLICY_PHRASES: tuple[tuple[str, PolicyKind, str], ...] = (
    ("identity-based policy", "identity-policy", "identity-based policy"),
    ("resource-based policy", "bucket-policy", "resource-based policy"),
    ("service control policy", "scp", "service control policy"),
    ("resource control policy", "rcp", "resource control policy"),
    ("permissions boundary", "permissions-boundary", "permissions boundary"),
    ("sessions policy", "session-policy", "session policy"),
    ("session policy", "session-policy", "session policy"),
    ("VPC endpoint policy", "vpc-endpoint-policy", "VPC endpoint policy"),
)
_PHRASE = "|".join(re.escape(p) for p, _, _ in _POLICY_PHRASES)
_EXPLICIT = re.compile(
    r"^(?:User|Principal): (?P<principal>\S+) is not authorized to perform: (?P<action>[\w:*-]+)"
    r"(?: on resource: (?P<quote>\"?)(?P<resource>[^\"\s]+)(?P=quote))?"
    r"(?: (?:because no (?P<implicit>" + _PHRASE + r") allows the [\w:*-]+ action"
    r"|with an explicit deny in (?:an? )?(?P<explicit>" + _PHRASE + r")))?"
    r"(?P<rest>.*)$",
    re.DOTALL,
)
_POLICY_ARN = re.compile(r"^:\s*(?P<arn>arn:\S+?)\.?(?:\s|$)")
_CIPHERTEXT = re.compile(r"ciphertext refers to a customer master key", re.IGNORECASE)
_OBJECT_LOCK = re.compile(r"object lock", re.IGNORECASE)


@dataclass(frozen=True)
class ParsedDenial:
    """What an AccessDenied text says, and what it leaves unsaid (None)."""

    shape: Shape
    principal: str | None = None
    action: str | None = None
    resource: str | None = None
    #: The policy the message blames, when it names one.
    policy: PolicyKind | None = None
    #: AWS's own words for that policy ("sessions policy" maps to kind "session-policy").
    policy_phrase: str | None = None
    deny: Deny | None = None
    #: A policy ARN AWS appended (SCPs, RCPs, managed policies), if any.
    policy_arn: str | None = None

    @property
    def states_policy(self) -> bool:
        """True when AWS itself said which policy refused (a stated finding)."""
        return self.policy is not None


def _phrase(text: str) -> tuple[PolicyKind, str]:
    for phrase, kind, name in _POLICY_PHRASES:
        if phrase == text:
            return kind, name
    raise AssertionError(f"unknown policy phrase {text!r}")


def parse_denial(code: str, message: str) -> ParsedDenial:
    """Parse an AccessDenied (or HeadObject 403) message into its parts."""
    text = " ".join((message or "").split())
    match = _EXPLICIT.match(text)
    if match:
        phrase = match.group("implicit") or match.group("explicit")
        kind, name = _phrase(phrase) if phrase else (None, None)
        if kind == "bucket-policy" and match.group("action").startswith("kms:"):
            kind = "key-policy"  # a KMS key's resource-based policy is its key policy
        arn_match = _POLICY_ARN.match(match.group("rest") or "")
        return ParsedDenial(
            shape="explicit",
            principal=match.group("principal"),
            action=match.group("action"),
            resource=(match.group("resource") or "").rstrip(".") or None,
            policy=kind,
            policy_phrase=name,
            deny=("explicit" if match.group("explicit") else "implicit") if phrase else None,
            policy_arn=arn_match.group("arn") if arn_match else None,
        )
    if _CIPHERTEXT.search(text):
        return ParsedDenial(shape="ciphertext", action="kms:Decrypt")
    if code == "403" or text in ("Forbidden", ""):
        return ParsedDenial(shape="forbidden")
    if _OBJECT_LOCK.search(text):
        return ParsedDenial(shape="object-lock")
    if text.rstrip(".").lower() == "access denied":
        return ParsedDenial(shape="bare")
    return ParsedDenial(shape="other")
