"""boto3's own copy, as a user writes it (the harness's "boto3" client).

One object: ``client.copy()`` with s3transfer's defaults. A prefix: list it and submit
every key to one s3transfer ``TransferManager`` with its defaults (the engine behind
``client.copy()``, as ``aws s3 cp --recursive`` uses it).

    python benchmarks/boto3_copy.py [--recursive] --endpoint-url URL s3://b/k s3://b2/k2
"""

from __future__ import annotations

import argparse
import sys

import boto3
from s3transfer.manager import TransferManager


def split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--endpoint-url")
    parser.add_argument("--recursive", action="store_true")
    parser.add_argument("source")
    parser.add_argument("dest")
    args = parser.parse_args(argv)
    client = boto3.client("s3", endpoint_url=args.endpoint_url)
    src_bucket, src_key = split(args.source)
    dst_bucket, dst_key = split(args.dest)
    if not args.recursive:
        client.copy({"Bucket": src_bucket, "Key": src_key}, dst_bucket, dst_key)
        return 0
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=src_bucket, Prefix=src_key)
    with TransferManager(client) as manager:
        futures = [
            manager.copy(
                {"Bucket": src_bucket, "Key": item["Key"]},
                dst_bucket,
                dst_key + item["Key"][len(src_key) :],
            )
            for page in pages
            for item in page.get("Contents", [])
        ]
        for future in futures:
            future.result()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
