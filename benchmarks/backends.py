"""The two S3 servers the workloads run on, behind one small interface.

SeaweedFS (real bytes, a real S3 server in Go) for (a) and (b); the modelled S3 (sizes
only, AWS's cost shape) for (c), (d) and the 1 GiB memory reference. Each backend seeds
the sources, counts the requests a run sends, checks what a run copied, and deletes it.
"""

from __future__ import annotations

import concurrent.futures
import os
import re
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import boto3
from botocore.config import Config

from s3xcopy.bench.costs import ModelParams
from s3xcopy.bench.process import ModelProcess
from s3xcopy.seaweed import ACCESS_KEY, SECRET_KEY, SeaweedServer

from .tools import Connection

SRC_BUCKET = "bench-src"
DST_BUCKET = "bench-dst"
_REQUESTS = re.compile(r"^SeaweedFS_s3_request_total\{[^}]*\}\s+([0-9.eE+]+)$", re.MULTILINE)


@dataclass
class RunCounters:
    """What the server saw during one run (None where the server cannot tell)."""

    requests: int | None = None
    by_operation: dict[str, int] = field(default_factory=dict)
    slowdowns: int | None = None
    max_inflight: dict[str, int] = field(default_factory=dict)
    copy_part_sizes: dict[int, int] = field(default_factory=dict)
    server_cpu_seconds: float | None = None


class _RandomReader:
    """A file-like source of ``size`` random bytes, read in chunks (never all in memory)."""

    def __init__(self, size: int) -> None:
        self.left = size

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        self.left -= n
        return os.urandom(n)


class Backend:
    """A server, its connection details, and the harness's untimed chores on it."""

    name = ""
    description = ""

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    @property
    def connection(self) -> Connection:
        raise NotImplementedError

    def client(self) -> Any:
        conn = self.connection
        return boto3.client(
            "s3",
            endpoint_url=conn.endpoint_url,
            aws_access_key_id=conn.access_key,
            aws_secret_access_key=conn.secret_key,
            region_name=conn.region,
            config=Config(retries={"mode": "standard", "total_max_attempts": 10},
                          max_pool_connections=32),
        )  # fmt: skip

    def seed(self, prefix: str, count: int, size: int) -> None:
        raise NotImplementedError

    def before_run(self) -> Any:
        """Snapshot the counters (or reset them) just before a timed run."""
        raise NotImplementedError

    def after_run(self, snapshot: Any) -> RunCounters:
        raise NotImplementedError

    def check(self, prefix: str, source: str, count: int, size: int) -> str | None:
        """None when ``prefix`` in the destination holds ``count`` objects of ``size`` bytes.

        ``source`` is the source key (one object) or prefix (many) they were copied from.
        """
        client = self.client()
        found, wrong = 0, 0
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=DST_BUCKET, Prefix=prefix)
        for page in pages:
            for item in page.get("Contents", []):
                found += 1
                wrong += item["Size"] != size
        if found != count or wrong:
            return f"destination has {found} object(s), {wrong} of the wrong size; want {count}"
        return None

    def clean(self, prefix: str) -> None:
        """Delete everything a run wrote under ``prefix`` (objects and open uploads)."""
        client = self.client()
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=DST_BUCKET, Prefix=prefix)
        for page in pages:
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                client.delete_objects(Bucket=DST_BUCKET, Delete={"Objects": keys, "Quiet": True})
        uploads = client.list_multipart_uploads(Bucket=DST_BUCKET, Prefix=prefix)
        for upload in uploads.get("Uploads", []):
            client.abort_multipart_upload(
                Bucket=DST_BUCKET, Key=upload["Key"], UploadId=upload["UploadId"]
            )


