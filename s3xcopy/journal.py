"""The journal of a run (bulk, or one object's copy): an SQLite file (WAL) that lets a
killed run carry on.

It records the objects already copied (source, source ETag, destination) and, for
multipart copies in flight, the upload id and each finished part. Running the same
command with the same journal skips what is done and resumes open uploads (the
engine asks S3 which parts exist, so a part is never copied twice). Writes that
matter for uploads (an upload about to start, started, finished) are committed at
once, so after ``kill -9`` no upload is unknown to the journal; finished objects are
committed in small batches (a lost record only means one object is copied again).

The journal is only a cache of progress: deleting it loses nothing but the resume
(open uploads of a killed run are then left to the bucket's lifecycle rule).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shlex
import sqlite3
import threading
import time
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from .engine import CopyEngine, MultipartObserver, PartEntry, ResumeState
from .errors import CopyInterruptedError, InvalidInputError, NotFoundError, S3xCopyError
from .facts import SourceFacts
from .location import S3Location
from .planning import CopyPlan, dest_bucket_args, multipart_sized, resolve_dest
from .results import CopyResult, Strategy

try:  # advisory lock so two runs never share one journal (POSIX only)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

#: Bumped when the tables change in a way older code cannot read.
FORMAT = "1"
#: Finished objects are committed when this many are pending, or ...
BATCH_ROWS = 1000
#: ... when the oldest pending one is this many seconds old.
BATCH_SECONDS = 0.5
#: Keys per lookup statement (SQLite allows 32,766 parameters per statement since 3.32).
ROWS_PER_STATEMENT = 500
#: An upload the journal meant to create may exist if it was created this long before the
#: intent was recorded (client and S3 clocks differ by less; SigV4 refuses 15 minutes).
ORPHAN_MARGIN_SECONDS = 900.0
#: The ``meta`` row holding a single-object run's finished copy (see record_result).
RESULT_NAME = "result"
#: CopyResult fields that describe the run that returns it, not the copy: never recorded.
RUN_FIELDS = frozenset({"findings", "skipped", "warning"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS copied (
    source TEXT PRIMARY KEY,
    etag TEXT NOT NULL,
    dest TEXT NOT NULL,
    size INTEGER NOT NULL,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS uploads (
    dest TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    upload_id TEXT,
    source_etag TEXT,
    part_size INTEGER,
    strategy TEXT,
    intent_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS parts (
    upload_id TEXT NOT NULL,
    part_number INTEGER NOT NULL,
    etag TEXT NOT NULL,
    entry TEXT NOT NULL,
    PRIMARY KEY (upload_id, part_number)
);
"""


@dataclasses.dataclass(frozen=True)
class PendingUpload:
    """A multipart upload the journal knows about for one destination key.

    ``upload_id`` is None when the run was about to create the upload and may have
    been killed before the id was recorded (an orphan upload may then exist).
    """

    dest: str
    source: str
    upload_id: str | None
    source_etag: str | None
    part_size: int | None
    #: The plan's strategy when the upload started (``multipart`` or ``stream``).
    strategy: str | None
    intent_at: float


