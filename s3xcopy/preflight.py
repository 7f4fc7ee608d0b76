"""Preflight: probe a copy's permissions through S3 itself, before copying anything.

A direct KMS call can pass where S3 fails and fail where S3 passes (kms:ViaService,
aws:SourceVpce and encryption-context conditions only hold, or only fail, when S3
calls KMS for you), so the authoritative probe is a canary through S3:

1. GetObject ``Range: bytes=0-0`` on the source      (s3:GetObject, source kms:Decrypt)
2. GetObjectTagging on the source, when tags will be copied
3. CreateMultipartUpload on the destination, with the copy's real SSE / ACL /
   tagging / object-lock headers                      (s3:PutObject, dest kms:GenerateDataKey)
4. UploadPartCopy of one byte                         (dest kms:Decrypt, source kms:Decrypt)
5. AbortMultipartUpload                               (nothing is left behind)

No object is created, so it is safe with Object Lock. What it cannot see: the
checksum kms:Decrypt at CompleteMultipartUpload, and S3 Bucket Key cache timing
(a revoked grant can take effect late).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .diagnosis import diagnose
from .engine import Attempt, CopyEngine
from .errors import AccessDeniedError, S3xCopyError
from .facts import SourceFacts
from .findings import Finding
from .location import S3Location
from .planning import (
    CopyPlan,
    dest_bucket_args,
    source_list_args,
    source_read_args,
    tagging_directive,
)

PathName = Literal["single", "multipart"]
#: The probe steps each path depends on: a denial at any of them blocks that path.
SINGLE_STEPS = frozenset({"HeadObject", "GetObject", "GetObjectTagging", "CreateMultipartUpload"})
MULTIPART_STEPS = SINGLE_STEPS | {"UploadPartCopy"}


@dataclass(frozen=True)
class ProbeStep:
    """One request of the canary and how S3 answered it."""

    operation: str
    ok: bool
    detail: str = ""
    error: S3xCopyError | None = None


@dataclass(frozen=True)
class PathVerdict:
    """Whether one path (single CopyObject or multipart) is clear, and if not, why."""

    path: PathName
    clear: bool
    blocked_at: str | None = None
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class PreflightReport:
    """What the canary found, per path, and which path the copy would take."""

    source: str
    dest: str
    caller_arn: str | None
    planned: str
    size: int | None
    single: PathVerdict
    multipart: PathVerdict
    steps: tuple[ProbeStep, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def findings(self) -> tuple[Finding, ...]:
        seen: dict[Finding, None] = {}
        for finding in (*self.single.findings, *self.multipart.findings):
            seen.setdefault(finding, None)
        return tuple(seen)

    @property
    def clear(self) -> bool:
        """True when the path the copy would take is clear."""
        return (self.multipart if self.planned == "multipart" else self.single).clear

    def to_dict(self) -> dict[str, Any]:
        def verdict(v: PathVerdict) -> dict[str, Any]:
            return {
                "clear": v.clear,
                "blocked_at": v.blocked_at,
                "findings": [f.to_dict() for f in v.findings],
            }

        return {
            "event": "preflight",
            "source": self.source,
            "dest": self.dest,
            "caller": self.caller_arn,
            "planned": self.planned,
            "size": self.size,
            "clear": self.clear,
            "single": verdict(self.single),
            "multipart": verdict(self.multipart),
            "steps": [
                {"operation": s.operation, "ok": s.ok, "detail": s.detail} for s in self.steps
            ],
            "notes": list(self.notes),
        }


class _Canary:
    """Runs the probe steps in order, recording each answer; aborts what it created."""

    def __init__(self, engine: CopyEngine, extra_args: Mapping[str, Any]) -> None:
        self.engine = engine
        self.extra_args = extra_args
        self.steps: list[ProbeStep] = []

    def step(self, operation: str, call: Any, detail: str = "") -> Any:
        try:
            answer = call()
        except AccessDeniedError as exc:
            self.steps.append(ProbeStep(operation, False, str(exc), exc))
            return None
        self.steps.append(ProbeStep(operation, True, detail))
        return answer if answer is not None else True

    def denied(self, steps: frozenset[str]) -> ProbeStep | None:
        return next((s for s in self.steps if not s.ok and s.operation in steps), None)


def run_preflight(
    engine: CopyEngine,
    source: S3Location,
    dest: S3Location,
    extra_args: Mapping[str, Any] | None = None,
    *,
    planned: tuple[CopyPlan, SourceFacts] | None = None,
) -> PreflightReport:
    """Probe both copy paths through S3 and report which are clear.

    Raises S3xCopyError for what is not a permission question (a missing source,
    a bad flag); denials are findings in the report, never exceptions.
    """
    args = dict(extra_args or {})
    canary = _Canary(engine, args)
    caller = engine.caller_arn()
    facts: SourceFacts | None = None
    plan: CopyPlan | None = None
    dest_key: str | None = args.get("SSEKMSKeyId")
    notes: list[str] = []

    inspected = planned or canary.step("HeadObject", lambda: engine.plan(source, dest, args))
    if planned:
        canary.steps.append(ProbeStep("HeadObject", True, "read while planning"))
    if inspected:
        plan, facts = inspected
        read = source_read_args(source, args)
        read.pop("ChecksumMode", None)
        if facts.size > 0:
            read["Range"] = "bytes=0-0"
        # A server-side copy reads the source with the copying (destination) identity.
        got = canary.step("GetObject", lambda: _drain(engine.dest("GetObject", **read)), "1 byte")
        if engine.source_identity:
            try:
                _drain(engine.source("GetObject", **read))
                notes.append(
                    "the source identity can read the source: a stream (--stream) would use it"
                    + ("" if got else " where the copying identity cannot")
                )
            except AccessDeniedError:
                notes.append("the source identity cannot read the source either")
        if facts.tags is not None:  # the multipart plan read them already
            canary.steps.append(ProbeStep("GetObjectTagging", True, "read while planning"))
        elif facts.tag_count and tagging_directive(args) == "COPY":
            canary.step("GetObjectTagging", lambda: engine.read_tags(facts, args))
        created = canary.step(
            "CreateMultipartUpload",
            lambda: engine.dest("CreateMultipartUpload", **plan.requests.create_multipart),
            "with the copy's SSE / ACL / tagging / lock headers",
        )
        if isinstance(created, dict):
            upload_id = str(created["UploadId"])
            try:
                if facts.size > 0:
                    canary.step(
                        "UploadPartCopy",
                        lambda: engine.dest(
                            "UploadPartCopy",
                            **plan.requests.upload_part_copy,
                            UploadId=upload_id,
                            PartNumber=1,
                            CopySourceRange="bytes=0-0",
                        ),
                        "1 byte",
                    )
                else:
                    notes.append("empty source: the multipart path is never used")
            finally:
                engine.abort_upload(plan, upload_id)
            canary.steps.append(ProbeStep("AbortMultipartUpload", True, "canary upload removed"))
            dest_key = created.get("SSEKMSKeyId") or dest_key
            if dest_key:
                notes.append(f"destination key: {dest_key}")
    if plan is None:
        notes.append("the source could not be read, so neither path can be checked further")
    managers: dict[str, str] = {}
    if any(not step.ok for step in canary.steps):
        source_key = facts.sse_kms_key_id if facts else None
        for side, key in (("source", source_key), ("destination", dest_key)):
            if key:
                note, manager = _describe_key(engine, side, key)
                notes.append(note)
                if manager:
                    managers[side] = manager
    notes.append(
        "not probed: the checksum kms:Decrypt at CompleteMultipartUpload, and S3 Bucket Key "
        "caching (a grant revoked in the last minutes may still pass)"
    )
    known = (engine, plan, facts, args, dest_key, managers)
    single = _verdict("single", canary, SINGLE_STEPS, *known)
    multipart = _verdict("multipart", canary, MULTIPART_STEPS, *known)
    return PreflightReport(
        source=str(source),
        dest=str(plan.dest if plan else dest),
        caller_arn=caller,
        planned=plan.strategy if plan else "unknown",
        size=facts.size if facts else None,
        single=single,
        multipart=multipart,
        steps=tuple(canary.steps),
        notes=tuple(notes),
    )


#: Keys a prefix's preflight reads, at most, looking for an object (markers are skipped).
PREFIX_SCAN = 1000


def run_prefix_preflight(
    engine: CopyEngine,
    source: S3Location,
    dest: S3Location,
    extra_args: Mapping[str, Any] | None = None,
    *,
    sync: bool = False,
) -> PreflightReport:
    """For a prefix: the listing a recursive copy starts with, then the canary on its first object.

    ``cp --recursive`` and ``sync`` first list the source prefix (s3:ListBucket); a denial
    there stops everything, so it is probed first, and its findings are the report's.
    ``sync`` also lists the destination prefix before it copies anything: with ``sync``
    that listing is probed next, and a refusal blocks both paths (the canary still runs,
    so that every missing grant is named at once). The first object under the prefix
    (mapped below ``dest`` as the recursive copy maps it) then stands for the rest:
    objects with another KMS key or tags may answer otherwise (``cp --recursive
    --preflight`` probes each such context). Deletions (``sync --delete``) are not
    probed: deleting is their only probe.
    """
    from .bulk.listing import dir_prefix, list_objects, relative  # bulk builds on the engine

    args = dict(extra_args or {})
    prefix = dir_prefix(source)
    where = S3Location(source.bucket, prefix)
    try:
        items = list_objects(engine.source, where.bucket, prefix, source_list_args(args))
        # The first object as the recursive copy sees it: markers skipped, key below prefix.
        first = next(relative(itertools.islice(items, PREFIX_SCAN), prefix, str(where)), None)
    except AccessDeniedError as exc:
        findings = engine.diagnose_bulk_denial(exc, where, "source", args)
        return _listing_only(
            engine, where, dest, (_listing_step(where, "the source", exc),), findings,
            "a recursive copy lists the prefix first: nothing else was probed",
        )  # fmt: skip
    steps = [_listing_step(where, "the source")]
    refused: tuple[Finding, ...] = ()
    if sync:
        there = S3Location(dest.bucket, dir_prefix(dest))
        try:
            next(list_objects(engine.dest, there.bucket, there.key, dest_bucket_args(args)), None)
            steps.append(_listing_step(there, "the destination"))
        except AccessDeniedError as exc:
            refused = engine.diagnose_bulk_denial(exc, there, "dest", args)
            steps.append(_listing_step(there, "the destination", exc))
    notes = [
        "sync --delete also needs s3:DeleteObject below the destination prefix, which is not "
        "probed (deleting is its only probe)"
        if sync
        else "sync also lists the destination prefix: add --sync to probe that listing too"
    ]
    if first is None:
        return _listing_only(
            engine, where, dest, tuple(steps), refused,
            f"no object under {where} to probe: only the listing was checked", *notes,
        )  # fmt: skip
    below, item = first
    target = S3Location(dest.bucket, dir_prefix(dest) + below)
    report = run_preflight(engine, S3Location(where.bucket, item.key), target, args)
    notes.insert(
        0,
        f"probed the first object under {where}: objects with another KMS key or tags may "
        "answer otherwise (cp --recursive --preflight probes each such context)",
    )
    single, multipart = report.single, report.multipart
    if refused:  # sync stops at its listing whichever path a copy would take
        single, multipart = _blocked(single, refused), _blocked(multipart, refused)
    return dataclasses.replace(
        report,
        single=single,
        multipart=multipart,
        steps=(*steps, *report.steps),
        notes=(*notes, *report.notes),
    )


def _listing_step(
    where: S3Location, side: str, refusal: AccessDeniedError | None = None
) -> ProbeStep:
    """The probe step of listing ``where``: which listing, and S3's refusal if it refused."""
    listed = f"s3:ListBucket on s3://{where.bucket}, prefix {where.key or '(whole bucket)'}"
    if refusal is None:
        return ProbeStep("ListObjectsV2", True, f"{listed} ({side})")
    return ProbeStep("ListObjectsV2", False, f"{listed} ({side}): {refusal}", refusal)


