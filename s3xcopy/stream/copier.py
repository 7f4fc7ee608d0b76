"""The stream strategy's I/O: ranged GetObject with the source's client, UploadPart or
PutObject with the destination's, a full-object CRC computed on the way.

The engine runs the multipart skeleton (CreateMultipartUpload, parts at most
``max_concurrency`` in flight, CompleteMultipartUpload, abort on any failure,
resume, journal hooks); this module supplies the part work and the checks before
completion. Memory: a part's bytes live only inside the task that reads and sends
them, and no more than ``max_concurrency`` tasks run, so a copy holds at most
part size x concurrency bytes whatever the object's size.

Each part's bytes are one anonymous memory map, filled from the response in 1 MiB
reads and unmapped the moment the part is sent. Measured, the obvious alternative
(bytes on the heap, as s3transfer's in-memory upload chunks are) kept up to twice
the live buffers resident: glibc raises its mmap threshold after the first large
free, so later 16 MiB buffers come from per-thread arenas that are not trimmed. A
map is returned to the kernel at once, so peak RSS is the buffers in flight plus a
constant (``benchmarks/stream_memory.py``).
"""

from __future__ import annotations

import hashlib
import mmap
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import IncompleteReadError

from ..calls import Caller
from ..errors import CopyInterruptedError, S3xCopyError, VerificationError
from ..facts import Checksum, SourceFacts, content_md5
from ..planning import CopyPlan, PartRange
from . import checksums

if TYPE_CHECKING:
    from ..engine import CopyEngine

PartEntry = dict[str, Any]


#: Seconds a part waiting its turn to be hashed sleeps between looks at a stopped copy.
WAIT_SECONDS = 0.2
#: What a part's bytes are held in (a map, or bytes for an empty or unsized answer).
Buffer = mmap.mmap | bytes

#: Bytes moved from a response into a part's map per read: small enough to stay off the
#: part-sized allocations the maps replace, large enough to cost few calls.
READ_CHUNK = 1024 * 1024


class _Readable(Protocol):
    def read(self, amount: int | None = None) -> bytes: ...


def read_body(stream: _Readable, length: int | None) -> mmap.mmap | bytes:
    """The whole body of an answer of ``length`` bytes, in a fresh anonymous map.

    b"" when empty; the bytes as read when the answer gave no length. The map is closed
    (unmapped) when the body comes up short or the read fails, so a retry starts clean.
    """
    if length is None:
        return stream.read()
    if length <= 0:
        return b""
    buffer = mmap.mmap(-1, length)
    try:
        while (done := buffer.tell()) < length:
            chunk = stream.read(min(READ_CHUNK, length - done))
            if not chunk:
                raise IncompleteReadError(actual_bytes=done, expected_bytes=length)
            buffer.write(chunk)
        buffer.seek(0)
    except BaseException:
        buffer.close()
        raise
    return buffer


class StreamCaller(Caller):
    """A Caller for bodies: answers' bodies are read, requests' bodies rewound, per attempt.

    A connection that drops in the middle of a body (IncompleteRead, reset, timeout)
    is as transient as a 503: reading inside the attempt lets the one retry budget
    send the ranged GET again, instead of a second retry layer around the first.
    A request body is a file-like object that the previous attempt may have consumed,
    so every attempt starts it from its first byte.
    """

    def _send_once(
        self,
        method: Callable[..., Mapping[str, Any]],
        operation: str,
        bucket: str,
        key: str,
        kwargs: Mapping[str, Any],
    ) -> Mapping[str, Any]:
        def send_and_read(**request: Any) -> Mapping[str, Any]:
            sent = request.get("Body")
            if sent is not None and hasattr(sent, "seek"):
                sent.seek(0)
            answer = dict(method(**request))
            body = answer.get("Body")
            if body is not None:
                try:
                    length = answer.get("ContentLength")
                    answer["Body"] = read_body(body, None if length is None else int(length))
                finally:
                    body.close()
            return answer

        return super()._send_once(send_and_read, operation, bucket, key, kwargs)


