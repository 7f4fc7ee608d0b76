"""BulkRun: list, filter, compare, copy on a pool of workers, then delete; yields outcomes.

Threads and why there are that many:
  * one controller lists (streamed), filters and compares, and puts tasks on a small
    bounded queue, so memory stays flat however many keys there are;
  * ``workers`` coordinators each copy one object at a time with the shared engine
    (HeadObject, CopyObject or the multipart flow); a multipart copy hands its parts
    to the shared part executor and waits for them, so coordinators never occupy
    the part workers they wait on (no deadlock);
  * the part executor runs UploadPartCopy requests.
Every request of all of them passes one gate (budget of requests in flight, AIMD
rates), so small objects and parts of huge ones share the budget.
Outcomes go to the caller through another bounded queue, in completion order.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import queue
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import IO, Any, TypeVar

from botocore.exceptions import EndpointConnectionError

from ..calls import DENIED_CODES, RequestGate
from ..config import CopyConfig
from ..diagnosis.messages import CREDENTIAL_CODES
from ..engine import CopyEngine
from ..errors import (
    AccessDeniedError,
    CopyInterruptedError,
    NotFoundError,
    S3xCopyError,
)
from ..facts import Checksum, checksum_from
from ..findings import Finding
from ..journal import Journal, JournalObserver, start_copy
from ..location import S3Location
from ..planning import dest_bucket_args, source_list_args, source_read_args
from ..throttle import AdaptiveGate
from .compare import SyncMode, Verdict, by_checksum, decide
from .filters import Filters
from .listing import PAGE_SIZE, ListedObject, list_objects, merge, relative
from .results import ARCHIVED, BulkSummary, ObjectOutcome

#: Tasks waiting for a worker, per worker: enough to keep them busy, few enough to stay small.
QUEUE_PER_WORKER = 2
#: Outcomes waiting for the caller to take them.
OUTCOME_QUEUE = 1024
#: Keys per DeleteObjects request (S3's maximum).
DELETE_BATCH = 1000
#: Coordinators per request slot: more than one, so the budget stays busy while a
#: coordinator plans or records; capped so a large budget does not mean hundreds of threads.
WORKERS_PER_SLOT = 2
MAX_WORKERS = 64
#: Storage classes whose objects must be restored before S3 can copy them.
ARCHIVED_CLASSES = frozenset({"GLACIER", "DEEP_ARCHIVE"})

#: Listed objects looked up in the journal at once (one query instead of one each).
LOOKUP_BATCH = 500

_END = object()
T = TypeVar("T")


def _pages(items: Iterator[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of up to ``size`` (itertools.batched, which needs Python 3.12)."""
    while True:
        page = list(itertools.islice(items, size))
        if not page:
            return
        yield page


@dataclass(frozen=True)
class BulkJob:
    """A validated bulk run: what to list, how to map keys, what to do with each object."""

    kind: str  # "cp" or "sync"
    source: S3Location
    dest: S3Location
    source_prefix: str
    dest_prefix: str
    filters: Filters
    extra_args: Mapping[str, Any]
    config: CopyConfig
    dryrun: bool = False
    delete: bool = False
    mode: SyncMode = "default"
    force_glacier_transfer: bool = False
    #: Keys per listing request (MaxKeys; S3 answers at most 1,000).
    page_size: int = PAGE_SIZE

    def source_uri(self, key: str) -> str:
        return f"s3://{self.source.bucket}/{key}"

    def dest_uri(self, key: str) -> str:
        return f"s3://{self.dest.bucket}/{key}"

    def source_list_args(self) -> dict[str, Any]:
        return source_list_args(self.extra_args)

    def dest_args(self) -> dict[str, Any]:
        return dest_bucket_args(self.extra_args)


@dataclass(frozen=True)
class _Task:
    source: ListedObject
    dest_key: str
    dest: ListedObject | None
    reason: str
    check: bool = False


