"""Check a whole server-side copy, both ways S3 can do it: one CopyObject, or multipart.

:func:`analyze_copy` lays out the S3 calls each path makes (the same calls
``aws s3 cp`` and s3xcopy make) and checks each with :func:`.operations.check_call`:

- single: HeadObject (source), CopyObject;
- multipart: HeadObject (source), GetObjectTagging (source, when tags are copied),
  CreateMultipartUpload, UploadPartCopy, CompleteMultipartUpload, and
  AbortMultipartUpload as clean-up (reported, but not needed for the copy to succeed).

It says which path the copy takes (size against the multipart threshold; sources
over 5 GiB can only go multipart), whether each path is clear, and the findings
(one per missing grant, deduplicated across the calls that need it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ..findings import Finding
from ..limits import DEFAULT_MULTIPART_THRESHOLD, MAX_COPY_OBJECT_SIZE, MAX_OBJECT_SIZE
from ..location import S3Location
from ..units import format_size
from .advice import findings_for_operation
from .context import Network
from .model import Encryption, World
from .operations import OperationCheck, S3Call, check_call
from .principals import Caller

__all__ = ["CopyAnalysis", "CopySpec", "PathReport", "Step", "analyze_copy", "copy_calls"]

Strategy = Literal["single", "multipart"]
#: The header each grant field of a request is sent as (and its s3: condition key).
GRANT_HEADERS = {
    "GrantFullControl": "x-amz-grant-full-control",
    "GrantRead": "x-amz-grant-read",
    "GrantReadACP": "x-amz-grant-read-acp",
    "GrantWriteACP": "x-amz-grant-write-acp",
}


@dataclass(frozen=True)
class CopySpec:
    """One copy as the permission checks need to know it."""

    source: S3Location
    dest: S3Location
    size: int
    multipart_threshold: int = DEFAULT_MULTIPART_THRESHOLD
    #: The source object's encryption; None: the source bucket's default.
    source_encryption: Encryption | None = None
    #: ``aws:kms`` / ``AES256`` sent for the destination; None: the bucket's default.
    sse: str | None = None
    #: The destination key (ARN, key id or alias) sent as SSEKMSKeyId.
    sse_kms_key_id: str | None = None
    bucket_key: bool | None = None
    #: A canned ACL sent with the destination (``bucket-owner-full-control``...).
    acl: str | None = None
    #: Grants sent instead: request field (``GrantFullControl``...) -> grantees (``id=...``).
    grants: tuple[tuple[str, str], ...] = ()
    #: New tags for the destination (``k=v&k2=v2``), replacing the source's.
    tagging: str | None = None
    #: The source has tags and the copy carries them over.
    copy_tags: bool = False
    #: An additional checksum algorithm for the multipart upload (CRC32, CRC64NVME...).
    checksum_algorithm: str | None = None


@dataclass(frozen=True)
class Step:
    """One S3 call of a path and its check."""

    check: OperationCheck
    #: Clean-up calls (AbortMultipartUpload) only matter when something else failed.
    cleanup: bool = False

    @property
    def operation(self) -> str:
        return self.check.call.operation


@dataclass(frozen=True)
class PathReport:
    """One strategy: can it run, will the copy take it, is every permission there."""

    strategy: Strategy
    possible: bool
    #: Why the path cannot run (size limits), when it cannot.
    impossible_reason: str | None
    taken: bool
    steps: tuple[Step, ...]
    findings: tuple[Finding, ...]

    @property
    def clear(self) -> bool:
        return self.possible and all(s.check.allowed for s in self.steps if not s.cleanup)


@dataclass(frozen=True)
class CopyAnalysis:
    """Both paths of one copy."""

    caller: Caller
    spec: CopySpec
    source_encryption: Encryption
    dest_encryption: Encryption
    single: PathReport
    multipart: PathReport

    @property
    def paths(self) -> tuple[PathReport, PathReport]:
        return (self.single, self.multipart)

    @property
    def clear(self) -> bool:
        """Both paths that can run are clear."""
        return all(p.clear for p in self.paths if p.possible)

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Every distinct finding of both paths, single path first."""
        return _dedupe([f for p in self.paths for f in p.findings])

    def to_dict(self) -> dict[str, Any]:
        return {
            "caller": self.caller.arn,
            "principal": self.caller.principal_arn,
            "source": str(self.spec.source),
            "dest": str(self.spec.dest),
            "size": self.spec.size,
            "multipart_threshold": self.spec.multipart_threshold,
            "source_encryption": self.source_encryption.describe(),
            "dest_encryption": self.dest_encryption.describe(),
            "clear": self.clear,
            "paths": {p.strategy: _path_dict(p) for p in self.paths},
            "findings": [f.to_dict() for f in self.findings],
        }


def _path_dict(path: PathReport) -> dict[str, Any]:
    return {
        "possible": path.possible,
        "impossible_reason": path.impossible_reason,
        "taken": path.taken,
        "clear": path.clear,
        "steps": [
            {
                "operation": step.operation,
                "cleanup": step.cleanup,
                "allowed": step.check.allowed,
                "checks": [
                    {
                        "action": c.permission.action,
                        "resource": c.permission.resource,
                        "role": c.permission.role,
                        "allowed": c.allowed,
                        "explanation": c.explain(),
                        "decision": c.decision.to_dict() if c.decision else None,
                        "key_problem": (
                            {"code": c.key_problem.code, "message": c.key_problem.message}
                            if c.key_problem
                            else None
                        ),
                    }
                    for c in step.check.checks
                ],
            }
            for step in path.steps
        ],
        "findings": [f.to_dict() for f in path.findings],
    }


