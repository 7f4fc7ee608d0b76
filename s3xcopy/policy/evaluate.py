"""Evaluate one request against every policy that governs it, the way AWS does.

:func:`evaluate` takes a :class:`Request` (caller, action, resource ARN, context)
and a :class:`PolicySet` (the caller's identity policies, the resource's policy
and owner, and the optional SCP / RCP / permissions-boundary / session /
VPC-endpoint layers) and returns a :class:`Decision` that says why:

1. An explicit Deny in any applicable statement wins.
   That includes the RCPs of the resource's account (deny-only: AWS's
   RCPFullAWSAccess, attached to every account, allows the rest).
2. Every present limiting layer (SCPs of the caller's account, the VPC endpoint
   policy, the permissions boundary, session policies) must allow.
3. Then the grant itself:
   - KMS (``resource_kind="key-policy"``): the key policy must allow, either naming
     the caller (enough on its own in the key's account) or delegating to an account
     (``arn:aws:iam::A:root``), in which case an identity policy must allow too.
     Across accounts both the key policy and the identity policy must allow.
   - S3 and other resources with optional policies: in the resource owner's account
     either the identity policy or the resource policy suffices; across accounts both.
   A resource policy naming the exact caller ARN (user, or role *session*) is not
   limited by a permissions boundary or session policy; one naming the role ARN is.

The decision lists the statements that allowed or denied, the statements that
matched but for a condition (``near_misses``), and when nothing allowed, every
policy where an Allow is missing (``missing``: all of them are needed) with
``alternatives`` (one of them instead, e.g. a same-account bucket policy).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from ..findings import PolicyKind
from .conditions import Context, first_failing_condition, substitute_variables
from .document import Effect, Policy, Statement
from .matching import action_matches, wildcard_match
from .principals import Caller, PrincipalMatch, match_not_principal, match_principal

__all__ = [
    "AWS_POLICY_PHRASES",
    "Decision",
    "MissingAllow",
    "NearMiss",
    "PolicySet",
    "Request",
    "StatementRef",
    "evaluate",
]

#: How AWS's messages name each policy kind ("no <phrase> allows ...").
AWS_POLICY_PHRASES: dict[str, str] = {
    "identity-policy": "identity-based policy",
    "bucket-policy": "resource-based policy",
    "key-policy": "resource-based policy",
    "scp": "service control policy",
    "rcp": "resource control policy",
    "permissions-boundary": "permissions boundary",
    "session-policy": "session policy",
    "vpc-endpoint-policy": "VPC endpoint policy",
}
# AWS's own spelling in explicit-deny messages for session policies.
_DENY_PHRASES = {**AWS_POLICY_PHRASES, "session-policy": "sessions policy"}


@dataclass(frozen=True)
class Request:
    """One authorization question: may ``caller`` do ``action`` on ``resource`` in ``context``?"""

    caller: Caller
    action: str
    resource: str
    context: Context = field(default_factory=dict)


@dataclass(frozen=True)
class PolicySet:
    """Every policy that governs one request, grouped by the role it plays."""

    #: The caller's identity policies (inline and attached).
    identity: tuple[Policy, ...] = ()
    #: The resource's policy (bucket or key policy); None when it has none.
    resource: Policy | None = None
    #: ``"key-policy"`` makes the resource policy mandatory (KMS); otherwise ``"bucket-policy"``.
    resource_kind: PolicyKind = "bucket-policy"
    #: The account that owns the resource (bucket owner, key account); None: the caller's.
    resource_account: str | None = None
    #: Display name of the resource's policy holder: ``bucket cp-dst``, a key ARN.
    resource_name: str | None = None
    #: SCPs that apply to the caller's account; when present, one must allow.
    scps: tuple[Policy, ...] = ()
    #: RCPs that apply to the resource owner's account, whoever calls: their Deny wins.
    #: (They allow nothing: AWS's RCPFullAWSAccess, always attached, lets the rest through.)
    rcps: tuple[Policy, ...] = ()
    permissions_boundary: Policy | None = None
    session_policies: tuple[Policy, ...] = ()
    vpc_endpoint_policy: Policy | None = None


@dataclass(frozen=True)
class StatementRef:
    """Where a statement lives: policy kind, policy name, account, Sid and index."""

    policy_kind: PolicyKind
    policy_name: str
    account: str | None
    sid: str | None
    index: int
    effect: Effect

    def describe(self) -> str:
        """``statement 'Sid' (#1) of key-policy 'arn:...' in account 987654321098``."""
        label = f"'{self.sid}' (#{self.index})" if self.sid else f"#{self.index}"
        name = f" '{self.policy_name}'" if self.policy_name else ""
        where = f" in account {self.account}" if self.account else ""
        return f"statement {label} of {self.policy_kind}{name}{where}"

    def to_dict(self) -> dict[str, object]:
        return {
            "policy": self.policy_kind,
            "policy_name": self.policy_name,
            "account": self.account,
            "sid": self.sid,
            "index": self.index,
            "effect": self.effect,
        }


@dataclass(frozen=True)
class NearMiss:
    """A statement that would have applied but for one condition."""

    statement: StatementRef
    condition: str

    def describe(self) -> str:
        return f"{self.statement.describe()} did not apply: {self.condition} does not hold"


@dataclass(frozen=True)
class MissingAllow:
    """A policy where an Allow is needed: its kind, account and holder."""

    policy_kind: PolicyKind
    account: str | None
    #: For identity / boundary / session policies: the IAM principal whose policy it is.
    principal_arn: str | None = None
    #: For resource policies: the bucket or key the policy belongs to.
    resource_name: str | None = None

    def describe(self) -> str:
        holder = self.principal_arn or self.resource_name
        of = f" of {holder}" if holder else ""
        where = f" (account {self.account})" if self.account else ""
        return f"{self.policy_kind}{of}{where}"


Outcome = Literal["allowed", "explicit-deny", "implicit-deny"]


@dataclass(frozen=True)
class Decision:
    """The answer to one request, with the reasons."""

    request: Request
    outcome: Outcome
    #: The statements whose Allow made the decision (identity and/or resource side).
    allowed_by: tuple[StatementRef, ...] = ()
    #: The Deny statement that decided an explicit deny.
    denied_by: StatementRef | None = None
    #: Where an Allow is missing; every one of them is needed.
    missing: tuple[MissingAllow, ...] = ()
    #: Where a single Allow would do instead of ``missing`` (same-account bucket policy).
    alternatives: tuple[MissingAllow, ...] = ()
    near_misses: tuple[NearMiss, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.outcome == "allowed"

    @property
    def denial_kind(self) -> PolicyKind | None:
        """The policy kind AWS would name in its message (None when allowed)."""
        if self.denied_by is not None:
            return self.denied_by.policy_kind
        return self.missing[0].policy_kind if self.missing else None

    def aws_reason(self) -> str:
        """The ending of AWS's explicit message: ``because no identity-based policy allows ...``."""
        kind = self.denial_kind
        if self.allowed or kind is None:
            return ""
        if self.outcome == "explicit-deny":
            phrase = _DENY_PHRASES[kind]
            article = "an" if phrase[0] in "aeiou" else "a"
            return f"with an explicit deny in {article} {phrase}"
        return f"because no {AWS_POLICY_PHRASES[kind]} allows the {self.request.action} action"

    def explain(self) -> str:
        """One line saying why: which statement allowed or denied, or where an Allow is missing."""
        if self.allowed:
            return "allowed by " + " and ".join(ref.describe() for ref in self.allowed_by)
        if self.denied_by is not None:
            return "explicitly denied by " + self.denied_by.describe()
        text = "no policy allows it: needs an Allow in " + " and in ".join(
            m.describe() for m in self.missing
        )
        if self.alternatives:
            text += " (or in " + " or ".join(m.describe() for m in self.alternatives) + ")"
        if self.near_misses:
            text += "; " + "; ".join(n.describe() for n in self.near_misses)
        return text

    def to_dict(self) -> dict[str, object]:
        return {
            "action": self.request.action,
            "resource": self.request.resource,
            "caller": self.request.caller.arn,
            "outcome": self.outcome,
            "allowed": self.allowed,
            "explanation": self.explain(),
            "allowed_by": [r.to_dict() for r in self.allowed_by],
            "denied_by": self.denied_by.to_dict() if self.denied_by else None,
            "missing": [
                {
                    "policy": m.policy_kind,
                    "account": m.account,
                    "principal": m.principal_arn,
                    "resource": m.resource_name,
                }
                for m in self.missing
            ],
            "near_misses": [n.describe() for n in self.near_misses],
        }


# --- statement matching ---------------------------------------------------------------


@dataclass(frozen=True)
class _Match:
    ref: StatementRef
    principal: PrincipalMatch
    failed_condition: str | None

    @property
    def applies(self) -> bool:
        return self.principal is not PrincipalMatch.NONE and self.failed_condition is None


def _action_covered(statement: Statement, action: str) -> bool:
    hit = any(action_matches(pattern, action) for pattern in statement.actions)
    return not hit if statement.not_action else hit


def _resource_covered(statement: Statement, resource: str, context: Context, version: str) -> bool:
    if statement.resources is None:
        return True
    hit = False
    for pattern in statement.resources:
        text = substitute_variables(pattern, context) if version == "2012-10-17" else pattern
        if text is not None and wildcard_match(text, resource):
            hit = True
            break
    return not hit if statement.not_resource else hit


def _statement_matches(policy: Policy, request: Request) -> Iterator[_Match]:
    for statement in policy.statements:
        if not _action_covered(statement, request.action):
            continue
        if not _resource_covered(statement, request.resource, request.context, policy.version):
            continue
        if statement.principals is None:
            principal = PrincipalMatch.DIRECT
        elif statement.not_principal:
            principal = match_not_principal(statement.principals, request.caller)
        else:
            principal = match_principal(statement.principals, request.caller)
        if principal is PrincipalMatch.NONE:
            continue
        failed = first_failing_condition(statement.conditions, request.context)
        ref = StatementRef(
            policy.kind,
            policy.name,
            policy.account,
            statement.sid,
            statement.index,
            statement.effect,
        )
        yield _Match(ref, principal, failed.describe() if failed else None)


def _matches(policies: Iterable[Policy], request: Request) -> list[_Match]:
    return [m for policy in policies for m in _statement_matches(policy, request)]


def _allows(matches: list[_Match]) -> list[_Match]:
    return [m for m in matches if m.applies and m.ref.effect == "Allow"]


def evaluate(request: Request, policies: PolicySet) -> Decision:
    """Decide one request; pure, deterministic, no I/O."""
    caller = request.caller
    resource_policies = [policies.resource] if policies.resource is not None else []
    vpce = [policies.vpc_endpoint_policy] if policies.vpc_endpoint_policy else []
    boundary = [policies.permissions_boundary] if policies.permissions_boundary else []
    layers: list[tuple[str, list[_Match]]] = [
        ("scp", _matches(policies.scps, request)),
        ("rcp", _matches(policies.rcps, request)),
        ("vpce", _matches(vpce, request)),
        ("resource", _matches(resource_policies, request)),
        ("identity", _matches(policies.identity, request)),
        ("boundary", _matches(boundary, request)),
        ("session", _matches(policies.session_policies, request)),
    ]
    by_layer = dict(layers)
    near = tuple(
        NearMiss(m.ref, m.failed_condition)
        for _, matches in layers
        for m in matches
        if m.ref.effect == "Allow" and m.failed_condition is not None
    )

    for _, matches in layers:
        for m in matches:
            if m.applies and m.ref.effect == "Deny":
                return Decision(request, "explicit-deny", denied_by=m.ref, near_misses=near)

    missing: list[MissingAllow] = []
    scp_allow = _allows(by_layer["scp"])
    if policies.scps and not scp_allow:
        missing.append(MissingAllow("scp", caller.account or None))
    vpce_allow = _allows(by_layer["vpce"])
    if policies.vpc_endpoint_policy is not None and not vpce_allow:
        missing.append(
            MissingAllow(
                "vpc-endpoint-policy", None, resource_name=policies.vpc_endpoint_policy.name
            )
        )

    identity_allow = _allows(by_layer["identity"])
    boundary_allow = _allows(by_layer["boundary"])
    session_allow = _allows(by_layer["session"])
    resource_allow = _allows(by_layer["resource"])
    boundary_ok = policies.permissions_boundary is None or bool(boundary_allow)
    session_ok = not policies.session_policies or bool(session_allow)
    exact = [m for m in resource_allow if m.principal is PrincipalMatch.EXACT]
    direct = [m for m in resource_allow if m.principal is PrincipalMatch.DIRECT]
    owner = policies.resource_account
    same_account = owner is None or owner == caller.account
    is_key = policies.resource_kind == "key-policy"
    account = caller.account or None

    identity_missing = MissingAllow("identity-policy", account, principal_arn=caller.principal_arn)
    resource_missing = MissingAllow(
        policies.resource_kind, owner, resource_name=policies.resource_name
    )
    limits_missing: list[MissingAllow] = []
    if not boundary_ok:
        limits_missing.append(
            MissingAllow("permissions-boundary", account, principal_arn=caller.principal_arn)
        )
    if not session_ok:
        limits_missing.append(MissingAllow("session-policy", account, principal_arn=caller.arn))

    used: list[_Match] = []
    alternatives: list[MissingAllow] = []
    if caller.kind == "anonymous":
        granted = bool(direct)
        used = direct
        if not granted:
            missing.append(resource_missing)
    elif same_account:
        # Exact-ARN grants in a resource policy stand alone; role-ARN grants still meet
        # the boundary and session policy; account grants delegate to identity policies.
        if exact:
            granted, used = True, exact
        elif direct:
            granted, used = boundary_ok and session_ok, direct
            missing.extend([] if granted else limits_missing)
        elif identity_allow and (resource_allow or not is_key):
            granted = boundary_ok and session_ok
            used = identity_allow + resource_allow
            missing.extend([] if granted else limits_missing)
        else:
            granted = False
            if is_key and not resource_allow:
                # Adding the caller to the key policy is the one change that always works.
                missing.append(resource_missing)
            else:
                missing.append(identity_missing)
                missing.extend(limits_missing)
                if not is_key:
                    alternatives.append(resource_missing)
    else:
        identity_ok = bool(identity_allow) and boundary_ok and session_ok
        granted = bool(resource_allow) and identity_ok
        used = identity_allow + resource_allow
        if not resource_allow:
            missing.append(resource_missing)
        if not identity_allow:
            missing.append(identity_missing)
        missing.extend(limits_missing)

    if granted and not missing:
        refs = [m.ref for m in scp_allow[:1] + vpce_allow[:1] + used]
        return Decision(request, "allowed", allowed_by=tuple(dict.fromkeys(refs)), near_misses=near)
    return Decision(
        request,
        "implicit-deny",
        missing=tuple(missing),
        alternatives=tuple(alternatives),
        near_misses=near,
    )