def _blocked(verdict: PathVerdict, findings: tuple[Finding, ...]) -> PathVerdict:
    """``verdict`` blocked first by the listing refused with ``findings``."""
    both = tuple(dict.fromkeys((*findings, *verdict.findings)))
    return PathVerdict(verdict.path, False, "ListObjectsV2", both)


def _listing_only(
    engine: CopyEngine,
    where: S3Location,
    dest: S3Location,
    steps: tuple[ProbeStep, ...],
    findings: tuple[Finding, ...],
    *notes: str,
) -> PreflightReport:
    """A prefix's report when only its listings were probed (refused, or nothing under it)."""
    refused = next((step for step in steps if not step.ok), None)

    def verdict(path: PathName) -> PathVerdict:
        blocked_at = refused.operation if refused else None
        return PathVerdict(path, refused is None, blocked_at, findings)

    return PreflightReport(
        source=str(where),
        dest=str(dest),
        caller_arn=engine.caller_arn(),
        planned="unknown",
        size=None,
        single=verdict("single"),
        multipart=verdict("multipart"),
        steps=steps,
        notes=notes,
    )


def _verdict(
    path: PathName,
    canary: _Canary,
    steps: frozenset[str],
    engine: CopyEngine,
    plan: CopyPlan | None,
    facts: SourceFacts | None,
    args: Mapping[str, Any],
    dest_key: str | None,
    managers: Mapping[str, str],
) -> PathVerdict:
    if path == "single" and facts is not None and plan is not None and not plan.single_possible:
        return PathVerdict(path, False, "CopyObject", ())
    failed = canary.denied(steps)
    if failed is None:
        return PathVerdict(path, plan is not None)
    assert failed.error is not None
    findings: tuple[Finding, ...] = ()
    if plan is not None:
        strategy_plan = plan if plan.strategy == path else _as_path(plan, path)
        attempt = Attempt(proven={s.operation for s in canary.steps if s.ok}, dest_key_arn=dest_key)
        context = dataclasses.replace(
            engine.denial_context(failed.error, strategy_plan, facts, args, attempt),
            source_key_manager=managers.get("source"),
            dest_key_manager=managers.get("destination"),
        )
        findings = diagnose(context)
    return PathVerdict(path, False, failed.operation, findings)


