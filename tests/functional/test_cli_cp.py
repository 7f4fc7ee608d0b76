"""``s3xcopy cp`` as a user runs it: a subprocess against the SeaweedFS server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from s3xcopy.limits import MiB
from s3xcopy.seaweed import SeaweedServer
from tests.bulk.faultproxy import FaultProxy
from tests.conftest import create_bucket_pair

pytestmark = pytest.mark.seaweed
ROOT = Path(__file__).resolve().parents[2]


def cli_env(seaweed: SeaweedServer) -> dict[str, str]:
    kwargs = seaweed.client_kwargs()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        PYTHONPATH=str(ROOT),
        AWS_ACCESS_KEY_ID=kwargs["aws_access_key_id"],
        AWS_SECRET_ACCESS_KEY=kwargs["aws_secret_access_key"],
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    return env


def s3xcopy(seaweed: SeaweedServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "s3xcopy", *args, "--endpoint-url", seaweed.endpoint_url],
        env=cli_env(seaweed),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def buckets(seaweed: SeaweedServer) -> tuple[str, str]:
    s3, names = create_bucket_pair(seaweed, "cli")
    s3.put_object(Bucket=names[0], Key="small.txt", Body=b"hello", ContentType="text/plain")
    s3.put_object(Bucket=names[0], Key="dir/big.bin", Body=os.urandom(9 * MiB))
    return names


def test_copy_prints_aws_style_line(seaweed: SeaweedServer, buckets: Any, s3: Any) -> None:
    src, dst = buckets
    done = s3xcopy(seaweed, "cp", f"s3://{src}/small.txt", f"s3://{dst}/a/")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"copy: s3://{src}/small.txt to s3://{dst}/a/small.txt\n"
    assert done.stderr == ""
    assert s3.get_object(Bucket=dst, Key="a/small.txt")["Body"].read() == b"hello"


def test_json_lines(seaweed: SeaweedServer, buckets: Any) -> None:
    src, dst = buckets
    done = s3xcopy(seaweed, "cp", f"s3://{src}/dir/big.bin", f"s3://{dst}/j/big.bin", "--json")
    assert done.returncode == 0, done.stderr
    (line,) = done.stdout.splitlines()
    record = json.loads(line)
    assert record["event"] == "copied"
    assert (record["strategy"], record["parts"], record["part_size"]) == ("multipart", 2, 8 * MiB)
    assert record["size"] == 9 * MiB
    for field in ("source", "dest", "etag", "seconds", "fallback", "findings", "version_id"):
        assert field in record


def test_quiet_prints_nothing(seaweed: SeaweedServer, buckets: Any) -> None:
    src, dst = buckets
    done = s3xcopy(seaweed, "cp", f"s3://{src}/small.txt", f"s3://{dst}/q/", "--quiet")
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_dryrun_copies_nothing(seaweed: SeaweedServer, buckets: Any, s3: Any) -> None:
    src, dst = buckets
    done = s3xcopy(seaweed, "cp", f"s3://{src}/dir/big.bin", f"s3://{dst}/dry/", "--dryrun")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(
        f"(dryrun) copy: s3://{src}/dir/big.bin to s3://{dst}/dry/big.bin"
    )
    assert "multipart: 2 parts of 8.0 MiB" in done.stdout
    assert "Contents" not in s3.list_objects_v2(Bucket=dst, Prefix="dry/")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["cp", "bucket/key", "s3://b1b/k"], "not an S3 URI"),
        (["cp", "s3://", "s3://b1b/k"], "no bucket"),
        (["cp", "s3://src-bucket/k"], "the following arguments are required"),
        (["cp", "s3://b1b/k", "s3://b2b/k", "--part-size", "1MB"], "outside S3's limits"),
        (["cp", "s3://b1b/k", "s3://b2b/k", "--part-size", "lots"], "invalid size"),
        (["cp", "s3://b1b/k", "s3://b2b/k", "--max-concurrency", "0"], "at least 1"),
        (["cp", "s3://b1b/k", "s3://b2b/k", "--sse-c"], "--sse-c-key must be given"),
        (["cp", "s3://b1b/k", "s3://b2b/k", "--no-such-flag"], "unrecognized arguments"),
        (["cp", "s3://b1b/k", "s3://b2b/k", "--profile", "nope"], "could not be found"),
        (["cp", "s3://b1b/dir/", "s3://b2b/"], "must be an object"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    seaweed: SeaweedServer, args: list[str], message: str
) -> None:
    done = s3xcopy(seaweed, *args)
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_missing_source_is_exit_2(seaweed: SeaweedServer, buckets: Any) -> None:
    src, dst = buckets
    done = s3xcopy(seaweed, "cp", f"s3://{src}/nope.txt", f"s3://{dst}/x")
    assert done.returncode == 2
    assert done.stderr.startswith(
        f"copy failed: s3://{src}/nope.txt to s3://{dst}/x source not found"
    )
    assert len(done.stderr.splitlines()) == 1


def test_missing_source_bucket_is_exit_2(seaweed: SeaweedServer, buckets: Any) -> None:
    _, dst = buckets
    done = s3xcopy(seaweed, "cp", "s3://no-such-bucket-here/k", f"s3://{dst}/x", "--json")
    assert done.returncode == 2
    record = json.loads(done.stdout)
    assert record["event"] == "failed"
    assert record["error"]["operation"] == "HeadObject"
    assert "source not found" in record["error"]["message"]


def test_missing_destination_bucket_is_exit_2(seaweed: SeaweedServer, buckets: Any) -> None:
    src, _ = buckets
    done = s3xcopy(
        seaweed, "cp", f"s3://{src}/small.txt", "s3://no-such-dest-bucket/x", "--max-attempts", "2"
    )
    assert done.returncode == 2, done.stderr
    assert "destination bucket does not exist: s3://no-such-dest-bucket/" in done.stderr
    assert "Traceback" not in done.stderr


def test_sigint_mid_copy_exits_130_and_leaves_no_upload(
    seaweed: SeaweedServer, buckets: Any, s3: Any
) -> None:
    src, dst = buckets
    s3.put_object(Bucket=src, Key="slow.bin", Body=os.urandom(40 * MiB))
    with FaultProxy(seaweed.endpoint_url) as proxy:  # parts slowed: SIGINT lands mid-copy
        proxy.delays["UploadPartCopy"] = 0.5
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "s3xcopy", "cp", f"s3://{src}/slow.bin",
                f"s3://{dst}/slow.bin", "--part-size", "5MB", "--max-concurrency", "1",
                "--endpoint-url", proxy.endpoint_url,
            ],
            env=cli_env(seaweed), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and proc.poll() is None:
                if [r for r in proxy.requests("UploadPartCopy") if r.ok]:
                    break  # the upload is open and has a part; seven more take 3.5 s
                time.sleep(0.05)
            assert proc.poll() is None, "the copy finished before it could be interrupted"
            proc.send_signal(signal.SIGINT)
            _, stderr = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr
    assert "Traceback" not in stderr
    assert not s3.list_multipart_uploads(Bucket=dst, Prefix="slow.bin").get("Uploads")
    assert "Contents" not in s3.list_objects_v2(Bucket=dst, Prefix="slow.bin")
