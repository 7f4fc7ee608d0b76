"""``s3xcopy demo``: the whole tool on an embedded local S3 (SeaweedFS), no AWS account needed."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import boto3

from ..api import build_engine, copy_object
from ..config import CopyConfig
from ..errors import S3xCopyError
from ..lab import LabServer
from ..limits import MiB
from ..location import S3Location
from ..preflight import run_preflight
from ..results import CopyResult
from ..seaweed import SeaweedServer
from ..units import format_size
from .exitcodes import ExitCode, exit_code_for
from .preflight import render
from .printers import Printer

SOURCE_BUCKET = "demo-src"
DEST_BUCKET = "demo-dst"
#: The seed's two copies: one that works (one CopyObject) and one that fails (multipart).
ORIGINAL_OBJECTS = (("1mb.dat", 1 * MiB), ("64mb.dat", 64 * MiB))
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
            "UploadPartCopy) and show what arrived; then replay the original cross-account "
            "KMS failure on the policy lab: aws s3 cp's engine fails at UploadPartCopy, "
            "s3xcopy names kms:Decrypt in both policies, falls back and copies, and preflight "
            "predicts the same before any copy. Stops every server it started."
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
    _say()
    return _original_case(server)


def _lab_session(lab: LabServer, principal: str) -> boto3.session.Session:
    kwargs = lab.client_kwargs(principal)
    return boto3.session.Session(
        aws_access_key_id=kwargs["aws_access_key_id"],
        aws_secret_access_key=kwargs["aws_secret_access_key"],
        region_name=kwargs["region_name"],
    )


def _original_case(server: SeaweedServer) -> int:
    """The seed's failure on the policy lab: aws s3 cp fails, s3xcopy explains and copies."""
    _say("== The original case (policy lab, in front of the same SeaweedFS) ==")
    with LabServer("original", backend_url=server.endpoint_url) as lab:
        _say(
            f"lab at {lab.endpoint_url}: EC2Role in account 123456789012 copies into cp-dst "
            "(account 987654321098),"
        )
        _say(
            "encrypted by default with a customer managed key; the key policy and EC2Role's "
            "policy lack kms:Decrypt (the write-up minus kms:Decrypt)"
        )
        session = _lab_session(lab, "EC2Role")
        s3 = session.client("s3", endpoint_url=lab.endpoint_url)
        for key, size in ORIGINAL_OBJECTS:
            s3.put_object(Bucket="cp-src", Key=key, Body=os.urandom(size))
        _say()
        _say("aws s3 cp's engine (s3transfer, as boto3's client.copy), threshold 8 MiB:")
        for key, size in ORIGINAL_OBJECTS:
            try:
                s3.copy({"Bucket": "cp-src", "Key": key}, "cp-dst", key)
                _say(f"  copy: s3://cp-src/{key} to s3://cp-dst/{key}  ({format_size(size)})")
            except Exception as exc:  # what aws s3 cp prints, then gives up
                _say(f"  copy failed: s3://cp-src/{key} to s3://cp-dst/{key}")
                _say(f"  {' '.join(str(exc).split())}")
        _say()
        key = ORIGINAL_OBJECTS[1][0]
        _say(f"s3xcopy cp s3://cp-src/{key} s3://cp-dst/{key}-s3xcopy")
        printer = Printer(out=sys.stdout, err=sys.stdout)
        result = copy_object(
            f"s3://cp-src/{key}",
            f"s3://cp-dst/{key}-s3xcopy",
            session=session,
            endpoint_url=lab.endpoint_url,
            listener=printer.handle,
        )
        admin = _lab_session(lab, "DstAdmin").client("s3", endpoint_url=lab.endpoint_url)
        head = admin.head_object(Bucket="cp-dst", Key=f"{key}-s3xcopy")
        _say(
            f"arrived: {result.dest} ({format_size(head['ContentLength'])}, "
            f"{head.get('ServerSideEncryption')} {head.get('SSEKMSKeyId')}), "
            f"strategy {result.strategy}"
        )
        _say()
        _say(f"s3xcopy preflight s3://cp-src/{key} s3://cp-dst/{key}-next  (before any copy)")
        engine = build_engine(CopyConfig(), session=session, endpoint_url=lab.endpoint_url)
        report = run_preflight(
            engine, S3Location("cp-src", key), S3Location("cp-dst", f"{key}-next")
        )
        for line in render(report):
            if not line.startswith(("  missing grant", "    ", "      ")):
                _say(f"  {line}")
        _say(
            f"  -> exit {int(ExitCode.OK if report.clear else ExitCode.ACCESS_DENIED)}: the "
            "multipart path needs kms:Decrypt on the destination key, in both policies above"
        )
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