def _describe_key(engine: CopyEngine, side: str, key: str) -> tuple[str, str | None]:
    """Evidence from a direct kms:DescribeKey: it may inform, never overrule, the canary."""
    caveat = (
        "evidence only: S3's own KMS calls add kms:ViaService and the encryption context and "
        "carry no aws:SourceVpce/SourceIp, so a direct call can be allowed where S3 is refused "
        "and the other way round"
    )
    if engine.kms_client is None:
        return f"{side} key {key}: no KMS client to describe it", None
    try:
        metadata = engine.kms_client.describe_key(KeyId=key)["KeyMetadata"]
    except Exception as exc:  # denied, or no KMS on this endpoint: say so, decide nothing
        reason = " ".join(str(exc).split())
        return f"direct kms:DescribeKey on the {side} key failed ({reason}); {caveat}", None
    manager = str(metadata.get("KeyManager") or "")
    state = metadata.get("KeyState")
    managed = " (AWS managed: aws/s3 cannot be shared across accounts)" if manager == "AWS" else ""
    return (
        f"direct kms:DescribeKey on the {side} key: KeyState {state}, KeyManager {manager}"
        f"{managed}; {caveat}",
        manager or None,
    )


def _as_path(plan: CopyPlan, path: PathName) -> CopyPlan:
    if path == "single":
        return dataclasses.replace(plan, strategy="single", part_size=None, parts=())
    return dataclasses.replace(plan, strategy="multipart")


def _drain(answer: Mapping[str, Any]) -> Mapping[str, Any]:
    body = answer.get("Body")
    if body is not None:
        body.read()
        body.close()
    return answer