class OrderedMd5:
    """The MD5 of parts fed in any order by parallel tasks, hashed in part order.

    MD5 does not combine as the CRCs do, so a part waits (its map kept, which
    ``max_concurrency`` already bounds) until the part before it is hashed. Parts are
    started in order, so the one waited for is always running. A copy that is stopped
    releases every waiting part.
    """

    def __init__(self, parts: int) -> None:
        self._digest = hashlib.md5(usedforsecurity=False)
        self._next = 1
        self._parts = parts
        self._turn = threading.Condition()

    def feed(self, number: int, data: Buffer, stop: Callable[[], bool]) -> None:
        """Hash part ``number`` once parts 1 .. number-1 are; raise if the copy stops first."""
        with self._turn:
            while self._next != number:
                if stop():
                    raise CopyInterruptedError("copy stopped while parts were hashed in order")
                self._turn.wait(WAIT_SECONDS)
            self._digest.update(data)
            self._next += 1
            self._turn.notify_all()

    def hexdigest(self) -> str | None:
        """The MD5 of the whole object; None until every part is hashed."""
        return self._digest.hexdigest() if self._next > self._parts else None


def source_checksum_to_match(facts: SourceFacts) -> Checksum | None:
    """The source's checksum when the streamed bytes can be checked against it, else None."""
    checksum = facts.checksum
    if (
        checksum is None
        or not checksum.known
        or not checksum.is_full_object
        or checksum.algorithm not in checksums.CRC_ALGORITHMS
    ):
        return None
    return checksum


