"""The copy engine: inspect the source, plan, execute (single, multipart or stream), verify.

One ``CopyEngine`` copies objects with one pair of clients. Safety is by
construction: every CopyObject / UploadPartCopy is pinned to the source ETag read
at the start (``CopySourceIfMatch``); a multipart upload's abort is armed the
moment it is created, so any failure, Ctrl-C included, leaves no open upload
(unless the caller keeps it to resume, with a journal); a denied multipart copy
falls back to one CopyObject when that may succeed and the object allows it.
When no server-side copy can serve both sides (two services, or a destination
identity that may not read the source while a source identity may), the bytes are
streamed through the client instead (:mod:`s3xcopy.stream`), in the same skeleton.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError
from botocore.validate import ParamValidator

from .calls import STS_CREDENTIAL_CODES, Caller, RequestGate, aws_message
from .clients import partition_for
from .config import CopyConfig
from .diagnosis import DenialContext, diagnose, fallback_may_help
from .errors import (
    AccessDeniedError,
    CopyInterruptedError,
    InvalidInputError,
    NotFoundError,
    S3xCopyError,
    SourceChangedError,
    VerificationError,
)
from .events import (
    BytesCopied,
    CopyFailed,
    CopyPlanned,
    CopySucceeded,
    Listener,
    StrategyChanged,
)
from .facts import SourceFacts, checksum_from, etag_proves_copy
from .findings import Finding
from .location import S3Location
from .planning import (
    ACL_FIELDS,
    CopyPlan,
    Endpoint,
    PartRange,
    listing_suffices,
    make_plan,
    needs_source_tags,
    resolve_dest,
    server_side_obstacle,
    source_read_args,
    stream_reason,
    validate_extra_args,
)
from .results import CopyResult, Strategy
from .retry import THROTTLING_CODES, RetryPolicy, error_code
from .stream import StreamCopier

#: How often the coordinator wakes while parts run, to notice a cancel request.
POLL_SECONDS = 0.2
#: How long, at most, an interrupted copy waits for requests in flight before aborting.
DRAIN_SECONDS = 60.0
#: Abort attempts: a part in flight during an abort can re-create storage (S3 docs).
ABORT_ROUNDS = 3

PartEntry = dict[str, Any]
#: The work of one part: (plan, upload id, part, abandon) -> its CompleteMultipartUpload entry.
PartWork = Callable[[CopyPlan, str, PartRange, threading.Event], PartEntry]
#: Checks before CompleteMultipartUpload, given every part's entry (which it may complete, e.g.
#: with checksums); returns extra Complete arguments.
BeforeComplete = Callable[[CopyPlan, dict[int, PartEntry]], Mapping[str, Any]]
#: Operations whose denial may mean "the destination identity cannot read the source".
#: Requests in which the copying identity reads the source (the preflight's canary GetObject
#: reads it with that identity too).
SOURCE_READING_OPERATIONS = frozenset({"CopyObject", "UploadPartCopy", "GetObject"})


@dataclass(frozen=True)
class ResumeState:
    """An unfinished multipart upload to continue (from a journal)."""

    upload_id: str
    #: The source ETag the upload was started from; a different ETag means start over.
    source_etag: str
    part_size: int
    #: The plan's strategy when the upload started (``plan.strategy`` at upload_started):
    #: a streamed upload resumes by streaming; another strategy's upload is started over.
    strategy: Strategy = "multipart"


@dataclass
class Attempt:
    """What one copy learned on the way, for diagnosing a later refusal."""

    #: Operations that succeeded with the copy's identity: their grants are proven.
    proven: set[str] = field(default_factory=set)
    dest_key_arn: str | None = None
    dest_bucket_key: bool = False


class MultipartObserver:
    """Told about a multipart upload's progress, so a journal can record it. No-op here."""

    def upload_started(self, plan: CopyPlan, upload_id: str, source_etag: str) -> None:
        """The upload exists; record its id before any part is copied."""

    def part_done(self, plan: CopyPlan, upload_id: str, entry: PartEntry) -> None:
        """A part is copied (``entry`` has PartNumber, ETag and any checksum)."""

    def upload_finished(self, plan: CopyPlan, upload_id: str) -> None:
        """The upload was completed or aborted: forget it."""