class SeaweedBackend(Backend):
    name = "seaweedfs"
    description = "SeaweedFS (weed mini, real bytes, on this machine)"

    def __init__(self) -> None:
        self.server = SeaweedServer()

    def start(self) -> None:
        self.server.start()
        client = self.client()
        for bucket in (SRC_BUCKET, DST_BUCKET):
            client.create_bucket(Bucket=bucket)

    def stop(self) -> None:
        self.server.stop()

    @property
    def connection(self) -> Connection:
        return Connection(self.server.endpoint_url, ACCESS_KEY, SECRET_KEY)

    def seed(self, prefix: str, count: int, size: int) -> None:
        client = self.client()
        if count == 1:
            reader: BinaryIO = _RandomReader(size)  # type: ignore[assignment]
            client.upload_fileobj(reader, SRC_BUCKET, prefix)
            return
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            futures = [
                pool.submit(
                    client.put_object,
                    Bucket=SRC_BUCKET,
                    Key=f"{prefix}{i:06d}",
                    Body=os.urandom(size),
                )
                for i in range(count)
            ]
            for future in futures:
                future.result()

    def check(self, prefix: str, source: str, count: int, size: int) -> str | None:
        """Count and sizes, then the bytes: real data here, so a sample must match the source."""
        problem = super().check(prefix, source, count, size)
        if problem:
            return problem
        client = self.client()
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=DST_BUCKET, Prefix=prefix)
        keys = sorted(item["Key"] for page in pages for item in page.get("Contents", []))
        window = 64 * 1024
        # A prefix: first, middle and last objects whole. One object: three 64 KiB windows.
        samples = [keys[0], keys[len(keys) // 2], keys[-1]] if count > 1 else keys
        for key in samples:
            source_key = source if count == 1 else source + key[len(prefix) :]
            ranges = [None] if size <= 3 * window else [
                f"bytes=0-{window - 1}",
                f"bytes={size // 2}-{size // 2 + window - 1}",
                f"bytes={size - window}-{size - 1}",
            ]  # fmt: skip
            for byte_range in ranges:
                extra = {"Range": byte_range} if byte_range else {}
                got = client.get_object(Bucket=DST_BUCKET, Key=key, **extra)["Body"].read()
                want = client.get_object(Bucket=SRC_BUCKET, Key=source_key, **extra)["Body"].read()
                if got != want:
                    return f"{key}: bytes {byte_range or 'all'} differ from the source"
        return None

    def _requests(self) -> int:
        with urllib.request.urlopen(self.server.metrics_url, timeout=10) as answer:
            text = answer.read().decode()
        return int(sum(float(n) for n in _REQUESTS.findall(text)))

    def _settled_requests(self, quiet: float = 0.5, limit: float = 10.0) -> int:
        """The request counter once it stops moving: SeaweedFS counts some requests late."""
        deadline = time.monotonic() + limit
        value, since = self._requests(), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.1)
            now = self._requests()
            if now != value:
                value, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet:
                break
        return value

    def _cpu_seconds(self) -> float | None:
        """CPU the server process has used (user + system), from /proc; None elsewhere."""
        pid = self.server.pid
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def before_run(self) -> Any:
        return self._settled_requests(), self._cpu_seconds()

    def after_run(self, snapshot: Any) -> RunCounters:
        requests, cpu = snapshot
        settled = self._settled_requests()  # the counter settles once the server is idle
        now = self._cpu_seconds()
        return RunCounters(
            requests=settled - int(requests),
            server_cpu_seconds=None if cpu is None or now is None else now - cpu,
        )


class ModelBackend(Backend):
    name = "model"

    def __init__(self, params: ModelParams) -> None:
        self.params = params
        self.process = ModelProcess(params)
        self.description = (
            f"modelled S3 (latency {params.latency_ms:g} ms, copy {params.copy_rate_mbps:g} MB/s "
            f"per request, {params.write_rps:g}/{params.read_rps:g} writes/reads per second "
            "per prefix)"
        )

    def start(self) -> None:
        self.process.start()
        client = self.client()
        for bucket in (SRC_BUCKET, DST_BUCKET):
            client.create_bucket(Bucket=bucket)

    def stop(self) -> None:
        self.process.stop()

    @property
    def connection(self) -> Connection:
        kwargs = self.process.client_kwargs()
        return Connection(
            kwargs["endpoint_url"], kwargs["aws_access_key_id"], kwargs["aws_secret_access_key"]
        )

    def seed(self, prefix: str, count: int, size: int) -> None:
        self.process.control.seed(SRC_BUCKET, prefix, count, size)

    def before_run(self) -> Any:
        self.process.control.reset()
        return self.process.control.stats()["server_cpu_seconds"]

    def after_run(self, snapshot: Any) -> RunCounters:
        stats = self.process.control.stats()
        return RunCounters(
            requests=int(stats["total_requests"]),
            by_operation={k: int(v) for k, v in stats["requests"].items()},
            slowdowns=int(stats["slowdowns"]),
            max_inflight={k: int(v) for k, v in stats["max_inflight"].items()},
            copy_part_sizes={int(k): int(v) for k, v in stats["copy_part_sizes"].items()},
            server_cpu_seconds=float(stats["server_cpu_seconds"]) - float(snapshot),
        )

    def clean(self, prefix: str) -> None:
        self.process.control.delete_prefix(DST_BUCKET, prefix)
