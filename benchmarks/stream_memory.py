"""Peak memory and throughput of the stream strategy between two S3 servers.

    python benchmarks/stream_memory.py                    # 1 GiB, 16 MiB parts x 8
    python benchmarks/stream_memory.py --size 4GiB --part-size 8MiB --concurrency 16 --json

Starts two SeaweedFS servers on 127.0.0.1 (two services: s3xcopy streams), seeds a
source object of ``--size`` (deterministic bytes, a CRC64NVME full-object checksum),
then copies it in a *child* process that measures itself: its peak RSS after a
warm-up copy (imports, botocore models, clients: the baseline) and after the real
copy (the peak). The claim checked: peak RSS < part size x concurrency + 150 MiB.

Peak RSS is the kernel's high-water mark of this process image (VmHWM in
/proc/self/status). Not ``ru_maxrss``: on Linux it survives exec, so a child
spawned by a parent that held the seeded bytes would report the parent's peak.
Exit 1 when the claim does not hold. Servers are stopped by PID however it ends.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from s3xcopy.limits import MiB  # noqa: E402
from s3xcopy.seaweed import ACCESS_KEY, REGION, SECRET_KEY, SeaweedServer  # noqa: E402
from s3xcopy.stream import checksums  # noqa: E402
from s3xcopy.units import format_size, parse_size  # noqa: E402

#: The constant of the memory claim: interpreter, boto3 and its models, two clients, threads.
ALLOWANCE = 150 * MiB
#: Bytes per seeding part (and per block of the deterministic payload).
SEED_PART = 16 * MiB
SRC_BUCKET, DST_BUCKET, KEY, WARM_UP = "stream-src", "stream-dst", "big.bin", "warm-up"


def block(number: int, size: int) -> bytes:
    """Deterministic, incompressible bytes for seeding part ``number``."""
    return random.Random(number).randbytes(size)


def seed(endpoint_url: str, size: int) -> str:
    """Create the source object (multipart, CRC64NVME full-object); return its checksum."""
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=REGION,
    )
    client.create_bucket(Bucket=SRC_BUCKET)
    upload = client.create_multipart_upload(
        Bucket=SRC_BUCKET, Key=KEY, ChecksumAlgorithm="CRC64NVME", ChecksumType="FULL_OBJECT"
    )["UploadId"]
    parts, pieces = [], []
    for number, start in enumerate(range(0, size, SEED_PART), 1):
        data = block(number, min(SEED_PART, size - start))
        value = checksums.crc("CRC64NVME", data)
        pieces.append((value, len(data)))
        encoded = checksums.encode("CRC64NVME", value)
        answer = client.upload_part(
            Bucket=SRC_BUCKET, Key=KEY, UploadId=upload, PartNumber=number, Body=data,
            ChecksumCRC64NVME=encoded,
        )  # fmt: skip
        parts.append({"PartNumber": number, "ETag": answer["ETag"], "ChecksumCRC64NVME": encoded})
    whole = checksums.encode("CRC64NVME", checksums.combine("CRC64NVME", pieces))
    client.complete_multipart_upload(
        Bucket=SRC_BUCKET, Key=KEY, UploadId=upload, MultipartUpload={"Parts": parts},
        ChecksumCRC64NVME=whole, ChecksumType="FULL_OBJECT",
    )  # fmt: skip
    client.put_object(Bucket=SRC_BUCKET, Key=WARM_UP, Body=b"w" * 1024)
    return whole


def peak_rss() -> int:
    """Bytes: this process image's peak resident set (VmHWM), else ru_maxrss (not Linux)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    scale = 1 if sys.platform == "darwin" else 1024  # macOS reports bytes, Linux KiB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def child(args: argparse.Namespace) -> int:
    """Copy in this process and print what it cost (JSON): baseline, peak, seconds."""
    import boto3

    from s3xcopy import CopyConfig, copy_object

    session = boto3.session.Session(
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=REGION
    )
    config = CopyConfig(part_size=args.part_size, max_concurrency=args.concurrency)
    common: dict[str, Any] = {
        "config": config,
        "session": session,
        "endpoint_url": args.dest,
        "source_endpoint_url": args.source,
    }
    source = f"s3://{args.source_bucket}"
    copy_object(f"{source}/{WARM_UP}", f"s3://{args.bucket}/{WARM_UP}", **common)
    baseline = peak_rss()
    started = time.monotonic()
    result = copy_object(f"{source}/{args.key}", f"s3://{args.bucket}/{args.key}", **common)
    seconds = time.monotonic() - started
    peak = peak_rss()
    print(
        json.dumps(
            {
                "strategy": result.strategy,
                "size": result.size,
                "parts": result.parts,
                "part_size": result.part_size,
                "concurrency": args.concurrency,
                "seconds": seconds,
                "baseline_rss": baseline,
                "peak_rss": peak,
            }
        )
    )
    return 0


