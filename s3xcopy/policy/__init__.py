"""Policy engine: evaluate IAM, bucket and KMS key policies the way AWS does, offline.

Pure (no I/O, no clock unless given one). The layers, bottom up, each usable alone:

Documents and one request::

    from s3xcopy.policy import parse_policy, Caller, Request, PolicySet, evaluate, make_context

    key_policy = parse_policy(doc, kind="key-policy", name=key_arn, account="987654321098")
    identity = parse_policy(doc2, kind="identity-policy", name="KMSAccess", account="123456789012")
    caller = Caller.from_arn("arn:aws:sts::123456789012:assumed-role/EC2Role/i-0abc")
    decision = evaluate(
        Request(caller, "kms:Decrypt", key_arn,
                make_context({"kms:ViaService": "s3.us-east-1.amazonaws.com"})),
        PolicySet(identity=(identity,), resource=key_policy, resource_kind="key-policy",
                  resource_account="987654321098", resource_name=key_arn),
    )
    decision.allowed, decision.explain(), decision.missing, decision.aws_reason()

An estate and one S3 call (the permission table, S3's and KMS's contexts)::

    world = World(principals=(...), buckets={...}, keys=(...))   # or lab.load_scenario(...).world
    check = check_call(world, caller, S3Call("UploadPartCopy", dest, source, dest_enc, source_enc))
    check.allowed, check.first_failure, findings_for_operation(check)

A whole copy, both paths::

    analysis = analyze_copy(world, caller, CopySpec(source, dest, size=64 * MiB))
    analysis.single.clear, analysis.multipart.clear, analysis.findings, merge_statements(...)

Contexts: :func:`kms_context_via_s3` (S3 calls KMS for you) versus
:func:`kms_context_direct` (you call KMS) differ in kms:ViaService,
aws:ViaAWSService, aws:SourceIp / aws:SourceVpce and the encryption context;
a direct probe can pass where S3 fails and the other way round.
"""

from __future__ import annotations

from .advice import (
    PolicyFix,
    findings_for_check,
    findings_for_operation,
    merge_statements,
    statement_for,
)
from .conditions import Context, condition_holds, make_context
from .context import Network, kms_context_direct, kms_context_via_s3, s3_context
from .copy import CopyAnalysis, CopySpec, PathReport, Step, analyze_copy, copy_calls
from .document import Condition, Policy, PolicyError, Statement, format_json_path, parse_policy
from .evaluate import (
    AWS_POLICY_PHRASES,
    Decision,
    MissingAllow,
    NearMiss,
    PolicySet,
    Request,
    StatementRef,
    evaluate,
)
from .matching import action_matches, arn_like, wildcard_match
from .model import (
    BucketInfo,
    Encryption,
    KeyInfo,
    PrincipalInfo,
    World,
    aws_managed_s3_key,
    key_arn,
)
from .operations import (
    KeyProblem,
    OperationCheck,
    Permission,
    PermissionCheck,
    S3Call,
    check_call,
    key_problem,
    required_permissions,
)
from .principals import Caller, PrincipalMatch, account_of, role_arn_from_session_arn
from .requirements import OPERATIONS, KmsNeed, OperationSpec, S3Need, operation_spec

__all__ = [
    "AWS_POLICY_PHRASES",
    "OPERATIONS",
    "BucketInfo",
    "Caller",
    "Condition",
    "Context",
    "CopyAnalysis",
    "CopySpec",
    "Decision",
    "Encryption",
    "KeyInfo",
    "KeyProblem",
    "KmsNeed",
    "MissingAllow",
    "NearMiss",
    "Network",
    "OperationCheck",
    "OperationSpec",
    "PathReport",
    "Permission",
    "PermissionCheck",
    "Policy",
    "PolicyError",
    "PolicyFix",
    "PolicySet",
    "PrincipalInfo",
    "PrincipalMatch",
    "Request",
    "S3Call",
    "S3Need",
    "Statement",
    "StatementRef",
    "Step",
    "World",
    "account_of",
    "action_matches",
    "analyze_copy",
    "arn_like",
    "aws_managed_s3_key",
    "check_call",
    "condition_holds",
    "copy_calls",
    "evaluate",
    "findings_for_check",
    "findings_for_operation",
    "format_json_path",
    "key_arn",
    "key_problem",
    "kms_context_direct",
    "kms_context_via_s3",
    "make_context",
    "merge_statements",
    "operation_spec",
    "parse_policy",
    "required_permissions",
    "role_arn_from_session_arn",
    "s3_context",
    "statement_for",
    "wildcard_match",
]