class Journal:
    """One run's progress in an SQLite file; thread-safe (one connection behind a lock).

    Open with :meth:`open`, which checks the file belongs to the same source and
    destination; close with :meth:`close` (or use it as a context manager).
    """

    def __init__(
        self, connection: sqlite3.Connection, path: str, lock: IO[bytes] | None, readonly: bool
    ) -> None:
        self.path = path
        self.readonly = readonly
        self._db = connection
        self._lock_file = lock
        self._mutex = threading.Lock()
        self._copied_rows: list[tuple[str, str, str, int, float]] = []
        self._part_rows: list[tuple[str, int, str, str]] = []
        self._oldest_pending = 0.0
        self._closed = False
        #: False when the journal had no finished objects when opened: lookups can stop there.
        self._has_copied = True
        #: The uploads table, mirrored: it holds at most the uploads in flight when a run
        #: stopped, and asking SQLite once per object would cost a GIL hand-off each time.
        self._uploads: dict[str, PendingUpload] = {}
        self._closing = threading.Event()
        if not readonly:
            # Rows are buffered; commit them on time even when no further write comes.
            threading.Thread(target=self._flush_periodically, daemon=True).start()

    @classmethod
    def open(
        cls, path: str | os.PathLike[str], *, source: str, dest: str, readonly: bool = False
    ) -> Journal | None:
        """Open (or create) the journal at ``path`` for a run from ``source`` to ``dest``.

        ``readonly`` (for dry runs) never creates or writes the file and returns None
        when there is none. Raises InvalidInputError when the file is not a journal,
        belongs to another run, or is in use by a running s3xcopy.
        """
        path = os.fspath(path)
        if readonly and not os.path.exists(path):
            return None
        if os.path.isdir(path):
            raise InvalidInputError(f"--journal {path} is a directory, not a file")
        if not readonly:
            _drop_stale_wal(path)
        lock = None if readonly else _lock(path)
        try:
            if readonly:
                uri = "file:" + urllib.request.pathname2url(os.path.abspath(path)) + "?mode=ro"
                connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
            else:
                connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            journal = cls(connection, path, lock, readonly)
            journal._prepare(source, dest)
        except sqlite3.DatabaseError as exc:
            if lock is not None:
                lock.close()
            raise InvalidInputError(f"{path} is not an s3xcopy journal ({exc})") from exc
        except BaseException:
            if lock is not None:
                lock.close()
            raise
        return journal

    def _prepare(self, source: str, dest: str) -> None:
        db = self._db
        if not self.readonly:
            db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode survives a killed process (not a power cut): what we need.
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=5000")
            db.executescript(_SCHEMA)
        meta = dict(db.execute("SELECT name, value FROM meta").fetchall())
        if not meta:
            if not self.readonly:
                db.executemany(
                    "INSERT INTO meta (name, value) VALUES (?, ?)",
                    [("format", FORMAT), ("source", source), ("dest", dest)],
                )
            self._has_copied = False
            return
        if meta.get("format") != FORMAT:
            raise InvalidInputError(
                f"journal {self.path} has format {meta.get('format')!r}; this s3xcopy writes "
                f"format {FORMAT}: use another file"
            )
        if (meta.get("source"), meta.get("dest")) != (source, dest):
            raise InvalidInputError(
                f"journal {self.path} belongs to a run from {meta.get('source')} to "
                f"{meta.get('dest')}, not from {source} to {dest}: use another file, or delete it"
            )
        self._has_copied = db.execute("SELECT 1 FROM copied LIMIT 1").fetchone() is not None
        rows = db.execute(
            "SELECT dest, source, upload_id, source_etag, part_size, strategy, intent_at "
            "FROM uploads"
        ).fetchall()
        self._uploads = {row[0]: PendingUpload(*row) for row in rows}

    # --- finished objects ---------------------------------------------------------------

    def copied_among(self, sources: list[str]) -> set[tuple[str, str, str]]:
        """(source, etag, dest) of those ``sources`` an earlier run copied: one query a page."""
        if not self._has_copied or not sources:
            return set()
        found: set[tuple[str, str, str]] = set()
        with self._mutex:
            for start in range(0, len(sources), ROWS_PER_STATEMENT):
                chunk = sources[start : start + ROWS_PER_STATEMENT]
                marks = ", ".join("?" * len(chunk))
                found.update(
                    self._db.execute(
                        f"SELECT source, etag, dest FROM copied WHERE source IN ({marks})", chunk
                    ).fetchall()
                )
        return found

    def record_copied(self, source: str, etag: str, dest: str, size: int) -> None:
        """Remember a finished object (committed with the next batch)."""
        if self.readonly:
            return
        with self._mutex:
            self._copied_rows.append((source, etag, dest, size, time.time()))
            self._maybe_flush()

    def record_result(self, source: str, etag: str, dest: str, result: CopyResult) -> None:
        """Remember a single-object run's finished copy whole, committed at once.

        What a later run returns when it finds the copy made (:func:`journaled_copy`); what
        described this run alone (findings, warning) is not kept.
        """
        if self.readonly:
            return
        copy = {k: v for k, v in result.to_dict().items() if k not in RUN_FIELDS}
        record = {"copied": [source, etag, dest], "result": copy}
        with self._mutex:
            self._db.execute("BEGIN")
            self._flush_rows()
            self._db.execute(
                "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)",
                (RESULT_NAME, json.dumps(record)),
            )
            self._db.execute("COMMIT")

    def recorded_result(self, source: str, etag: str, dest: str) -> CopyResult | None:
        """The copy of ``source`` (with this ETag) to ``dest`` an earlier run recorded."""
        with self._mutex:
            row = self._db.execute(
                "SELECT value FROM meta WHERE name = ?", (RESULT_NAME,)
            ).fetchone()
        try:
            record = json.loads(row[0]) if row else {}
            if record.get("copied") != [source, etag, dest]:
                return None
            fields = {f.name for f in dataclasses.fields(CopyResult)} - RUN_FIELDS
            return CopyResult(**{name: record["result"][name] for name in fields})
        except (ValueError, KeyError, TypeError, AttributeError):
            return None  # not a record this code wrote: the copy is made again

    # --- uploads ------------------------------------------------------------------------

    def upload_for(self, dest: str) -> PendingUpload | None:
        """The upload recorded for ``dest`` (by an earlier, killed run), if any."""
        with self._mutex:
            return self._uploads.get(dest)

    def open_uploads(self) -> list[PendingUpload]:
        """Every upload the journal still tracks (after a clean run: none)."""
        with self._mutex:
            return list(self._uploads.values())

    def intend_upload(self, dest: str, source: str) -> None:
        """A multipart upload to ``dest`` is about to be created: say so before it exists."""
        self._set_upload(PendingUpload(dest, source, None, None, None, None, time.time()))

    def upload_started(
        self,
        dest: str,
        source: str,
        upload_id: str,
        source_etag: str,
        part_size: int | None,
        strategy: str = "multipart",
    ) -> None:
        """The upload exists: record its id before any part is copied."""
        with self._mutex:
            known = self._uploads.get(dest)
        intent_at = known.intent_at if known is not None else time.time()
        self._set_upload(
            PendingUpload(dest, source, upload_id, source_etag, part_size, strategy, intent_at)
        )

    def forget_intent(self, dest: str) -> None:
        """After a failed copy: forget the upload it meant to create if it never did."""
        pending = self.upload_for(dest)
        if pending is not None and pending.upload_id is None:
            self.forget_upload(dest)

    def forget_upload(self, dest: str) -> None:
        """Drop the record of ``dest``'s upload (and its parts): it is gone."""
        with self._mutex:
            known = self._uploads.pop(dest, None)
            if self.readonly:
                return
            self._db.execute("BEGIN")
            self._flush_rows()
            if known is not None and known.upload_id is not None:
                self._db.execute("DELETE FROM parts WHERE upload_id = ?", (known.upload_id,))
            self._db.execute("DELETE FROM uploads WHERE dest = ?", (dest,))
            self._db.execute("COMMIT")

    def _set_upload(self, upload: PendingUpload) -> None:
        """Record an upload and commit at once: after kill -9 no upload may be unknown."""
        with self._mutex:
            self._uploads[upload.dest] = upload
            if self.readonly:
                return
            self._db.execute("BEGIN")
            self._flush_rows()
            self._db.execute(
                "INSERT OR REPLACE INTO uploads (dest, source, upload_id, source_etag, "
                "part_size, strategy, intent_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                dataclasses.astuple(upload),
            )
            self._db.execute("COMMIT")

    def part_done(self, upload_id: str, entry: PartEntry) -> None:
        if self.readonly:
            return
        row = (upload_id, int(entry["PartNumber"]), str(entry["ETag"]), json.dumps(entry))
        with self._mutex:
            self._part_rows.append(row)
            self._maybe_flush()

    def parts_of(self, upload_id: str) -> dict[int, PartEntry]:
        """The parts recorded for an upload (S3's ListParts stays the authority)."""
        self.flush()
        with self._mutex:
            rows = self._db.execute(
                "SELECT part_number, entry FROM parts WHERE upload_id = ? ORDER BY part_number",
                (upload_id,),
            ).fetchall()
        return {int(number): json.loads(entry) for number, entry in rows}

    def observer(self) -> JournalObserver:
        """The engine's MultipartObserver that writes to this journal."""
        return JournalObserver(self)

    # --- lifecycle ----------------------------------------------------------------------

    def flush(self) -> None:
        """Commit everything written so far."""
        if self.readonly:
            return
        with self._mutex:
            self._write_rows()

    def close(self) -> None:
        self._closing.set()
        with self._mutex:
            if self._closed:
                return
            self._closed = True
            if not self.readonly:
                with contextlib.suppress(sqlite3.Error):
                    self._write_rows()
            self._db.close()
            if self._lock_file is not None:
                self._lock_file.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- internals ----------------------------------------------------------------------

    def _flush_periodically(self) -> None:
        while not self._closing.wait(BATCH_SECONDS):
            with self._mutex:
                if self._closed:
                    return
                with contextlib.suppress(sqlite3.Error):
                    self._write_rows()

    def _maybe_flush(self) -> None:
        now = time.monotonic()
        pending = len(self._copied_rows) + len(self._part_rows)
        if pending == 1:
            self._oldest_pending = now
        if pending >= BATCH_ROWS or now - self._oldest_pending >= BATCH_SECONDS:
            self._write_rows()

    def _write_rows(self) -> None:
        if self._copied_rows or self._part_rows:
            self._db.execute("BEGIN")
            self._flush_rows()
            self._db.execute("COMMIT")

    def _flush_rows(self) -> None:
        """Insert the buffered rows (inside the caller's transaction)."""
        if self._copied_rows:
            self._db.executemany(
                "INSERT OR REPLACE INTO copied (source, etag, dest, size, at) "
                "VALUES (?, ?, ?, ?, ?)",
                self._copied_rows,
            )
            self._copied_rows = []
        if self._part_rows:
            self._db.executemany(
                "INSERT OR REPLACE INTO parts (upload_id, part_number, etag, entry) "
                "VALUES (?, ?, ?, ?)",
                self._part_rows,
            )
            self._part_rows = []