class BulkRun(Iterator[ObjectOutcome]):
    """A running (or finished) bulk copy: iterate it for outcomes, or call :meth:`result`.

    Work starts on the first ``next()`` or ``result()``. Outcomes come in completion
    order; an unread outcome holds the run back (the queue is bounded), so iterate to
    the end, call ``result()``, or ``close()``. ``cancel()`` stops it: requests in
    flight finish, open multipart uploads are aborted (or, with a journal, kept to
    resume). The run's listener and gate hooks are called from its worker threads.
    """

    def __init__(
        self,
        job: BulkJob,
        engine: CopyEngine,
        *,
        gate: RequestGate | None,
        executor: Executor | None,
        journal: Journal | None,
        cancel: threading.Event,
        owns_executor: bool = True,
    ) -> None:
        self.job = job
        self.engine = engine
        self.gate = gate
        self.journal = journal
        self._executor = executor
        self._owns_executor = owns_executor
        self._cancel = cancel
        self._halt = threading.Event()  # the run failed as a whole: stop producing
        self._workers_count = max(
            2, min(MAX_WORKERS, WORKERS_PER_SLOT * job.config.server_side_concurrency)
        )
        self._tasks: queue.Queue[_Task | None] = queue.Queue(
            maxsize=QUEUE_PER_WORKER * self._workers_count
        )
        self._outcomes: queue.Queue[Any] = queue.Queue(maxsize=OUTCOME_QUEUE)
        self._lock = threading.Lock()
        self._started = False
        self._finished = False
        self._started_at = 0.0
        self._summary: BulkSummary | None = None
        self._error: S3xCopyError | None = None
        self._counts = {
            "objects": 0, "bytes": 0, "skipped": 0, "failed": 0, "deleted": 0,
            "listed": 0, "denied": 0, "delete_skipped": 0, "interrupted": 0,
        }  # fmt: skip
        self._findings: dict[Finding, None] = {}
        self._observer = JournalObserver(journal) if journal is not None else None
        self._included = 0  # source objects listed and kept by the filters, so far
        self._listing_done = threading.Event()

    # --- the caller's side --------------------------------------------------------------

    def __iter__(self) -> BulkRun:
        return self

    def __next__(self) -> ObjectOutcome:
        self._start()
        if self._finished:
            raise StopIteration
        while True:
            try:
                item = self._outcomes.get(timeout=0.5)
            except queue.Empty:
                continue
            if item is _END:
                self._finished = True
                raise StopIteration
            assert isinstance(item, ObjectOutcome)
            return item

    def result(self) -> BulkSummary:
        """Run to the end (outcomes not yet read are dropped) and return the summary."""
        for _ in self:
            pass
        return self.summary

    @property
    def summary(self) -> BulkSummary:
        """The totals; available once the outcomes have been read to the end."""
        if self._summary is None or not self._finished:
            raise RuntimeError("the run has not finished: iterate it to the end or call result()")
        return self._summary

    @property
    def sources(self) -> int | None:
        """How many source objects this run handles (one outcome each, deletions aside).

        None until the listing is complete (it is streamed): a progress bar's total.
        """
        return self._included if self._listing_done.is_set() else None

    def cancel(self) -> None:
        """Stop: no new copies; copies in flight stop at their next request."""
        self._cancel.set()

    def close(self) -> None:
        """Cancel if still running and wait for the threads to wind down."""
        with self._lock:
            never_started = not self._started
            self._started = True
        if never_started:  # nothing ran: just let go of the journal and the pool
            self._finished = True
            if self.journal is not None:
                self.journal.close()
            if self._executor is not None and self._owns_executor:
                self._executor.shutdown(wait=False)
            self.engine.close()
            return
        if not self._finished:
            self.cancel()
            for _ in self:
                pass

    def __enter__(self) -> BulkRun:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the controller -----------------------------------------------------------------

    def _start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        self._started_at = time.monotonic()
        threading.Thread(target=self._control, name="s3xcopy-bulk", daemon=True).start()

    def _control(self) -> None:
        workers = [
            threading.Thread(target=self._work, name=f"s3xcopy-object-{n}", daemon=True)
            for n in range(self._workers_count)
        ]
        for worker in workers:
            worker.start()
        spool: IO[str] | None = None
        try:
            try:
                if self.job.kind == "sync":
                    spool = self._produce_sync()
                else:
                    self._produce_copy()
            except CopyInterruptedError:
                pass
            except S3xCopyError as exc:
                self._fail_run(exc)
            except Exception as exc:  # a bug must end the run with a message, not hang it
                self._fail_run(S3xCopyError(f"internal error while listing: {exc!r}"))
            finally:
                for _ in workers:
                    self._tasks.put(None)
                for worker in workers:
                    worker.join()
            if spool is not None:
                try:
                    self._delete_phase(spool)
                except CopyInterruptedError:
                    pass
                except S3xCopyError as exc:
                    self._fail_run(exc)
        finally:
            if spool is not None:
                spool.close()
            self._finish()

    def _finish(self) -> None:
        if self.journal is not None:
            with contextlib.suppress(Exception):
                self.journal.close()
        if self._executor is not None and self._owns_executor:
            self._executor.shutdown(wait=False, cancel_futures=True)
        self.engine.close()
        stats = self.gate.stats() if isinstance(self.gate, AdaptiveGate) else None
        counts = self._counts
        self._summary = BulkSummary(
            objects=counts["objects"],
            bytes=counts["bytes"],
            skipped=counts["skipped"],
            failed=counts["failed"],
            deleted=counts["deleted"],
            seconds=time.monotonic() - self._started_at,
            listed=counts["listed"],
            denied=counts["denied"],
            delete_skipped=counts["delete_skipped"],
            dryrun=self.job.dryrun,
            interrupted=self._cancel.is_set(),
            error=self._error,
            findings=tuple(self._findings),
            throttled=stats.throttled if stats else 0,
            lowest_rate=stats.lowest_rate if stats else None,
            rate_before_throttling=stats.rate_before_first_cut if stats else None,
        )
        self._outcomes.put(_END)

    def _fail_run(self, exc: S3xCopyError) -> None:
        with self._lock:
            if self._error is None:
                self._error = exc
                self._findings.update(dict.fromkeys(exc.findings))
        self._halt.set()

    def _stop(self, exc: S3xCopyError, kind: type[S3xCopyError], reason: str, again: str) -> None:
        """End the run at ``exc``, which every object not yet started would meet too."""
        self._fail_run(
            kind(
                f"stopping: {exc}; {reason}, so the objects not yet started were not tried: run "
                f"the same command again {again} (sync, or cp with --journal, skips what was "
                "copied)",
                operation=exc.operation,
                code=exc.code,
                findings=exc.findings,
            )
        )

    def _stopping(self) -> bool:
        return self._cancel.is_set() or self._halt.is_set()

    # --- producing ----------------------------------------------------------------------

    def _listing(self, side: str) -> Iterator[tuple[str, ListedObject]]:
        job = self.job
        if side == "source":
            bucket, prefix, call = job.source.bucket, job.source_prefix, self.engine.source
            extra = job.source_list_args()
        else:
            bucket, prefix, call = job.dest.bucket, job.dest_prefix, self.engine.dest
            extra = job.dest_args()
        items = relative(
            list_objects(call, bucket, prefix, extra, page_size=job.page_size),
            prefix,
            f"s3://{bucket}/{prefix}",
        )
        try:
            for rel, item in items:
                if side == "source":
                    self._count("listed")
                if job.filters.included(bucket, item.key):
                    if side == "source":
                        self._included += 1  # only the controller thread counts
                    yield rel, item
        except AccessDeniedError as exc:
            if not exc.findings:
                where = S3Location(bucket, prefix)
                exc.findings = self.engine.diagnose_bulk_denial(exc, where, side, job.extra_args)
            raise
        if side == "source":
            self._listing_done.set()

    def _produce_copy(self) -> None:
        job = self.job
        for page in _pages(self._listing("source"), LOOKUP_BATCH):
            done: set[tuple[str, str, str]] = set()
            if self.journal is not None:
                done = self.journal.copied_among([job.source_uri(item.key) for _, item in page])
            for rel, item in page:
                if self._stopping():
                    return
                dest_key = job.dest_prefix + rel
                source_uri, dest_uri = job.source_uri(item.key), job.dest_uri(dest_key)
                if self._archived(item, dest_uri):
                    continue
                if (source_uri, item.etag, dest_uri) in done:
                    self._emit(self._skipped(item, dest_uri, "copied by an earlier run (journal)"))
                elif job.dryrun:
                    self._emit(self._dryrun(item, dest_uri, "listed"))
                else:
                    self._put(_Task(item, dest_key, None, "listed"))

    def _produce_sync(self) -> IO[str] | None:
        job = self.job
        spool = (
            tempfile.TemporaryFile("w+", encoding="utf-8", prefix="s3xcopy-delete-")  # noqa: SIM115 - closed by _control
            if job.delete
            else None
        )
        try:
            pairs = merge(self._listing("source"), self._listing("dest"))
            for rel, source, dest in pairs:
                if self._stopping():
                    break
                if source is None:
                    assert dest is not None
                    if spool is not None:
                        spool.write(json.dumps([dest.key, dest.size]) + "\n")
                    continue
                dest_key = job.dest_prefix + rel
                dest_uri = job.dest_uri(dest_key)
                if self._archived(source, dest_uri):
                    continue
                verdict, reason = decide(source, dest, job.mode)
                if verdict is Verdict.SKIP:
                    self._emit(self._skipped(source, dest_uri, reason))
                elif verdict is Verdict.COPY and job.dryrun:
                    self._emit(self._dryrun(source, dest_uri, reason))
                else:
                    self._put(_Task(source, dest_key, dest, reason, verdict is Verdict.CHECK))
        except BaseException:
            if spool is not None:
                spool.close()
            raise
        return spool

    def _archived(self, item: ListedObject, dest_uri: str) -> bool:
        """Skip (with a warning) an archived object S3 cannot copy, as ``aws s3`` does."""
        if self.job.force_glacier_transfer or item.storage_class not in ARCHIVED_CLASSES:
            return False
        source_uri = self.job.source_uri(item.key)
        warning = (
            f"Skipping {source_uri}: object is of storage class {item.storage_class}; restore "
            "it first (or pass --force-glacier-transfer if it is restored)"
        )
        self._emit(
            ObjectOutcome(
                "copy", "skipped", source_uri, dest_uri, item.size, ARCHIVED, warning=warning
            )
        )
        return True

    def _put(self, task: _Task) -> None:
        while True:
            if self._stopping():
                raise CopyInterruptedError("stopped")
            try:
                self._tasks.put(task, timeout=0.2)
                return
            except queue.Full:
                continue

    # --- working ------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            task = self._tasks.get()
            if task is None:
                return
            if self._halt.is_set():
                continue  # the run failed as a whole; the summary says why
            try:
                outcome = self._run_task(task)
            except Exception as exc:  # never lose a worker silently
                error = exc if isinstance(exc, S3xCopyError) else S3xCopyError(repr(exc))
                outcome = self._failed(task, error)
            self._emit(outcome)

    def _run_task(self, task: _Task) -> ObjectOutcome:
        dest_uri = self.job.dest_uri(task.dest_key)
        if self._cancel.is_set():
            return self._interrupted(task)
        reason = task.reason
        if task.check:
            assert task.dest is not None
            verdict, reason = by_checksum(
                task.source, task.dest, *self._checksums(task.source, task.dest_key)
            )
            if verdict is Verdict.SKIP:
                return self._skipped(task.source, dest_uri, reason)
            if self.job.dryrun:
                return self._dryrun(task.source, dest_uri, reason)
        return self._copy(task, reason)

    def _copy(self, task: _Task, reason: str) -> ObjectOutcome:
        job = self.job
        source = S3Location(job.source.bucket, task.source.key)
        dest = S3Location(job.dest.bucket, task.dest_key)
        source_uri, dest_uri = str(source), str(dest)
        resume, warning = None, None
        if self.journal is not None:
            resume, warning = start_copy(
                self.journal, self.engine, source, dest, task.source.size, job.dest_args()
            )
        try:
            result = self.engine.copy(
                source,
                dest,
                job.extra_args,
                resume=resume,
                observer=self._observer,
                keep_upload_on_interrupt=self.journal is not None,
                listed=task.source.facts(job.source.bucket),
            )
        except S3xCopyError as exc:
            if isinstance(exc, CopyInterruptedError) or self._cancel.is_set():
                return self._interrupted(task)
            if self.journal is not None:
                self.journal.forget_intent(dest_uri)
            if _dest_bucket_missing(exc):
                self._fail_run(exc)
            elif _endpoint_unreachable(exc):
                self._stop(exc, S3xCopyError, "the endpoint cannot be reached", "once it can be")
            elif _credentials_refused(exc):
                self._stop(
                    exc, AccessDeniedError, "the credentials were refused", "with valid credentials"
                )
            return dataclasses.replace(self._failed(task, exc), warning=warning)
        if self.journal is not None:
            self.journal.record_copied(source_uri, task.source.etag, dest_uri, result.size)
        return ObjectOutcome(
            "copy", "copied", source_uri, dest_uri, result.size, reason, result=result,
            warning=warning,
        )  # fmt: skip

    def _checksums(
        self, source: ListedObject, dest_key: str
    ) -> tuple[Checksum | None, Checksum | None]:
        """Both sides' full-object checksums (HeadObject with checksum mode), when readable."""
        job = self.job
        source_args = source_read_args(S3Location(job.source.bucket, source.key), job.extra_args)
        dest_args: dict[str, Any] = {"Bucket": job.dest.bucket, "Key": dest_key, **job.dest_args()}
        for name in ("SSECustomerAlgorithm", "SSECustomerKey", "SSECustomerKeyMD5"):
            if name in job.extra_args:
                dest_args[name] = job.extra_args[name]
        return _checksum(self.engine.source, source_args), _checksum(self.engine.dest, dest_args)

    # --- deleting -----------------------------------------------------------------------

    def _delete_phase(self, spool: IO[str]) -> None:
        """Delete the destination-only keys, only once every copy succeeded."""
        spool.seek(0)
        if self._stopping() or self._counts["failed"] or self._counts["interrupted"]:
            self._count("delete_skipped", sum(1 for _ in spool))
            return
        batch: list[tuple[str, int]] = []
        for line in spool:
            key, size = json.loads(line)
            batch.append((key, size))
            if len(batch) == DELETE_BATCH:
                self._delete_batch(batch)
                batch = []
        if batch:
            self._delete_batch(batch)

    def _delete_batch(self, batch: list[tuple[str, int]]) -> None:
        job = self.job
        if job.dryrun:
            for key, size in batch:
                self._emit(
                    ObjectOutcome(
                        "delete", "dryrun", None, job.dest_uri(key), size, "not at the source"
                    )
                )
            return
        if self._stopping():
            self._count("delete_skipped", len(batch))
            return
        errors: dict[str, S3xCopyError] = {}
        try:
            answer = self.engine.dest(
                "DeleteObjects",
                Bucket=job.dest.bucket,
                Delete={"Objects": [{"Key": key} for key, _ in batch], "Quiet": True},
                **job.dest_args(),
            )
        except CopyInterruptedError:
            self._count("delete_skipped", len(batch))
            return
        except S3xCopyError as exc:
            errors = {key: exc for key, _ in batch}
        else:
            for item in answer.get("Errors", ()):
                code = str(item.get("Code") or "")
                message = f"An error occurred ({code}) when calling the DeleteObjects operation: "
                message += str(item.get("Message") or "")
                kind = AccessDeniedError if code in DENIED_CODES else S3xCopyError
                errors[str(item.get("Key"))] = kind(message, operation="DeleteObjects", code=code)
        self._diagnose_deletes(errors.values())
        for key, size in batch:
            uri = job.dest_uri(key)
            error = errors.get(key)
            if error is None:
                self._emit(ObjectOutcome("delete", "deleted", None, uri, size, "not at the source"))
            else:
                self._emit(ObjectOutcome("delete", "failed", None, uri, size, error=error))

    def _diagnose_deletes(self, errors: Iterable[S3xCopyError]) -> None:
        """Findings for refused deletions: s3:DeleteObject on every key below the prefix.

        One diagnosis per batch: the grant is the same for every key, so the run prints it
        once however many deletions were refused.
        """
        denied = [e for e in errors if isinstance(e, AccessDeniedError) and not e.findings]
        if not denied:
            return
        job = self.job
        where = S3Location(job.dest.bucket, job.dest_prefix + "*")
        findings = self.engine.diagnose_bulk_denial(denied[0], where, "dest", job.extra_args)
        for error in denied:
            error.findings = findings

    # --- outcomes -----------------------------------------------------------------------

    def _skipped(self, item: ListedObject, dest_uri: str, reason: str) -> ObjectOutcome:
        source_uri = self.job.source_uri(item.key)
        return ObjectOutcome("copy", "skipped", source_uri, dest_uri, item.size, reason)

    def _dryrun(self, item: ListedObject, dest_uri: str, reason: str) -> ObjectOutcome:
        source_uri = self.job.source_uri(item.key)
        return ObjectOutcome("copy", "dryrun", source_uri, dest_uri, item.size, reason)

    def _failed(self, task: _Task, error: S3xCopyError) -> ObjectOutcome:
        return ObjectOutcome(
            "copy",
            "failed",
            self.job.source_uri(task.source.key),
            self.job.dest_uri(task.dest_key),
            task.source.size,
            task.reason,
            error=error,
        )

    def _interrupted(self, task: _Task) -> ObjectOutcome:
        return ObjectOutcome(
            "copy",
            "interrupted",
            self.job.source_uri(task.source.key),
            self.job.dest_uri(task.dest_key),
            task.source.size,
            task.reason,
        )

    def _emit(self, outcome: ObjectOutcome) -> None:
        with self._lock:
            counts = self._counts
            if outcome.status == "copied":
                counts["objects"] += 1
                counts["bytes"] += outcome.size or 0
            elif outcome.status == "dryrun":
                if outcome.action == "delete":
                    counts["deleted"] += 1
                else:
                    counts["objects"] += 1
                    counts["bytes"] += outcome.size or 0
            elif outcome.status == "deleted":
                counts["deleted"] += 1
            elif outcome.status == "skipped":
                counts["skipped"] += 1
            elif outcome.status == "interrupted":
                counts["interrupted"] += 1
            elif outcome.status == "failed":
                counts["failed"] += 1
                if isinstance(outcome.error, AccessDeniedError):
                    counts["denied"] += 1
            found = outcome.error.findings if outcome.error is not None else ()
            if outcome.result is not None:
                found = found + outcome.result.findings
            self._findings.update(dict.fromkeys(found))
        self._outcomes.put(outcome)

    def _count(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._counts[name] += amount


def _checksum(call: Any, args: dict[str, Any]) -> Checksum | None:
    """A HeadObject's full-object checksum; None when absent, unreadable or the key is gone."""
    try:
        head = call("HeadObject", **args, ChecksumMode="ENABLED")
    except (AccessDeniedError, NotFoundError):
        return None  # checksum mode may need kms:Decrypt; fall back to the default rule
    return checksum_from(head)


#: Errors that mean no connection could be made at all (botocore's class names).
UNREACHABLE = frozenset({"EndpointConnectionError", "ConnectTimeoutError"})


def _endpoint_unreachable(exc: S3xCopyError) -> bool:
    """An object's every attempt failed to connect: the endpoint is down or unreachable.

    Its retries already waited through a full backoff, so the objects after it would
    each do the same; the run stops instead of failing them one by one for hours.
    """
    return exc.code in UNREACHABLE or isinstance(exc.__cause__, EndpointConnectionError)


def _credentials_refused(exc: S3xCopyError) -> bool:
    """The credentials themselves were refused (expired mid-run, say): every object would be."""
    return isinstance(exc, AccessDeniedError) and (
        exc.code in CREDENTIAL_CODES or any(f.code == "credentials-refused" for f in exc.findings)
    )


def _dest_bucket_missing(exc: S3xCopyError) -> bool:
    """The destination bucket does not exist: every other object would fail the same way."""
    return (
        isinstance(exc, NotFoundError)
        and exc.code == "NoSuchBucket"
        and (exc.operation in ("CopyObject", "CreateMultipartUpload"))
    )
