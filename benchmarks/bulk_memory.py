"""Peak memory of a bulk copy of many objects: ``python benchmarks/bulk_memory.py --objects N``.

The S3 side is a synthetic in-process client that makes up its listing page by
page (no storage, no HTTP), so the only memory that can grow with N is s3xcopy's
own: the listing, the task and outcome queues, the journal, the summary. The whole
bulk machinery runs for real: listing, filters, the workers, the shared engine
(HeadObject, CopyObject, verify), the adaptive gate, the journal (``--journal``).

Peak RSS is the process's ``VmHWM`` (Linux; its high-water mark since ``exec``, so
a parent's memory is not counted), with ``ru_maxrss`` as the fallback elsewhere.
Prints one JSON object. ``tests/bulk/test_memory.py`` runs it and holds the bound.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import resource
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from s3xcopy.bulk import BulkRun, plan_job
from s3xcopy.config import CopyConfig
from s3xcopy.engine import CopyEngine
from s3xcopy.journal import Journal
from s3xcopy.results import CopyResult
from s3xcopy.throttle import AdaptiveGate

MiB = 1024 * 1024
SOURCE_BUCKET = "bench-src"
DEST_BUCKET = "bench-dst"
_MODIFIED = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


class _Meta:
    region_name = "us-east-1"


class SyntheticS3:
    """Just enough of an S3 client for a bulk copy; its objects exist only as numbers."""

    meta = _Meta()

    def __init__(self, objects: int) -> None:
        self.objects = objects
        self.copies = 0
        self._lock = threading.Lock()

    @staticmethod
    def _etag(key: str) -> str:
        return '"' + hashlib.md5(key.encode(), usedforsecurity=False).hexdigest() + '"'

    @staticmethod
    def _size(key: str) -> int:
        return 1024 + len(key)

    def list_objects_v2(self, **kwargs: Any) -> dict[str, Any]:
        prefix = kwargs.get("Prefix", "")
        if kwargs["Bucket"] != SOURCE_BUCKET:
            return {"IsTruncated": False, "Contents": []}
        start = int(kwargs.get("ContinuationToken") or 0)
        end = min(self.objects, start + int(kwargs.get("MaxKeys", 1000)))
        contents = []
        for n in range(start, end):
            key = f"{prefix}part-{n // 1000:05d}/object-{n:09d}.json"
            contents.append(
                {
                    "Key": key,
                    "Size": self._size(key),
                    "ETag": self._etag(key),
                    "LastModified": _MODIFIED,
                    "StorageClass": "STANDARD",
                }
            )
        answer: dict[str, Any] = {"Contents": contents, "IsTruncated": end < self.objects}
        if end < self.objects:
            answer["NextContinuationToken"] = str(end)
        return answer

    def head_object(self, **kwargs: Any) -> dict[str, Any]:
        key = kwargs["Key"]
        return {
            "ContentLength": self._size(key),
            "ETag": self._etag(key),
            "LastModified": _MODIFIED,
            "ContentType": "application/json",
            "Metadata": {"source": "synthetic"},
        }

    def copy_object(self, **kwargs: Any) -> dict[str, Any]:
        with self._lock:
            self.copies += 1
        return {"CopyObjectResult": {"ETag": self._etag(kwargs["CopySource"]["Key"])}}


class StubEngine(CopyEngine):
    """The real engine's listing calls, but a copy that sends nothing and returns at once.

    Isolates what can grow with the number of objects (the bulk layer) from the
    engine's per-object CPU cost (about a quarter of a millisecond per small object).
    """

    def copy(self, source: Any, dest: Any, extra_args: Any = None, **kwargs: Any) -> CopyResult:
        size = SyntheticS3._size(source.key)
        return CopyResult(
            str(source), str(dest), "single", size, None, 1, SyntheticS3._etag(source.key),
            None, 0.0,
        )  # fmt: skip


def peak_rss_mib() -> float:
    """This process's peak resident memory since exec, in MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return usage / (MiB if sys.platform == "darwin" else 1024)


def current_rss_mib() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak_rss_mib()


def run(objects: int, *, journal: bool, concurrency: int, engine_kind: str) -> dict[str, Any]:
    client = SyntheticS3(objects)
    config = CopyConfig(max_concurrency=concurrency)
    job = plan_job("cp", f"s3://{SOURCE_BUCKET}/data/", f"s3://{DEST_BUCKET}/copy/", config)
    cancel = threading.Event()
    gate = AdaptiveGate(config.max_concurrency, cancel=cancel)
    executor = ThreadPoolExecutor(config.max_concurrency)
    kind = StubEngine if engine_kind == "stub" else CopyEngine
    engine = kind(client, config=config, gate=gate, executor=executor, cancel=cancel)
    with tempfile.TemporaryDirectory() as tmp:
        opened = None
        if journal:
            opened = Journal.open(
                os.path.join(tmp, "journal.db"),
                source=f"s3://{SOURCE_BUCKET}/data/",
                dest=f"s3://{DEST_BUCKET}/copy/",
            )
        baseline = current_rss_mib()
        started = time.monotonic()
        bulk = BulkRun(job, engine, gate=gate, executor=executor, journal=opened, cancel=cancel)
        copied = sum(1 for outcome in bulk if outcome.status == "copied")
        seconds = time.monotonic() - started
        summary = bulk.summary
    return {
        "objects": objects,
        "copied": copied,
        "failed": summary.failed,
        "client_copies": client.copies,
        "journal": journal,
        "engine": engine_kind,
        "seconds": round(seconds, 2),
        "objects_per_second": round(objects / seconds, 1) if seconds else None,
        "rss_before_run_mib": round(baseline, 1),
        "peak_rss_mib": round(peak_rss_mib(), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=200_000)
    parser.add_argument("--journal", action="store_true", help="record progress in a journal")
    parser.add_argument("--max-concurrency", type=int, default=10)
    parser.add_argument(
        "--engine",
        choices=("real", "stub"),
        default="real",
        help="real: the copy engine against the synthetic client; stub: copies return at once",
    )
    args = parser.parse_args(argv)
    result = run(
        args.objects,
        journal=args.journal,
        concurrency=args.max_concurrency,
        engine_kind=args.engine,
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