class JournalObserver(MultipartObserver):
    """Records a multipart copy's upload id and parts as the engine makes progress."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    def upload_started(self, plan: CopyPlan, upload_id: str, source_etag: str) -> None:
        self.journal.upload_started(
            str(plan.dest), str(plan.source), upload_id, source_etag, plan.part_size, plan.strategy
        )

    def part_done(self, plan: CopyPlan, upload_id: str, entry: PartEntry) -> None:
        self.journal.part_done(upload_id, entry)

    def upload_finished(self, plan: CopyPlan, upload_id: str) -> None:
        self.journal.forget_upload(str(plan.dest))


def start_copy(
    journal: Journal,
    engine: CopyEngine,
    source: S3Location,
    dest: S3Location,
    size: int,
    dest_args: Mapping[str, Any],
) -> tuple[ResumeState | None, str | None]:
    """Before copying ``source`` to ``dest``: the upload to resume, or the intent recorded.

    The journal's open upload for ``dest`` is resumed; else, when the copy will be
    multipart, the intent to create one is committed first (a run killed before the id is
    recorded leaves an upload the next run looks for). The second value warns when an
    upload a killed run may have lost could not be cleaned up. ``dest_args``: who pays
    and the owner check, for requests to the destination. After a failed copy, call
    :meth:`Journal.forget_intent`.
    """
    resume, warning = _resume_state(journal, engine, dest, dest_args)
    if resume is None and multipart_sized(size, engine.config):
        journal.intend_upload(str(dest), str(source))
    return resume, warning


def _resume_state(
    journal: Journal, engine: CopyEngine, dest: S3Location, dest_args: Mapping[str, Any]
) -> tuple[ResumeState | None, str | None]:
    """The journal's open upload for ``dest``; an upload it may have lost is aborted."""
    pending = journal.upload_for(str(dest))
    if pending is None:
        return None, None
    if pending.upload_id and pending.source_etag and pending.part_size:
        strategy: Strategy = "stream" if pending.strategy == "stream" else "multipart"
        state = ResumeState(pending.upload_id, pending.source_etag, pending.part_size, strategy)
        return state, None
    # Killed between CreateMultipartUpload and recording its id: find and abort it.
    warning = _abort_orphans(engine, dest, pending.intent_at, dest_args)
    journal.forget_upload(str(dest))
    return None, warning


