"""``s3xcopy demo``: the whole tool on an embedded local S3 (SeaweedFS), no AWS account needed."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import boto3

from ..api import copy_object
from ..errors import S3xCopyError
from ..limits import MiB
from ..results import CopyResult
from ..seaweed import SeaweedServer
from ..units import format_size
from .exitcodes import ExitCode, exit_code_for

SOURCE_BUCKET = "demo-src"
DEST_BUCKET = "demo-dst"
OBJECTS = (
    ("reports/small-1MiB.csv", 1 * MiB, "text/csv"),
    ("reports/large-64MiB.parquet", 64 * MiB, "application/vnd.apache.parquet"),
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run s3xcopy against an embedded local S3 server (SeaweedFS)",
        description=(
            "Start SeaweedFS on 127.0.0.1 in a temporary directory, put a 1 MiB and a 64 MiB "
            "object with metadata and tags, copy both (single CopyObject and multipart "
            "UploadPartCopy), show what arrived, and stop the server."
        ),
    )
    parser.set_defaults(run=run)


def _say(text: str = "") -> None:
    print(text, flush=True)


def _describe(result: CopyResult) -> str:
    rate = result.size / result.seconds / MiB if result.seconds else 0.0
    shape = (
        "1 CopyObject"
        if result.strategy == "single"
        else f"{result.parts} parts of {format_size(result.part_size or 0)}"
    )
    return f"strategy {result.strategy}, {shape}, {result.seconds:.2f} s ({rate:.0f} MiB/s)"


def run(args: argparse.Namespace) -> int:
    del args
    _say("s3xcopy demo: a real S3 server (SeaweedFS) on 127.0.0.1; no AWS account needed")
    try:
        with SeaweedServer() as server:
            _say(f"started SeaweedFS at {server.endpoint_url} (pid {server.pid})")
            return _tour(server)
    except S3xCopyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return int(exit_code_for(exc))
    finally:
        _say("stopped SeaweedFS")


def _tour(server: SeaweedServer) -> int:
    kwargs = server.client_kwargs()
    session = boto3.session.Session(
        aws_access_key_id=kwargs["aws_access_key_id"],
        aws_secret_access_key=kwargs["aws_secret_access_key"],
        region_name=kwargs["region_name"],
    )
    s3 = session.client("s3", endpoint_url=server.endpoint_url)
    for bucket in (SOURCE_BUCKET, DEST_BUCKET):
        s3.create_bucket(Bucket=bucket)
    _say(f"created buckets s3://{SOURCE_BUCKET}/ and s3://{DEST_BUCKET}/")
    for key, size, content_type in OBJECTS:
        s3.put_object(
            Bucket=SOURCE_BUCKET,
            Key=key,
            Body=os.urandom(size),
            ContentType=content_type,
            CacheControl="max-age=3600",
            Metadata={"pipeline": "nightly-etl", "owner": "data-team"},
            Tagging="classification=internal&retention=90d",
            ChecksumAlgorithm="CRC64NVME",
        )
        _say(f"put   s3://{SOURCE_BUCKET}/{key} ({format_size(size)}, metadata, 2 tags, CRC64NVME)")
    _say()
    for key, _, _ in OBJECTS:
        result = copy_object(
            f"s3://{SOURCE_BUCKET}/{key}",
            f"s3://{DEST_BUCKET}/{key}",
            session=session,
            endpoint_url=server.endpoint_url,
        )
        _say(f"copy: {result.source} to {result.dest}")
        _say(f"      {_describe(result)}")
    _say()
    _say("what arrived (compared with the source):")
    for key, _, _ in OBJECTS:
        _say(_compare(s3, key))
    return int(ExitCode.OK)


def _compare(s3: Any, key: str) -> str:
    source = s3.head_object(Bucket=SOURCE_BUCKET, Key=key, ChecksumMode="ENABLED")
    dest = s3.head_object(Bucket=DEST_BUCKET, Key=key, ChecksumMode="ENABLED")
    source_tags = s3.get_object_tagging(Bucket=SOURCE_BUCKET, Key=key)["TagSet"]
    dest_tags = s3.get_object_tagging(Bucket=DEST_BUCKET, Key=key)["TagSet"]
    checks = {
        "size": source["ContentLength"] == dest["ContentLength"],
        "CRC64NVME": source.get("ChecksumCRC64NVME") == dest.get("ChecksumCRC64NVME"),
        "content-type": source.get("ContentType") == dest.get("ContentType"),
        "cache-control": source.get("CacheControl") == dest.get("CacheControl"),
        "metadata": source.get("Metadata") == dest.get("Metadata"),
        "tags": sorted(map(str, source_tags)) == sorted(map(str, dest_tags)),
    }
    verdict = "  ".join(f"{name} {'ok' if same else 'DIFFERS'}" for name, same in checks.items())
    return f"  s3://{DEST_BUCKET}/{key}\n      {verdict}\n      metadata {dest.get('Metadata')}"