class CopyEngine:
    """Copies S3 objects server-side with one destination client (and a source client).

    ``client`` sends every request of the copy itself (it needs read access to the
    source and write access to the destination); ``source_client`` reads the source's
    facts (HeadObject, tags) and defaults to ``client``. ``gate`` and ``executor`` may
    be shared between engines so many copies share one budget of requests in flight.
    ``source_identity``: ``source_client`` has credentials of its own, so a copy the
    destination identity may not read can be streamed with them (``config.stream``).
    ``exact_dest``: destinations are object keys as given, never prefixes to join a
    basename to (bulk copies: a listed key may end in ``/``).
    ``lean_copy`` sends CopyObject in place of ``client.copy_object`` (same request and
    answer, less CPU: :class:`s3xcopy.wire.LeanCopyObject`).
    """

    def __init__(
        self,
        client: Any,
        *,
        source_client: Any | None = None,
        sts_client: Any | None = None,
        source_sts_client: Any | None = None,
        kms_client: Any | None = None,
        config: CopyConfig | None = None,
        listener: Listener | None = None,
        gate: RequestGate | None = None,
        executor: Executor | None = None,
        cancel: threading.Event | None = None,
        sleep: Callable[[float], None] = time.sleep,
        region: str | None = None,
        source_identity: bool = False,
        exact_dest: bool = False,
        lean_copy: Callable[..., Mapping[str, Any]] | None = None,
    ) -> None:
        self.config = config or CopyConfig()
        self.source_identity = source_identity
        self.exact_dest = exact_dest
        self.listener = listener
        self.cancel = cancel or threading.Event()
        self.executor = executor
        self.region = region or getattr(getattr(client, "meta", None), "region_name", None)
        self._sts_client = sts_client
        #: STS with the source's credentials, when the source has its own client.
        self._source_sts_client = source_sts_client
        self.kms_client = kms_client
        self._caller_arn: str | None = None
        #: STS's code when it refused this engine's credentials (see caller_arn).
        self._credentials_refused: str | None = None
        #: What STS said of the source's credentials, once asked (see source_refusal).
        self._source_refusal: tuple[str | None] | None = None
        self._default_keys: dict[str, tuple[str | None, bool]] = {}
        policy = RetryPolicy(
            max_attempts=self.config.max_attempts,
            wait_for_permissions=self.config.wait_for_permissions,
            sleep=sleep,
        )
        self._lean_copy = lean_copy
        self.dest = Caller(
            client, policy, listener=listener, gate=gate, cancel=self.cancel,
            senders={"CopyObject": lean_copy} if lean_copy is not None else None,
        )  # fmt: skip
        self.source = Caller(
            source_client or client, policy, listener=listener, gate=gate, cancel=self.cancel
        )
        # Aborts must go through even while the copy is being cancelled, and a probe that
        # expects a possible denial must not wait for permissions to propagate.
        prompt = dataclasses.replace(policy, wait_for_permissions=0)
        self._cleanup = Caller(client, prompt)
        self._source_probe = Caller(source_client or client, prompt, listener=listener, gate=gate)
        # A client's endpoint is fixed when it is made: compare the two endpoints once.
        source, dest = _endpoint(source_client or client), _endpoint(client)
        self._obstacle = (
            None if source is None or dest is None else server_side_obstacle(source, dest)
        )
        #: The source is read from AWS S3 (whose ETag rules a stream relies on).
        self.source_on_aws = source is not None and source.is_aws
        #: Preflight contexts (see preflight_context) a canary found clear: a bulk run
        #: probes once per context, not once per object. Denials are never shared.
        self._preflight_clear: set[tuple[Any, ...]] = set()
        #: Set when the first canary of each context has its answer.
        self._preflight_first: dict[tuple[Any, ...], threading.Event] = {}
        self._preflight_lock = threading.Lock()

    # --- the whole flow ---------------------------------------------------------------

    def copy(
        self,
        source: S3Location,
        dest: S3Location,
        extra_args: Mapping[str, Any] | None = None,
        *,
        resume: ResumeState | None = None,
        observer: MultipartObserver | None = None,
        keep_upload_on_interrupt: bool = False,
        listed: SourceFacts | None = None,
        inspected: SourceFacts | None = None,
    ) -> CopyResult:
        """Copy one object; return what was done or raise an S3xCopyError subclass.

        ``listed``: the source's facts from a listing (bulk copies). When they suffice
        (:func:`~s3xcopy.planning.listing_suffices`) the copy is planned from them, with
        no HeadObject of the source, and verified by the copy's own ETag when it can be.
        ``inspected``: :meth:`inspect`'s answer for ``source`` and these ``extra_args``,
        read just before (a journal looked the copy up with it): not read again.
        """
        args = dict(extra_args or {})
        if listed is not None and resume is None:
            result = self._copy_listed(listed, dest, args)
            if result is not None:
                return result
        started = time.monotonic()
        preflight_note: str | None = None
        preflight_findings: tuple[Finding, ...] = ()
        try:
            try:
                plan, facts = self.plan(source, dest, args, resume=resume, inspected=inspected)
            except AccessDeniedError as exc:
                exc.findings = _merge(exc.findings, self._diagnose_source(exc, source, dest, args))
                raise
            attempt = Attempt()
            if self.source.client is self.dest.client:  # same identity: its grants are proven
                attempt.proven.add("HeadObject")
                if facts.tags is not None:
                    attempt.proven.add("GetObjectTagging")
            if self.config.preflight:
                plan, preflight_note, preflight_findings = self._preflight(plan, facts, args)
            self._emit(CopyPlanned(plan))
            try:
                result = self._execute_with_fallback(
                    plan, facts, args, resume, observer or MultipartObserver(),
                    keep_upload_on_interrupt, attempt,
                )  # fmt: skip
            except S3xCopyError as exc:
                self._check_dest_bucket(plan, exc)
                raise
        except S3xCopyError as exc:
            self._emit(CopyFailed(str(source), str(dest), exc))
            raise
        if self.config.preflight and preflight_note:
            result = dataclasses.replace(
                result,
                fallback=result.fallback or preflight_note,
                findings=_merge(preflight_findings, result.findings),
            )
        result = dataclasses.replace(result, seconds=time.monotonic() - started)
        self._emit(CopySucceeded(result))
        return result

    def _copy_listed(
        self, listed: SourceFacts, dest: S3Location, args: Mapping[str, Any]
    ) -> CopyResult | None:
        """One CopyObject planned from the listing; None when the full path must copy instead.

        The full path takes over when the listing does not suffice, and after a refusal
        (AccessDenied, NotFound): it reads the source, then diagnoses, falls back or streams
        as it always does, so a refused copy reports exactly what it did before.
        """
        if listing_suffices(listed, self.config, args) or self.server_side_obstacle():
            return None
        started = time.monotonic()
        source = listed.location
        try:
            plan = make_plan(listed, dest, self.config, args, exact_dest=self.exact_dest)
            self._emit(CopyPlanned(plan))
            try:
                answer = self._copy_object(plan, listed.etag, since="it was listed")
            except (AccessDeniedError, NotFoundError):
                return None
            except CopyInterruptedError:
                raise
            except S3xCopyError as exc:
                if _diagnosable(exc):
                    facts = self._read_listed(listed, args) or listed
                    exc.findings = diagnose(self.denial_context(exc, plan, facts, args))
                self._check_dest_bucket(plan, exc)
                raise
            self._emit(BytesCopied(str(plan.source), str(plan.dest), 1, plan.size))
            written: Mapping[str, Any] = answer.get("CopyObjectResult", {})
            etag = _quoted(written.get("ETag") or "")
            version_id = answer.get("VersionId")
            if self.config.verify and not etag_proves_copy(listed.etag, answer):
                facts = listed
                if self._may_compare_checksums(listed, written):
                    facts = dataclasses.replace(
                        listed, checksum=(self._read_listed(listed, args) or listed).checksum
                    )
                etag = self._verify(plan, facts, written, version_id) or etag
        except S3xCopyError as exc:
            self._emit(CopyFailed(str(source), str(dest), exc))
            raise
        result = CopyResult(
            source=str(plan.source),
            dest=str(plan.dest),
            strategy="single",
            size=plan.size,
            part_size=None,
            parts=1,
            etag=etag,
            version_id=version_id,
            seconds=time.monotonic() - started,
        )
        self._emit(CopySucceeded(result))
        return result

    @staticmethod
    def _may_compare_checksums(listed: SourceFacts, written: Mapping[str, Any]) -> bool:
        """The copy has a checksum of the algorithm the listing names for the source."""
        dest = checksum_from(written)
        return (
            listed.checksum is not None
            and dest is not None
            and dest.algorithm == listed.checksum.algorithm
        )

    def _read_listed(self, listed: SourceFacts, args: Mapping[str, Any]) -> SourceFacts | None:
        """The listed source's facts from HeadObject, if it is still the object listed."""
        try:
            facts = self.inspect(listed.location, args)
        except S3xCopyError:
            return None  # gone or unreadable since: the listing's facts are all there is
        return facts if facts.etag.strip('"') == listed.etag.strip('"') else None

    def _preflight(
        self, plan: CopyPlan, facts: SourceFacts, args: Mapping[str, Any]
    ) -> tuple[CopyPlan, str | None, tuple[Finding, ...]]:
        """Probe the planned path through S3 first; switch to CopyObject or stop, before copying.

        A stream is not probed: the canary tries the server-side paths, which a stream does
        not use. A server-side path the canary finds denied is streamed instead when the
        destination's identity cannot read the source and a source identity may.
        """
        from .preflight import run_preflight  # preflight builds on this module

        if plan.strategy == "stream":
            return plan, None, ()
        context = preflight_context(plan, facts)
        turn = self._preflight_turn(context)
        if turn is None:
            return plan, None, ()
        try:
            report = run_preflight(self, plan.source, plan.dest, args, planned=(plan, facts))
            if report.clear:
                with self._preflight_lock:
                    self._preflight_clear.add(context)
                return plan, None, ()
        finally:
            turn.set()
        blocked_at = (
            report.multipart if plan.strategy == "multipart" else report.single
        ).blocked_at
        if self._stream_may_help(blocked_at, plan):
            note = (
                f"preflight: the {plan.strategy} path is denied at {blocked_at} and the "
                "destination's identity cannot read the source; streamed with the source's "
                "credentials instead"
            )
            self._emit(
                StrategyChanged(
                    str(plan.source), str(plan.dest), plan.strategy, "stream", note,
                    report.findings,
                )
            )  # fmt: skip
            return self._stream_plan(plan, facts, args, note), note, report.findings
        if (
            plan.strategy == "multipart"
            and plan.single_possible
            and report.single.clear
            and self.config.fallback
        ):
            note = (
                f"preflight: the multipart path is denied at {report.multipart.blocked_at}; "
                "copied with one CopyObject instead"
            )
            self._emit(
                StrategyChanged(
                    str(plan.source), str(plan.dest), "multipart", "single", note, report.findings
                )
            )
            single = dataclasses.replace(plan, strategy="single", part_size=None, parts=())
            return single, note, report.findings
        blocked = report.multipart if plan.strategy == "multipart" else report.single
        step = blocked.blocked_at or "preflight"
        raise AccessDeniedError(
            f"preflight: the {plan.strategy} path is denied at {step}; nothing was copied",
            operation=step,
            code="AccessDenied",
            findings=report.findings,
        )

    def plan(
        self,
        source: S3Location,
        dest: S3Location,
        extra_args: Mapping[str, Any],
        *,
        resume: ResumeState | None = None,
        inspected: SourceFacts | None = None,
    ) -> tuple[CopyPlan, SourceFacts]:
        """Inspect the source (HeadObject, and its tags when multipart must carry them) and plan.

        ``inspected``: the source's HeadObject facts, when the caller has just read them.
        """
        # Refuse bad input before any request: a prefix source (unless dest is exact: bulk
        # copies), and destination settings S3 would refuse only after we had asked.
        dest = resolve_dest(source, dest, exact=self.exact_dest)
        self.check_extra_args(extra_args)
        facts = inspected if inspected is not None else self.inspect(source, extra_args)
        plan = self.plan_from_facts(facts, dest, extra_args, resume)
        if needs_source_tags(facts, plan.strategy, extra_args):
            facts = self.read_tags(facts, extra_args)
            plan = self.plan_from_facts(facts, dest, extra_args, resume)
        return plan, facts

    def check_extra_args(self, extra_args: Mapping[str, Any]) -> None:
        """Refuse destination settings S3 would refuse, before anything is sent: our own
        checks (:func:`~s3xcopy.planning.validate_extra_args`), then botocore's parameter
        validation of a CopyObject carrying them (types: ``StorageClass=5``, ``Metadata``
        values that are not strings...), which would otherwise come only when it is sent."""
        validate_extra_args(extra_args)
        model = getattr(getattr(self.dest.client, "meta", None), "service_model", None)
        if model is None:
            return  # a stand-in client (tests): nothing to validate against
        shape = model.operation_model("CopyObject").input_shape
        request = {"Bucket": "bucket", "Key": "key", "CopySource": "bucket/key"}
        request.update({k: v for k, v in extra_args.items() if k in shape.members})
        report = ParamValidator().validate(request, shape)
        if report.has_errors():
            raise InvalidInputError("; ".join(report.generate_report().splitlines()))

    def plan_from_facts(
        self,
        facts: SourceFacts,
        dest: S3Location,
        extra_args: Mapping[str, Any],
        resume: ResumeState | None = None,
    ) -> CopyPlan:
        """Plan the copy: server-side, or a stream when no server-side copy can serve it."""
        obstacle = self.server_side_obstacle()
        reason = stream_reason(
            self.config.stream,
            obstacle,
            resuming_stream=resume is not None and resume.strategy == "stream",
        )
        if reason is None:
            return make_plan(facts, dest, self.config, extra_args, exact_dest=self.exact_dest)
        return make_plan(
            facts, dest, self.config, extra_args, strategy="stream", reason=reason,
            same_service=obstacle is None, exact_dest=self.exact_dest,
        )  # fmt: skip

    def server_side_obstacle(self) -> str | None:
        """Why the two clients' services cannot share one server-side copy (None if they can)."""
        return self._obstacle

    def inspect(self, source: S3Location, extra_args: Mapping[str, Any]) -> SourceFacts:
        """HeadObject the source once, with its SSE-C, RequestPayer, owner check and version."""
        args = source_read_args(source, extra_args)
        try:
            try:
                head = self._source_probe("HeadObject", **args, ChecksumMode="ENABLED")
            except AccessDeniedError:
                # Reading the checksum of a KMS-encrypted object also needs kms:Decrypt; ask
                # again without it so the real copy meets (and diagnoses) the denial itself.
                head = self.source("HeadObject", **args)
        except NotFoundError as exc:
            raise NotFoundError(
                f"source not found: {source} (no such key, version or bucket; "
                "or no s3:ListBucket to tell a missing key from a denial)",
                operation="HeadObject",
                code=exc.code,
            ) from exc.__cause__
        facts = SourceFacts.from_head(source, head)
        pinned = extra_args.get("CopySourceIfMatch")
        if pinned and pinned.strip('"') != facts.etag.strip('"'):
            raise SourceChangedError(
                f"source {source} has ETag {facts.etag}, not the {pinned} asked for",
                operation="HeadObject",
            )
        return facts

    def _check_dest_bucket(self, plan: CopyPlan, exc: S3xCopyError) -> None:
        """Turn a failed first write into "destination bucket does not exist" when that is why.

        AWS answers NoSuchBucket, but some S3-compatible servers answer a 500, which
        would read as a transient fault; one HeadBucket tells them apart.
        """
        if exc.operation not in ("CopyObject", "CreateMultipartUpload", "PutObject") or isinstance(
            exc, AccessDeniedError
        ):
            return
        args: dict[str, Any] = {"Bucket": plan.dest.bucket}
        if "ExpectedBucketOwner" in plan.requests.abort_multipart:
            args["ExpectedBucketOwner"] = plan.requests.abort_multipart["ExpectedBucketOwner"]
        try:
            self._cleanup("HeadBucket", **args)
        except NotFoundError as missing:
            raise NotFoundError(
                f"destination bucket does not exist: s3://{plan.dest.bucket}/",
                operation=exc.operation,
                code="NoSuchBucket",
            ) from missing.__cause__
        except S3xCopyError:
            return

    def read_tags(self, facts: SourceFacts, extra_args: Mapping[str, Any]) -> SourceFacts:
        """GetObjectTagging on the source, to carry its tags through a multipart copy."""
        args = source_read_args(facts.location, extra_args)
        args.pop("SSECustomerAlgorithm", None), args.pop("SSECustomerKey", None)
        args.pop("SSECustomerKeyMD5", None)
        if facts.version_id and "VersionId" not in args:
            args["VersionId"] = facts.version_id
        answer = self.source("GetObjectTagging", **args)
        return facts.with_tags(answer.get("TagSet", []))

    # --- execution ----------------------------------------------------------------------

    def _execute_with_fallback(
        self,
        plan: CopyPlan,
        facts: SourceFacts,
        args: Mapping[str, Any],
        resume: ResumeState | None,
        observer: MultipartObserver,
        keep_upload_on_interrupt: bool,
        attempt: Attempt,
    ) -> CopyResult:
        try:
            result = self.execute(
                plan, facts, resume=resume, observer=observer,
                keep_upload_on_interrupt=keep_upload_on_interrupt, attempt=attempt,
            )  # fmt: skip
            if plan.strategy == "stream" and self.config.stream != "always":
                # The engine chose to stream (two endpoints, resuming a stream): say why.
                # A stream the caller asked for is not a change of strategy.
                result = dataclasses.replace(result, fallback=result.fallback or plan.reason)
            return result
        except AccessDeniedError as exc:
            denial = self.denial_context(exc, plan, facts, args, attempt)
            findings = diagnose(denial)
            if self._stream_may_help(exc.operation, plan):
                return self._stream_instead(
                    exc, plan, facts, args, findings, observer, keep_upload_on_interrupt, attempt
                )
            if not (
                plan.strategy == "multipart"
                and plan.single_possible
                and self.config.fallback
                and fallback_may_help(denial)
            ):
                exc.findings = _merge(exc.findings, findings)
                raise
            reason = (
                f"multipart copy was denied at {exc.operation} ({exc.code}); "
                "copied with one CopyObject instead"
            )
            self._emit(
                StrategyChanged(
                    str(plan.source), str(plan.dest), "multipart", "single", reason, findings
                )
            )
            single = dataclasses.replace(plan, strategy="single", part_size=None, parts=())
            try:
                result = self.execute(single, facts, attempt=attempt)
            except AccessDeniedError as second:
                again = diagnose(self.denial_context(second, single, facts, args, attempt))
                second.findings = _merge(findings, second.findings, again)
                raise
            return dataclasses.replace(result, fallback=reason, findings=_merge(findings))
        except S3xCopyError as exc:
            if not exc.findings and _diagnosable(exc):
                exc.findings = diagnose(self.denial_context(exc, plan, facts, args, attempt))
            raise

    def _preflight_turn(self, context: tuple[Any, ...]) -> threading.Event | None:
        """None when a canary found ``context`` clear; else the event to set after probing.

        The first copy of a context probes while the others of that context wait for its
        answer (else every worker of a bulk run would probe at once). A context found
        denied is probed again for each object: a denial may be the object's own.
        """
        with self._preflight_lock:
            first = self._preflight_first.get(context)
            if first is None:
                first = self._preflight_first[context] = threading.Event()
                return first
        while not first.wait(POLL_SECONDS):
            if self.cancel.is_set():
                raise CopyInterruptedError("the copy was interrupted before its preflight")
        with self._preflight_lock:
            return None if context in self._preflight_clear else first

    def _stream_may_help(self, operation: str | None, plan: CopyPlan) -> bool:
        """A server-side copy was denied and the destination identity cannot read the source.

        Streaming helps only then, and only with a source identity of its own; the probe
        is the preflight's canary (GetObject of one byte with the destination's client).
        """
        return (
            self.source_identity
            and self.config.stream == "auto"
            and self.config.fallback
            and plan.strategy != "stream"
            and operation in SOURCE_READING_OPERATIONS
            and not self._dest_can_read_source(plan)
        )

    def _dest_can_read_source(self, plan: CopyPlan) -> bool:
        """Whether the destination's identity may read the source (s3:GetObject, kms:Decrypt)."""
        args = dict(plan.requests.get_object)
        try:
            if plan.size:
                self._cleanup("GetObject", **args, Range="bytes=0-0")["Body"].close()
            else:
                self._cleanup("HeadObject", **args)
        except AccessDeniedError:
            return False
        except S3xCopyError:
            return True  # not a read denial: streaming would not avoid it
        return True

    def _stream_plan(
        self, plan: CopyPlan, facts: SourceFacts, args: Mapping[str, Any], reason: str
    ) -> CopyPlan:
        """The stream plan for a copy planned server-side (its source tags read if needed)."""
        if needs_source_tags(facts, "stream", args):
            facts = self.read_tags(facts, args)
        return make_plan(
            facts, plan.dest, self.config, args, strategy="stream", reason=reason,
            exact_dest=self.exact_dest,
        )  # fmt: skip

    def _stream_instead(
        self,
        exc: AccessDeniedError,
        plan: CopyPlan,
        facts: SourceFacts,
        args: Mapping[str, Any],
        findings: tuple[Finding, ...],
        observer: MultipartObserver,
        keep_upload_on_interrupt: bool,
        attempt: Attempt,
    ) -> CopyResult:
        """Copy by streaming with the source's credentials after a source-side denial."""
        reason = (
            f"{plan.strategy} copy was denied at {exc.operation} ({exc.code}) and the "
            "destination's identity cannot read the source; streamed with the source's "
            "credentials instead"
        )
        self._emit(
            StrategyChanged(
                str(plan.source), str(plan.dest), plan.strategy, "stream", reason, findings
            )
        )
        stream = self._stream_plan(plan, facts, args, reason)
        try:
            result = self.execute(
                stream, facts, observer=observer,
                keep_upload_on_interrupt=keep_upload_on_interrupt, attempt=attempt,
            )  # fmt: skip
        except AccessDeniedError as second:
            again = diagnose(self.denial_context(second, stream, facts, args, attempt))
            second.findings = _merge(findings, second.findings, again)
            raise
        return dataclasses.replace(result, fallback=reason, findings=_merge(findings))

    def _diagnose_source(
        self, exc: AccessDeniedError, source: S3Location, dest: S3Location, args: Mapping[str, Any]
    ) -> tuple[Finding, ...]:
        """Findings for a refused HeadObject, before there is a plan."""
        return self._diagnose_without_plan(
            exc, source, resolve_dest(source, dest, exact=self.exact_dest), args,
            by_source=True, operation=exc.operation or "HeadObject",
            owners=(args.get("ExpectedSourceBucketOwner"), args.get("ExpectedBucketOwner")),
        )  # fmt: skip

    def diagnose_bulk_denial(
        self, exc: AccessDeniedError, where: S3Location, side: str, args: Mapping[str, Any]
    ) -> tuple[Finding, ...]:
        """Findings for a refused request of a bulk run that is no one object's copy.

        A listing of ``where``'s bucket (s3:ListBucket), or deletions under ``where``, whose
        key may end in ``*`` to name every key below a prefix (s3:DeleteObject). ``side``:
        ``"source"`` or ``"dest"``, whose identity sent it.
        """
        by_source = side == "source"
        owners = (
            (args.get("ExpectedSourceBucketOwner"), None)
            if by_source
            else (None, args.get("ExpectedBucketOwner"))
        )  # the owner given for the side that sent it: the other is the same bucket
        return self._diagnose_without_plan(
            exc, where, where, args, by_source=by_source, operation=exc.operation or "",
            owners=owners,
        )  # fmt: skip

    def _diagnose_without_plan(
        self,
        exc: AccessDeniedError,
        source: S3Location,
        dest: S3Location,
        args: Mapping[str, Any],
        *,
        by_source: bool,
        operation: str,
        owners: tuple[str | None, str | None],
    ) -> tuple[Finding, ...]:
        """Diagnose a refusal with no plan or source facts: what the request and args say.

        ``by_source``: the source's client sent it; STS (asked with the destination's
        client) does not say who that is when the two clients differ.
        """
        caller, refused = self._identity(by_source)
        context = DenialContext(
            operation=operation,
            code=exc.code or "",
            message=aws_message(exc),
            strategy="single",
            size=None,
            source=source,
            dest=dest,
            caller_arn=caller,
            credentials_refused=refused,
            source_bucket_owner=owners[0],
            dest_bucket_owner=owners[1],
            region=self.region,
            partition=partition_for(self.region),
            request_payer="RequestPayer" in args,
        )
        return diagnose(context)

    def execute(
        self,
        plan: CopyPlan,
        facts: SourceFacts,
        *,
        resume: ResumeState | None = None,
        observer: MultipartObserver | None = None,
        keep_upload_on_interrupt: bool = False,
        attempt: Attempt | None = None,
    ) -> CopyResult:
        """Carry out ``plan`` (no fallback here) and verify the result."""
        attempt = attempt if attempt is not None else Attempt()
        started = time.monotonic()
        if plan.strategy == "single":
            answer = self._copy_object(plan, facts.etag, since="it was inspected")
            written: Mapping[str, Any] = answer.get("CopyObjectResult", {})
            self._emit(BytesCopied(str(plan.source), str(plan.dest), 1, plan.size))
        elif plan.strategy == "multipart":
            answer = self._copy_multipart(
                plan, facts, resume, observer or MultipartObserver(), keep_upload_on_interrupt,
                attempt,
            )  # fmt: skip
            written = answer
        elif plan.strategy == "stream":
            copier = StreamCopier(self, plan, facts, every_part_read=resume is None)
            if plan.part_size is None:
                answer = copier.put()
                self._emit(BytesCopied(str(plan.source), str(plan.dest), 1, plan.size))
            else:
                answer = self._copy_multipart(
                    plan, facts, resume, observer or MultipartObserver(), keep_upload_on_interrupt,
                    attempt, work=copier.upload_part, before_complete=copier.finish,
                )  # fmt: skip
            written = answer
        else:
            raise S3xCopyError(f"strategy {plan.strategy!r} is not available in this engine")
        etag = _quoted(written.get("ETag") or answer.get("ETag") or "")
        version_id = answer.get("VersionId")
        # One CopyObject whose ETag is the source's plain MD5 proves the bytes (as for a
        # listed copy): no HeadObject. Anything else is checked by _verify.
        proven = plan.strategy == "single" and etag_proves_copy(facts.etag, answer)
        if self.config.verify and not proven:
            etag = self._verify(plan, facts, written, version_id) or etag
        return CopyResult(
            source=str(plan.source),
            dest=str(plan.dest),
            strategy=plan.strategy,
            size=plan.size,
            part_size=plan.part_size,
            parts=plan.part_count,
            etag=etag,
            version_id=version_id,
            seconds=time.monotonic() - started,
        )

    def _copy_multipart(
        self,
        plan: CopyPlan,
        facts: SourceFacts,
        resume: ResumeState | None,
        observer: MultipartObserver,
        keep_upload_on_interrupt: bool,
        attempt: Attempt,
        *,
        work: PartWork | None = None,
        before_complete: BeforeComplete | None = None,
    ) -> dict[str, Any]:
        """One multipart upload, aborted on any failure; ``work`` sends each part.

        The default work is UploadPartCopy; the stream strategy passes its own (read, then
        UploadPart) and ``before_complete`` (its checksum checks and Complete arguments).
        """
        done: dict[int, PartEntry] = {}
        upload_id = None
        if resume is not None:
            upload_id, done = self._resume(plan, facts, resume, observer)
        if upload_id is None:
            created = self.dest("CreateMultipartUpload", **plan.requests.create_multipart)
            upload_id = str(created["UploadId"])
            attempt.proven.add("CreateMultipartUpload")
            attempt.dest_key_arn = created.get("SSEKMSKeyId")
            attempt.dest_bucket_key = bool(created.get("BucketKeyEnabled", False))
            observer.upload_started(plan, upload_id, facts.etag)
        try:
            entries = self._copy_parts(plan, upload_id, done, observer, work)
            extra = before_complete(plan, entries) if before_complete is not None else {}
            completed = self.dest(
                "CompleteMultipartUpload",
                **plan.requests.complete_multipart,
                UploadId=upload_id,
                MultipartUpload={"Parts": [entries[n] for n in sorted(entries)]},
                **extra,
            )
        except BaseException as exc:
            interrupted = isinstance(exc, KeyboardInterrupt | CopyInterruptedError)
            if interrupted and keep_upload_on_interrupt:
                raise
            problem = self._abort(plan, upload_id)
            if problem and isinstance(exc, S3xCopyError):
                exc.message += "; " + problem
                exc.args = (exc.message,)
            observer.upload_finished(plan, upload_id)
            if isinstance(exc, SourceChangedError):
                raise SourceChangedError(
                    f"source {plan.source} changed during the copy (its ETag is no longer "
                    f"{facts.etag}); "
                    + (problem or "the upload was aborted and nothing was written"),
                    operation=exc.operation,
                    code=exc.code,
                ) from exc.__cause__
            raise
        observer.upload_finished(plan, upload_id)
        self.tag_written(plan, completed.get("VersionId"))
        return completed

    def tag_written(self, plan: CopyPlan, version_id: str | None) -> None:
        """Set tags too long to send inline on the written copy; if that fails, remove it.

        A copy without its tags looks complete to the next ``sync`` (same size, newer), which
        would skip it for ever: it is deleted (that version only), or the error says it is
        still there. Nothing to do when the tags went inline.
        """
        if plan.requests.put_tagging is None:
            return
        tagging = dict(plan.requests.put_tagging)
        if version_id:
            tagging["VersionId"] = version_id
        try:
            self.dest("PutObjectTagging", **tagging)
        except S3xCopyError as exc:
            if self._remove_bad_copy(plan, version_id):
                exc.message += "; the copy, written without its tags, was deleted"
            else:
                version = (
                    f" --version-id {version_id}" if version_id and version_id != "null" else ""
                )
                exc.message += (
                    "; the copy is there WITHOUT its tags and could not be deleted: delete it "
                    f"with 'aws s3api delete-object --bucket {plan.dest.bucket} --key "
                    f"{plan.dest.key}{version}'"
                )
            exc.args = (exc.message,)
            raise

    def _resume(
        self,
        plan: CopyPlan,
        facts: SourceFacts,
        resume: ResumeState,
        observer: MultipartObserver,
    ) -> tuple[str | None, dict[int, PartEntry]]:
        """Parts already copied by an earlier run, per S3 (ListParts), not per memory."""
        if (
            resume.source_etag != facts.etag
            or resume.part_size != plan.part_size
            or (resume.strategy == "stream") != (plan.strategy == "stream")
        ):
            self.abort_upload(plan, resume.upload_id)
            observer.upload_finished(plan, resume.upload_id)
            return None, {}
        sizes = {p.number: p.size for p in plan.parts}
        done: dict[int, PartEntry] = {}
        marker = 0
        try:
            for _ in range(len(plan.parts) // 1000 + 2):  # ListParts pages hold up to 1,000 parts
                page = self.dest(
                    "ListParts",
                    **plan.requests.abort_multipart,
                    UploadId=resume.upload_id,
                    PartNumberMarker=marker,
                )
                for part in page.get("Parts", []):
                    number = int(part["PartNumber"])
                    if sizes.get(number) == int(part["Size"]):
                        done[number] = _part_entry(number, part)
                if not page.get("IsTruncated"):
                    break
                marker = int(page.get("NextPartNumberMarker") or 0)
        except NotFoundError:
            observer.upload_finished(plan, resume.upload_id)
            return None, {}
        return resume.upload_id, done

    def _copy_parts(
        self,
        plan: CopyPlan,
        upload_id: str,
        done: dict[int, PartEntry],
        observer: MultipartObserver,
        work: PartWork | None = None,
    ) -> dict[int, PartEntry]:
        """Copy every missing part (``work``, default UploadPartCopy), ``max_concurrency`` at most.

        A task holds its part's bytes only while it runs (the stream's case), so the bound on
        tasks in flight is also the bound on memory.
        """
        work = work or self._copy_part
        operation = "UploadPart" if plan.strategy == "stream" else "UploadPartCopy"
        entries = dict(done)
        pending = iter([p for p in plan.parts if p.number not in done])
        abandon = threading.Event()  # this copy only: self.cancel may be shared
        # Stream parts are bytes in memory: max_concurrency bounds them. Server-side parts
        # cost the client nothing but a request: server_side_concurrency (64 by default).
        limit = (
            self.config.max_concurrency
            if plan.strategy == "stream"
            else self.config.server_side_concurrency
        )
        own = self.executor is None
        executor = self.executor or ThreadPoolExecutor(
            max_workers=max(1, min(limit, len(plan.parts))), thread_name_prefix="s3xcopy-part"
        )
        in_flight: dict[Future[PartEntry], PartRange] = {}

        def submit_next() -> None:
            part = next(pending, None)
            if part is not None:
                future = executor.submit(work, plan, upload_id, part, abandon)
                in_flight[future] = part

        try:
            for _ in range(limit):
                submit_next()
            while in_flight:
                finished, _ = wait(in_flight, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
                if self.cancel.is_set():
                    raise CopyInterruptedError(
                        f"copy of {plan.source} was interrupted", operation=operation
                    )
                for future in finished:
                    part = in_flight.pop(future)
                    entry = future.result()
                    entries[part.number] = entry
                    observer.part_done(plan, upload_id, entry)
                    self._emit(
                        BytesCopied(str(plan.source), str(plan.dest), part.number, part.size)
                    )
                    submit_next()
        except BaseException:
            abandon.set()  # stop sibling parts' retries; they must not outlive the upload
            for future in in_flight:
                future.cancel()
            wait(in_flight, timeout=DRAIN_SECONDS)
            raise
        finally:
            if own:
                executor.shutdown(wait=False, cancel_futures=True)
        return entries

    def _copy_part(
        self, plan: CopyPlan, upload_id: str, part: PartRange, abandon: threading.Event
    ) -> PartEntry:
        if self.cancel.is_set() or abandon.is_set():
            raise CopyInterruptedError(f"copy of {plan.source} was interrupted")
        answer = self.dest(
            "UploadPartCopy",
            abandon=abandon,
            **plan.requests.upload_part_copy,
            UploadId=upload_id,
            PartNumber=part.number,
            CopySourceRange=part.range_header,
        )
        return _part_entry(part.number, answer.get("CopyPartResult", {}))

    def abort_upload(self, plan: CopyPlan, upload_id: str) -> None:
        """Abort an upload this engine (or a canary) created; raise if it could not be."""
        problem = self._abort(plan, upload_id)
        if problem:
            raise S3xCopyError(problem, operation="AbortMultipartUpload")

    def _abort(self, plan: CopyPlan, upload_id: str) -> str | None:
        """Abort the upload, again if a straggling part re-created it.

        Returns None once the upload is gone, else a sentence saying why it is not
        and the command that removes it.
        """
        for _ in range(ABORT_ROUNDS):
            try:
                self._cleanup(
                    "AbortMultipartUpload", **plan.requests.abort_multipart, UploadId=upload_id
                )
            except NotFoundError:
                return None  # already gone
            except S3xCopyError as exc:
                return (
                    f"the multipart upload {upload_id} could NOT be aborted ({exc}): "
                    f"abort it with 'aws s3api abort-multipart-upload --bucket "
                    f"{plan.dest.bucket} --key {plan.dest.key} --upload-id {upload_id}'"
                )
            try:  # S3 docs: a part in flight during the abort can leave the upload behind
                self._cleanup(
                    "ListParts", **plan.requests.abort_multipart, UploadId=upload_id, MaxParts=1
                )
            except S3xCopyError:
                return None  # NoSuchUpload: gone (or we may not list parts: the abort succeeded)
        return None

    # --- verification -------------------------------------------------------------------

    def _verify(
        self,
        plan: CopyPlan,
        facts: SourceFacts,
        written: Mapping[str, Any],
        version_id: str | None,
    ) -> str | None:
        """Check the destination against the source: size, and full-object checksum.

        The checksum comes from the write's own answer when S3 returned one; HeadObject
        (without checksum mode, which would need kms:Decrypt on the destination key)
        supplies the size. A destination we may not read is reported, not failed.
        """
        head_args = dict(plan.requests.head_dest)
        head_args.pop("ChecksumMode", None)
        if version_id and version_id != "null":  # "null": unversioned; the latest is ours
            head_args["VersionId"] = version_id
        head: Mapping[str, Any] | None
        try:
            head = self.dest("HeadObject", **head_args)
        except AccessDeniedError:
            head = None
        problems = []
        if head is not None and int(head.get("ContentLength", -1)) != facts.size:
            problems.append(f"size {head.get('ContentLength')} != source size {facts.size}")
        dest_checksum = checksum_from(written) or (checksum_from(head) if head else None)
        source_checksum = facts.checksum
        if (
            dest_checksum is not None
            and source_checksum is not None
            and source_checksum.comparable_with(dest_checksum)
            and source_checksum.value != dest_checksum.value
        ):
            problems.append(
                f"{dest_checksum.algorithm} {dest_checksum.value} "
                f"!= source's {source_checksum.value}"
            )
        if problems:
            removed = self._remove_bad_copy(plan, version_id)
            raise VerificationError(
                f"verification failed for {plan.dest}: {'; '.join(problems)}"
                + ("; the bad copy was deleted" if removed else "; the bad copy is still there"),
                operation="HeadObject",
            )
        return _quoted(head["ETag"]) if head is not None and head.get("ETag") else None

    def _remove_bad_copy(self, plan: CopyPlan, version_id: str | None) -> bool:
        """Delete a copy that failed its checks (that version only, when versioned).

        With the destination's owner check and who pays, as every request of the copy.
        """
        args: dict[str, Any] = dict(plan.requests.abort_multipart)  # bucket, key, owner, payer
        if version_id and version_id != "null":
            args["VersionId"] = version_id
        with contextlib.suppress(S3xCopyError):
            self._cleanup("DeleteObject", **args)
            return True
        return False

    # --- diagnosis context --------------------------------------------------------------

    def denial_context(
        self,
        exc: S3xCopyError,
        plan: CopyPlan,
        facts: SourceFacts | None,
        args: Mapping[str, Any],
        attempt: Attempt | None = None,
    ) -> DenialContext:
        """What diagnosis needs to know about a refused request of this copy."""
        attempt = attempt or Attempt()
        operation = exc.operation or ""
        dest_key = attempt.dest_key_arn or args.get("SSEKMSKeyId")
        dest_bucket_key = attempt.dest_bucket_key
        if dest_key is None and args.get("ServerSideEncryption") is None:
            dest_key, dest_bucket_key = self._default_key(plan.dest.bucket, dest_bucket_key)
        caller, refused = self._caller_for(plan, operation)
        return DenialContext(
            operation=operation,
            code=exc.code or "",
            message=aws_message(exc),
            strategy=plan.strategy,
            size=plan.size,
            source=plan.source,
            dest=plan.dest,
            caller_arn=caller,
            credentials_refused=refused,
            source_bucket_owner=args.get("ExpectedSourceBucketOwner"),
            dest_bucket_owner=args.get("ExpectedBucketOwner"),
            source_key_arn=facts.sse_kms_key_id if facts else None,
            source_bucket_key_enabled=facts.bucket_key_enabled if facts else False,
            dest_key_arn=dest_key,
            dest_bucket_key_enabled=bool(args.get("BucketKeyEnabled", dest_bucket_key)),
            region=self.region,
            partition=partition_for(self.region),
            flags=request_flags(plan, facts, operation),
            proven=frozenset(attempt.proven),
            sent_acl=args.get("ACL"),
            request_payer="RequestPayer" in args,
        )

    def _default_key(self, bucket: str, bucket_key: bool) -> tuple[str | None, bool]:
        """The destination bucket's default KMS key, if we may read it (diagnosis only)."""
        if bucket not in self._default_keys:
            found: tuple[str | None, bool] = (None, False)
            with contextlib.suppress(S3xCopyError):
                answer = self._cleanup("GetBucketEncryption", Bucket=bucket)
                for rule in answer.get("ServerSideEncryptionConfiguration", {}).get("Rules", []):
                    default = rule.get("ApplyServerSideEncryptionByDefault", {})
                    if default.get("KMSMasterKeyID"):
                        found = (
                            str(default["KMSMasterKeyID"]),
                            bool(rule.get("BucketKeyEnabled", False)),
                        )
            self._default_keys[bucket] = found
        key, enabled = self._default_keys[bucket]
        return key, enabled or bucket_key

    def _caller_for(self, plan: CopyPlan, operation: str) -> tuple[str | None, str | None]:
        """The caller of a refused request of ``plan``, and STS's code if it refused its
        credentials: a stream reads the source with the source's client."""
        return self._identity(plan.strategy == "stream" and operation == "GetObject")

    def _identity(self, by_source: bool) -> tuple[str | None, str | None]:
        """Who sent a refused request, and STS's code if it refused their credentials.

        ``by_source``: the source's client sent it. When that is a client of its own, STS
        (asked with the destination's credentials) cannot say who it is: only whether its
        own credentials are refused, asked with them.
        """
        if by_source and self.source.client is not self.dest.client:
            return None, self.source_refusal()
        caller = self.caller_arn()  # asks STS, which sets _credentials_refused
        return caller, self._credentials_refused

    def close(self) -> None:
        """Close the connections the engine opened itself (the lean sender's native pool).

        botocore's clients close their own pools when they are collected; the engine
        stays usable (a later request opens a new connection).
        """
        close = getattr(self._lean_copy, "close", None)
        if callable(close):
            close()

    def _copy_object(self, plan: CopyPlan, etag: str, *, since: str) -> Mapping[str, Any]:
        """One pinned CopyObject; a refused pin says the source changed since ``since``."""
        try:
            return self.dest("CopyObject", **plan.requests.copy_object)
        except SourceChangedError as exc:
            raise SourceChangedError(
                f"source {plan.source} changed since {since} (its ETag is no longer "
                f"{etag}); nothing was written",
                operation=exc.operation,
                code=exc.code,
            ) from exc.__cause__

    def caller_arn(self) -> str | None:
        """Who we are (STS GetCallerIdentity), asked once and only when a denial needs it.

        When STS refuses the credentials themselves (expired, unknown key, wrong secret),
        its code is kept for diagnosis: the S3 refusal was the credentials', not a policy's.
        """
        if self._caller_arn is None and self._sts_client is not None:
            arn, self._credentials_refused = _ask_sts(self._sts_client)
            self._caller_arn = arn or ""
        return self._caller_arn or None

    def source_refusal(self) -> str | None:
        """STS's code if it refuses the source's own credentials (asked once, when needed)."""
        if self._source_refusal is None:
            client = self._source_sts_client
            self._source_refusal = (_ask_sts(client)[1] if client is not None else None,)
        return self._source_refusal[0]

    def _emit(self, event: Any) -> None:
        if self.listener is not None:
            self.listener(event)


#: Request fields that vary per object but not what S3 asks permission for.
_PER_OBJECT_FIELDS = frozenset({
    "Key", "Metadata", "ContentType", "ContentEncoding", "ContentDisposition",
    "ContentLanguage", "CacheControl", "Expires", "WebsiteRedirectLocation", "Tagging",
})  # fmt: skip


def preflight_context(plan: CopyPlan, facts: SourceFacts) -> tuple[Any, ...]:
    """What a preflight's answer depends on, beyond the bucket policies of the two buckets.

    The path, the buckets, the source's encryption (its KMS key), whether there are bytes
    to read and tags to copy, and the destination's settings (SSE, KMS key, ACL, storage
    class, object lock, checksum...) as the canary's CreateMultipartUpload sends them.
    Copies with equal contexts get the same answer unless a policy names keys within the
    prefix differently; such a copy still meets its refusal and is diagnosed then.
    """
    create = plan.requests.create_multipart
    settings = tuple(sorted((k, repr(v)) for k, v in create.items() if k not in _PER_OBJECT_FIELDS))
    return (
        plan.strategy,
        plan.source.bucket,
        plan.dest.bucket,
        plan.source.version_id is not None,  # s3:GetObjectVersion
        facts.server_side_encryption,
        facts.sse_kms_key_id,
        facts.sse_customer_algorithm,
        facts.bucket_key_enabled,  # S3 Bucket Keys change the KMS calls and their context
        facts.size > 0,
        facts.tag_count > 0 or bool(facts.tags),
        "Tagging" in create,
        settings,
    )


def _ask_sts(client: Any) -> tuple[str | None, str | None]:
    """GetCallerIdentity: the caller's ARN, or STS's code when it refused the credentials.

    Both None when STS cannot say (S3-compatible endpoints have no STS; diagnosis copes).
    """
    try:
        return str(client.get_caller_identity()["Arn"]), None
    except ClientError as exc:
        code = error_code(exc)
        return None, code if code in STS_CREDENTIAL_CODES else None
    except Exception:
        return None, None


def _endpoint(client: Any) -> Endpoint | None:
    """Where a client's requests go (URL and partition); None for a client without meta."""
    meta = getattr(client, "meta", None)
    url = getattr(meta, "endpoint_url", None)
    if not isinstance(url, str):
        return None
    partition = getattr(meta, "partition", None)
    return Endpoint(url, partition if isinstance(partition, str) else "aws")


def request_flags(plan: CopyPlan, facts: SourceFacts | None, operation: str) -> frozenset[str]:
    """The request features of ``operation`` that need extra grants (policy.requirements FLAGS)."""
    requests = plan.requests
    request = requests.copy_object if operation == "CopyObject" else requests.create_multipart
    flags = set()
    if operation == "CopyObject":
        directive = requests.copy_object.get("TaggingDirective")
        if directive == "COPY" and facts is not None and facts.tag_count:
            flags.add("copy-tags")
        elif directive == "REPLACE" and requests.copy_object.get("Tagging"):
            flags.add("tagging")
    elif request.get("Tagging"):
        flags.add("tagging")
    if any(name in request for name in ACL_FIELDS):
        flags.add("acl")
    if "ObjectLockMode" in request:
        flags.add("retention")
    if "ObjectLockLegalHoldStatus" in request:
        flags.add("legal-hold")
    if "ChecksumAlgorithm" in requests.create_multipart:
        flags.add("additional-checksums")
    return frozenset(flags)


def _part_entry(number: int, answer: Mapping[str, Any]) -> PartEntry:
    """The CompleteMultipartUpload entry of a part: number, ETag, and any checksum S3 gave."""
    entry: PartEntry = {"PartNumber": number, "ETag": answer["ETag"]}
    for name in (
        "ChecksumCRC32",
        "ChecksumCRC32C",
        "ChecksumCRC64NVME",
        "ChecksumSHA1",
        "ChecksumSHA256",
    ):
        if answer.get(name):
            entry[name] = answer[name]
    return entry


def _diagnosable(exc: S3xCopyError) -> bool:
    """Failures other than AccessDenied that the catalog knows (KMS key states, KMS throttling)."""
    code = exc.code or ""
    return code.startswith("KMS.") or code in THROTTLING_CODES


def _quoted(etag: object) -> str:
    """ETags as S3's headers spell them, quoted (some servers answer bare in XML)."""
    bare = str(etag).strip('"')
    return f'"{bare}"' if bare else ""


def _merge(*groups: tuple[Finding, ...]) -> tuple[Finding, ...]:
    """Findings from several diagnoses, each once, in order."""
    seen: dict[Finding, None] = {}
    for group in groups:
        for finding in group:
            seen.setdefault(finding, None)
    return tuple(seen)