def journaled_copy(
    engine: CopyEngine,
    source: S3Location,
    dest: S3Location,
    extra_args: Mapping[str, Any],
    journal: Journal,
) -> CopyResult:
    """Copy one object with its progress in ``journal``, resumably (``cp --journal``,
    ``copy_object(journal=...)``).

    As a bulk run does for each object: when the journal recorded this source, with the
    ETag it has now, copied to this destination, nothing is copied and the recorded result
    comes back with ``skipped`` set, provided the destination still holds that copy
    (HeadObject: the same size and ETag; when this identity may not read the destination,
    the journal's word stands). An upload an earlier run left open is resumed (S3 lists
    its parts, so none is copied twice); an interruption keeps the upload for the next
    run. ``result.warning`` says what the caller should know: an upload a killed run may
    have left that could not be cleaned up, a recorded copy no longer there. The source's
    HeadObject, read first to look the copy up, is the copy's own.
    """
    target = resolve_dest(source, dest)
    try:
        facts = engine.inspect(source, extra_args)
    except S3xCopyError:
        facts = None  # the copy meets the same answer and reports it in full
    notes: list[str] = []
    if facts is not None:
        recorded, gone = recorded_copy(journal, engine, source, facts, target, extra_args)
        if recorded is not None:
            return dataclasses.replace(recorded, seconds=0.0, skipped=True)
        notes += [gone] if gone else []
    size = facts.size if facts is not None else 0  # unread: the copy fails as it would
    resume, warning = start_copy(
        journal, engine, source, target, size, dest_bucket_args(extra_args)
    )
    try:
        result = engine.copy(
            source, dest, extra_args, resume=resume, observer=journal.observer(),
            keep_upload_on_interrupt=True, inspected=facts,
        )  # fmt: skip
    except S3xCopyError as exc:
        if not isinstance(exc, CopyInterruptedError):
            journal.forget_intent(str(target))
        raise
    if facts is not None:
        journal.record_copied(str(source), facts.etag, str(target), result.size)
        journal.record_result(str(source), facts.etag, str(target), result)
    warnings = [*notes, *([warning] if warning else [])]
    return dataclasses.replace(result, warning="; ".join(warnings)) if warnings else result