def _dedupe(findings: list[Finding]) -> tuple[Finding, ...]:
    seen: dict[tuple[str, str, str, str | None, str], Finding] = {}
    for f in findings:
        key = (f.code, f.action, f.resource, f.account, f.policy)
        seen.setdefault(key, f)
    return tuple(seen.values())


def copy_calls(
    world: World, caller: Caller, spec: CopySpec
) -> tuple[Encryption, Encryption, dict[Strategy, list[tuple[S3Call, bool]]]]:
    """The S3 calls of each path (and which are clean-up), with both sides' encryption."""
    source_enc = spec.source_encryption or world.default_encryption(spec.source.bucket)
    dest_enc = world.write_encryption(
        spec.dest.bucket,
        caller_account=caller.account,
        sse=spec.sse,
        kms_key=spec.sse_kms_key_id,
        bucket_key=spec.bucket_key,
    )
    write_headers: dict[str, str] = {}
    if spec.sse:
        write_headers["x-amz-server-side-encryption"] = spec.sse
    if spec.sse_kms_key_id:
        write_headers["x-amz-server-side-encryption-aws-kms-key-id"] = spec.sse_kms_key_id
    if spec.acl:
        write_headers["x-amz-acl"] = spec.acl
    for field_name, grantees in spec.grants:
        write_headers[GRANT_HEADERS[field_name]] = grantees
    write_flags = {"acl"} if spec.acl or spec.grants else set()

    head = S3Call("HeadObject", spec.source, target_encryption=source_enc, target_role="source")
    copy_headers = dict(write_headers)
    copy_headers["x-amz-copy-source"] = f"{spec.source.bucket}/{spec.source.key}"
    copy_flags = set(write_flags)
    if spec.tagging is not None:
        copy_headers["x-amz-tagging"] = spec.tagging
        copy_headers["x-amz-tagging-directive"] = "REPLACE"
        copy_flags.add("tagging")
    elif spec.copy_tags:
        copy_flags.add("copy-tags")
    single = [
        (head, False),
        (
            S3Call(
                "CopyObject", spec.dest, spec.source, dest_enc, source_enc,
                frozenset(copy_flags), copy_headers, target_role="destination",
            ),
            False,
        ),
    ]  # fmt: skip

    create_headers = dict(write_headers)
    create_flags = set(write_flags)
    multipart: list[tuple[S3Call, bool]] = [(head, False)]
    if spec.tagging is not None or spec.copy_tags:
        if spec.tagging is None:
            multipart.append((S3Call("GetObjectTagging", spec.source, target_role="source"), False))
        create_headers["x-amz-tagging"] = spec.tagging or "copied=tags"
        create_flags.add("tagging")
    if spec.checksum_algorithm:
        create_headers["x-amz-checksum-algorithm"] = spec.checksum_algorithm
    dest = S3Call(
        "CreateMultipartUpload", spec.dest, target_encryption=dest_enc, target_role="destination"
    )
    multipart.append(
        (
            S3Call(
                "CreateMultipartUpload", spec.dest, target_encryption=dest_enc,
                flags=frozenset(create_flags), headers=create_headers, target_role="destination",
            ),
            False,
        )
    )  # fmt: skip
    part_headers = {"x-amz-copy-source": f"{spec.source.bucket}/{spec.source.key}"}
    multipart.append(
        (
            S3Call(
                "UploadPartCopy", spec.dest, spec.source, dest_enc, source_enc,
                headers=part_headers, target_role="destination",
            ),
            False,
        )
    )  # fmt: skip
    complete_flags = {"additional-checksums"} if spec.checksum_algorithm else set()
    multipart.append(
        (
            S3Call(
                "CompleteMultipartUpload", spec.dest, target_encryption=dest_enc,
                flags=frozenset(complete_flags), target_role="destination",
            ),
            False,
        )
    )  # fmt: skip
    multipart.append((S3Call("AbortMultipartUpload", dest.target, target_role="destination"), True))
    return source_enc, dest_enc, {"single": single, "multipart": multipart}


def analyze_copy(
    world: World, caller: Caller, spec: CopySpec, network: Network | None = None
) -> CopyAnalysis:
    """Check both paths of one copy; pure."""
    source_enc, dest_enc, calls = copy_calls(world, caller, spec)
    single_possible = spec.size <= MAX_COPY_OBJECT_SIZE
    multipart_possible = 0 < spec.size <= MAX_OBJECT_SIZE
    takes_multipart = spec.size >= spec.multipart_threshold or not single_possible
    reasons: dict[Strategy, str | None] = {
        "single": None
        if single_possible
        else f"CopyObject takes at most {format_size(MAX_COPY_OBJECT_SIZE)}",
        "multipart": None
        if multipart_possible
        else (
            "an empty object cannot be copied in parts"
            if spec.size <= 0
            else f"larger than {format_size(MAX_OBJECT_SIZE)}"
        ),
    }
    reports: dict[Strategy, PathReport] = {}
    for strategy, path_calls in calls.items():
        steps = tuple(
            Step(check_call(world, caller, call, network), cleanup) for call, cleanup in path_calls
        )
        findings = [f for s in steps if not s.cleanup for f in findings_for_operation(s.check)]
        possible = single_possible if strategy == "single" else multipart_possible
        reports[strategy] = PathReport(
            strategy=strategy,
            possible=possible,
            impossible_reason=reasons[strategy],
            taken=(strategy == "multipart") == takes_multipart and possible,
            steps=steps,
            findings=_dedupe(findings),
        )
    return CopyAnalysis(caller, spec, source_enc, dest_enc, reports["single"], reports["multipart"])