def run_child(
    source_url: str,
    dest_url: str,
    part_size: int,
    concurrency: int,
    *,
    source_bucket: str = SRC_BUCKET,
    bucket: str = DST_BUCKET,
    key: str = KEY,
) -> dict[str, Any]:
    """Run the copy in a fresh process (so its peak RSS is the copy's alone).

    The source bucket must hold ``key`` and a small ``warm-up`` object; tests call this.
    """
    done = subprocess.run(
        [
            sys.executable, str(Path(__file__).resolve()), "child",
            "--source", source_url, "--dest", dest_url, "--source-bucket", source_bucket,
            "--bucket", bucket, "--key", key,
            "--part-size", str(part_size), "--concurrency", str(concurrency),
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
        timeout=3600,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"the copy failed:\n{done.stderr}")
    record: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return record


def verdict(record: dict[str, Any]) -> dict[str, Any]:
    """The record with the claim's budget, the throughput and whether the claim held."""
    budget = record["part_size"] * record["concurrency"] + ALLOWANCE
    return {
        **record,
        "budget": budget,
        "growth": record["peak_rss"] - record["baseline_rss"],
        "throughput": record["size"] / record["seconds"] if record["seconds"] else 0.0,
        "within_budget": record["peak_rss"] < budget,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="mode")
    inner = sub.add_parser("child")
    inner.add_argument("--source", required=True)
    inner.add_argument("--dest", required=True)
    inner.add_argument("--source-bucket", default=SRC_BUCKET)
    inner.add_argument("--bucket", default=DST_BUCKET)
    inner.add_argument("--key", default=KEY)
    inner.add_argument("--part-size", type=int, required=True)
    inner.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--size", type=parse_size, default=parse_size("1GiB"))
    parser.add_argument("--part-size", type=parse_size, default=parse_size("16MiB"))
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = parser.parse_args(argv)
    if args.mode == "child":
        return child(args)
    with tempfile.TemporaryDirectory(prefix="s3xcopy-stream-bench-") as scratch:
        source = SeaweedServer(os.path.join(scratch, "source"))
        dest = SeaweedServer(os.path.join(scratch, "dest"))
        os.makedirs(source.data_dir)
        os.makedirs(dest.data_dir)
        try:
            source.start()
            dest.start()
            checksum = seed(source.endpoint_url, args.size)
            import boto3

            boto3.client(
                "s3", endpoint_url=dest.endpoint_url, aws_access_key_id=ACCESS_KEY,
                aws_secret_access_key=SECRET_KEY, region_name=REGION,
            ).create_bucket(Bucket=DST_BUCKET)  # fmt: skip
            record = verdict(
                run_child(source.endpoint_url, dest.endpoint_url, args.part_size, args.concurrency)
            )
            record["source_checksum"] = checksum
        finally:
            dest.stop()
            source.stop()
    if args.json:
        print(json.dumps(record))
    else:
        print(
            f"stream {format_size(record['size'])} in {record['parts']} parts of "
            f"{format_size(record['part_size'])} x {record['concurrency']}: "
            f"{record['seconds']:.1f} s, {record['throughput'] / MiB:.0f} MiB/s; peak RSS "
            f"{format_size(record['peak_rss'])} (baseline {format_size(record['baseline_rss'])}, "
            f"growth {format_size(record['growth'])}); budget {format_size(record['budget'])}: "
            + ("within" if record["within_budget"] else "OVER")
        )
    return 0 if record["within_budget"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