def recorded_copy(
    journal: Journal,
    engine: CopyEngine,
    source: S3Location,
    facts: SourceFacts,
    target: S3Location,
    extra_args: Mapping[str, Any],
) -> tuple[CopyResult | None, str | None]:
    """The copy of ``source`` (the version ``facts`` read) to ``target`` that ``journal``
    recorded, when the destination still holds it; else None, and why it is to be made
    again (None when the journal never recorded it).

    The destination's latest version is read as a verification reads it (its SSE-C key,
    owner check and payer; no checksum mode, which would need kms:Decrypt): the same size
    and ETag. Any answer but NotFound or another object leaves the journal's word standing.
    """
    recorded = journal.recorded_result(str(source), facts.etag, str(target))
    if recorded is None:
        return None, None
    try:
        plan = engine.plan_from_facts(facts, target, extra_args)
    except S3xCopyError:
        return recorded, None  # the copy would be refused now as then: the journal stands
    head_args = dict(plan.requests.head_dest)
    head_args.pop("ChecksumMode", None)
    again = "; copying it again"
    try:
        head = engine.dest("HeadObject", **head_args)
    except NotFoundError:
        return None, f"{target}: the copy an earlier run made is no longer there{again}"
    except S3xCopyError:
        return recorded, None  # may not be read (a write-only role), or not now
    etag = str(head.get("ETag") or "").strip('"')
    if int(head.get("ContentLength", -1)) != recorded.size or etag != recorded.etag.strip('"'):
        return None, f"{target}: the destination is no longer the copy an earlier run made{again}"
    return recorded, None


def _abort_orphans(
    engine: CopyEngine, dest: S3Location, intent_at: float, dest_args: Mapping[str, Any]
) -> str | None:
    """Abort the uploads a killed run may have started for ``dest``; a warning if it could
    not (cleanup never stops the copy itself)."""
    try:
        answer = engine.dest(
            "ListMultipartUploads", Bucket=dest.bucket, Prefix=dest.key, **dest_args
        )
        for upload in answer.get("Uploads", ()):
            initiated = upload.get("Initiated")
            started = initiated.timestamp() if initiated is not None else intent_at
            if upload.get("Key") == dest.key and started >= intent_at - ORPHAN_MARGIN_SECONDS:
                engine.dest(
                    "AbortMultipartUpload",
                    Bucket=dest.bucket,
                    Key=dest.key,
                    UploadId=upload["UploadId"],
                    **dest_args,
                )
    except S3xCopyError as exc:
        return (
            f"an upload the interrupted run may have started for {dest} could not be "
            f"cleaned up ({exc.code or 'error'} on {exc.operation or 'a request'}): list "
            f"it with 'aws s3api list-multipart-uploads --bucket {dest.bucket} --prefix "
            f"{shlex.quote(dest.key)}' and abort it, or let an AbortIncompleteMultipartUpload "
            "lifecycle rule remove it"
        )
    return None


def _lock(path: str) -> IO[bytes]:
    """Hold an exclusive advisory lock on the journal for this run's lifetime."""
    try:
        handle = open(path, "ab")  # noqa: SIM115 - held open until close()
    except OSError as exc:
        raise InvalidInputError(f"cannot open journal {path}: {exc.strerror}") from exc
    if fcntl is not None:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            handle.close()
            raise InvalidInputError(
                f"journal {path} is in use by another s3xcopy run (wait for it, or use "
                "another file)"
            ) from exc
    return handle


def _drop_stale_wal(path: str) -> None:
    """The journal was deleted but its -wal/-shm were not: they belong to no file now.

    SQLite would replay a leftover WAL into a new file of the same name; deleting the
    journal must be safe, so its orphaned companions go too.
    """
    if os.path.exists(path):
        return
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            Path(path + suffix).unlink()


def iter_copied(journal: Journal) -> Iterator[tuple[str, str, str, int]]:
    """Every finished object (source, etag, dest, size), for inspection and tests."""
    with journal._mutex:
        rows = journal._db.execute(
            "SELECT source, etag, dest, size FROM copied ORDER BY source"
        ).fetchall()
    yield from rows