class StreamCopier:
    """Streams one planned object: part work for the engine's multipart run, or one PutObject."""

    def __init__(
        self,
        engine: CopyEngine,
        plan: CopyPlan,
        facts: SourceFacts,
        *,
        every_part_read: bool = True,
    ) -> None:
        """``every_part_read``: this run reads every part (no upload is resumed), so the
        bytes read can be hashed in order when the source's ETag is their MD5."""
        if plan.checksum_algorithm is None:
            raise S3xCopyError(f"plan for {plan.dest} has no stream checksum algorithm")
        self.engine = engine
        self.plan = plan
        self.facts = facts
        self.algorithm = plan.checksum_algorithm
        self.field = checksums.field_name(self.algorithm)
        self.source_checksum = source_checksum_to_match(facts)
        wanted = {self.algorithm}
        if self.source_checksum is not None:
            wanted.add(self.source_checksum.algorithm)
        self.sums = checksums.PartChecksums(wanted)
        # Without a full-object checksum at the source, its ETag may still be the MD5 of
        # its bytes: then what was read is checked against it too (--no-verify skips it).
        self.source_md5 = (
            content_md5(facts, on_aws=engine.source_on_aws)
            if self.source_checksum is None and engine.config.verify
            else None
        )
        self.md5 = (
            OrderedMd5(plan.part_count)
            if self.source_md5 is not None and every_part_read and plan.part_size is not None
            else None
        )
        self.reader = StreamCaller(
            engine.source.client, engine.source.policy, listener=engine.source.listener,
            gate=engine.source.gate, cancel=engine.source.cancel,
        )  # fmt: skip
        self.writer = StreamCaller(
            engine.dest.client, engine.dest.policy, listener=engine.dest.listener,
            gate=engine.dest.gate, cancel=engine.dest.cancel,
        )  # fmt: skip

    # --- reading ------------------------------------------------------------------------

    def read(
        self, part: PartRange | None, abandon: threading.Event | None = None
    ) -> mmap.mmap | bytes:
        """The bytes of ``part`` (the whole object when None), pinned to the source's ETag.

        A map the caller must close once the bytes are sent. It is file-like, so it is
        also the upload's body: botocore streams it to the socket in blocks (a bytes body
        would be joined to the request's headers first, one more copy of every part),
        and Expect: 100-continue keeps its meaning (a refused part is not sent at all).
        """
        args = dict(self.plan.requests.get_object)
        expected = self.plan.size
        if part is not None:
            args["Range"] = part.range_header
            expected = part.size
        answer = self.reader("GetObject", abandon=abandon, **args)
        data: mmap.mmap | bytes = answer["Body"]
        if len(data) != expected:
            _close(data)
            what = f"range {part.range_header}" if part is not None else "the object"
            raise S3xCopyError(
                f"source {self.plan.source} answered {len(data)} bytes for {what}, not {expected}",
                operation="GetObject",
            )
        return data

    # --- multipart: the engine's hooks -----------------------------------------------------

    def upload_part(
        self, plan: CopyPlan, upload_id: str, part: PartRange, abandon: threading.Event
    ) -> PartEntry:
        """Read one part from the source and send it as UploadPart with its CRC."""
        if self.engine.cancel.is_set() or abandon.is_set():
            raise CopyInterruptedError(f"copy of {plan.source} was interrupted")
        data = self.read(part, abandon)
        try:
            if self.md5 is not None:
                self.md5.feed(part.number, data, lambda: self._stopped(abandon))
            crc = self.sums.add(part.number, data)[self.algorithm]
            value = checksums.encode(self.algorithm, crc)
            request: dict[str, Any] = {
                **plan.requests.upload_part,
                "UploadId": upload_id,
                "PartNumber": part.number,
                "Body": data,
                self.field: value,
            }
            answer = self.writer("UploadPart", abandon=abandon, **request)
        finally:
            _close(data)
        return {"PartNumber": part.number, "ETag": answer["ETag"], self.field: value}

    def finish(self, plan: CopyPlan, entries: dict[int, PartEntry]) -> dict[str, Any]:
        """Check the whole object's CRC against the source; CompleteMultipartUpload's checksum.

        Parts sent by an earlier run (a resumed upload) bring their CRC from ListParts when
        the server gives it; otherwise they are read again (GET only) to compute it, and
        their entries get it, so every part of the Complete request carries its checksum.
        Raises VerificationError on a mismatch, before anything is completed.
        """
        numbers = [p.number for p in plan.parts]
        for part in plan.parts:
            entry = entries[part.number]
            known = entry.get(self.field)
            if known and not self.sums.has(part.number, [self.algorithm]):
                value = checksums.decode(self.algorithm, known)
                self.sums.record(part.number, self.algorithm, value, part.size)
            if not self.sums.has(part.number):
                if self.engine.cancel.is_set():
                    raise CopyInterruptedError(f"copy of {plan.source} was interrupted")
                data = self.read(part)
                try:
                    self.sums.add(part.number, data)
                finally:
                    _close(data)
            if not known:
                value = self.sums.full(self.algorithm, [part.number])
                entry[self.field] = checksums.encode(self.algorithm, value)
        self.check_source(numbers)
        if self.md5 is not None:
            self.check_md5(self.md5.hexdigest())
        full = self.sums.full(self.algorithm, numbers)
        return {
            self.field: checksums.encode(self.algorithm, full),
            "ChecksumType": "FULL_OBJECT",
            "MpuObjectSize": plan.size,
        }

    def check_source(self, numbers: list[int]) -> None:
        """Compare the CRC of the bytes read with the source's own full-object checksum."""
        expected = self.source_checksum
        if expected is None:
            return
        got = checksums.encode(expected.algorithm, self.sums.full(expected.algorithm, numbers))
        if got != expected.value:
            raise VerificationError(
                f"the bytes read from {self.plan.source} have {expected.algorithm} {got}, "
                f"not the source's {expected.value}: corrupted in transit; nothing was written",
                operation="GetObject",
                code="ChecksumMismatch",
            )

    def check_md5(self, got: str | None) -> None:
        """Compare the MD5 of the bytes read with the source's ETag (when it is their MD5)."""
        expected = self.source_md5
        if expected is None or got is None or got == expected:
            return
        raise VerificationError(
            f"the bytes read from {self.plan.source} have MD5 {got}, not the source's ETag "
            f"{expected}: corrupted in transit; nothing was written (if this server's ETags "
            "are not MD5s of the bytes, --no-verify skips this check)",
            operation="GetObject",
            code="ChecksumMismatch",
        )

    def _stopped(self, abandon: threading.Event) -> bool:
        return abandon.is_set() or self.engine.cancel.is_set()

    # --- small objects: one PutObject ---------------------------------------------------

    def put(self) -> dict[str, Any]:
        """GetObject the whole (small) object, check it, PutObject it with its checksum."""
        plan = self.plan
        data = self.read(None) if plan.size else b""
        try:
            self.sums.add(1, data)
            self.check_source([1])
            if self.source_md5 is not None:
                self.check_md5(hashlib.md5(data, usedforsecurity=False).hexdigest())
            value = checksums.encode(self.algorithm, self.sums.full(self.algorithm, [1]))
            request: dict[str, Any] = {**plan.requests.put_object, "Body": data, self.field: value}
            answer = self.writer("PutObject", **request)
        finally:
            _close(data)
        self.engine.tag_written(plan, answer.get("VersionId"))
        return answer


def _close(data: mmap.mmap | bytes) -> None:
    """Unmap a part's buffer now (bytes have nothing to release)."""
    if isinstance(data, mmap.mmap):
        data.close()
