"""aws's connection flags on an HTTPS endpoint with a self-signed certificate (SeaweedFS
behind a TLS proxy): --ca-bundle, --no-verify-ssl and --cli-read-timeout, for one
object (botocore's HTTP) and for a bulk copy (the lean CopyObject sender's native HTTP)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from s3xcopy.seaweed import SeaweedServer
from tests.bulk.faultproxy import FaultProxy, self_signed_tls

pytestmark = pytest.mark.seaweed
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory, seaweed: SeaweedServer) -> Iterator[Any]:
    """The TLS proxy in front of SeaweedFS, and the PEM file that trusts its certificate."""
    context, cert = self_signed_tls(tmp_path_factory.mktemp("tls"))
    with FaultProxy(seaweed.endpoint_url, tls=context) as proxy:
        yield proxy, cert


@pytest.fixture(scope="module")
def buckets(seaweed: SeaweedServer) -> tuple[str, str]:
    import boto3

    s3 = boto3.client("s3", **seaweed.client_kwargs())
    names = (f"tls-src-{os.getpid()}", f"tls-dst-{os.getpid()}")
    for name in names:
        s3.create_bucket(Bucket=name)
    for key in ("one.txt", "many/a.txt", "many/b.txt", "many/c.txt"):
        s3.put_object(Bucket=names[0], Key=key, Body=key.encode())
    return names


def s3xcopy(seaweed: SeaweedServer, endpoint: str, *args: str) -> subprocess.CompletedProcess[str]:
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
    return subprocess.run(
        [sys.executable, "-m", "s3xcopy", *args, "--endpoint-url", endpoint],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_a_self_signed_endpoint_is_refused_by_default(
    seaweed: SeaweedServer, tls: Any, buckets: tuple[str, str], s3: Any
) -> None:
    proxy, _ = tls
    src, dst = buckets
    done = s3xcopy(seaweed, proxy.endpoint_url, "cp", f"s3://{src}/one.txt", f"s3://{dst}/refused")
    assert done.returncode == 1
    assert "CERTIFICATE_VERIFY_FAILED" in done.stderr
    assert "Traceback" not in done.stderr
    assert "Contents" not in s3.list_objects_v2(Bucket=dst, Prefix="refused")


@pytest.mark.parametrize("trust", ["--ca-bundle", "--no-verify-ssl"])
def test_trusting_the_endpoint_copies_one_object_and_a_prefix(
    seaweed: SeaweedServer, tls: Any, buckets: tuple[str, str], s3: Any, trust: str
) -> None:
    proxy, cert = tls
    src, dst = buckets
    flags = [trust, str(cert)] if trust == "--ca-bundle" else [trust]
    proxy.reset()
    one = s3xcopy(
        seaweed, proxy.endpoint_url, "cp", f"s3://{src}/one.txt", f"s3://{dst}/{trust}/one.txt",
        *flags,
    )  # fmt: skip
    assert one.returncode == 0, one.stderr
    assert one.stderr == ""  # --no-verify-ssl was asked for: no warning per request
    many = s3xcopy(
        seaweed, proxy.endpoint_url, "cp", "--recursive", f"s3://{src}/many/",
        f"s3://{dst}/{trust}/many/", *flags,
    )  # fmt: skip
    assert many.returncode == 0, many.stderr
    for key in ("one.txt", "many/a.txt", "many/b.txt", "many/c.txt"):
        body = s3.get_object(Bucket=dst, Key=f"{trust}/{key}")["Body"].read()
        assert body == key.encode()
    # Every copy went through the TLS proxy (no request bypassed the trust settings).
    assert len(proxy.requests("CopyObject")) == 4


def test_read_timeout_as_aws_takes_it(
    seaweed: SeaweedServer, tls: Any, buckets: tuple[str, str], s3: Any
) -> None:
    """A 2 s answer: --cli-read-timeout 1 gives up (one line, exit 1), 0 waits for it."""
    proxy, cert = tls
    src, dst = buckets
    proxy.delays["CopyObject"] = 2.0
    try:
        for recursive in ([], ["--recursive"]):
            source = f"s3://{src}/many/" if recursive else f"s3://{src}/one.txt"
            late = s3xcopy(
                seaweed, proxy.endpoint_url, "cp", *recursive, source, f"s3://{dst}/late/",
                "--ca-bundle", str(cert), "--cli-read-timeout", "1", "--max-attempts", "1",
                "--exclude", "*", "--include", "*a.txt", "--include", "one.txt",
            )  # fmt: skip
            assert late.returncode == 1, late.stderr
            assert "Read timeout" in late.stderr
            assert "Traceback" not in late.stderr
        waited = s3xcopy(
            seaweed, proxy.endpoint_url, "cp", f"s3://{src}/one.txt", f"s3://{dst}/waited",
            "--ca-bundle", str(cert), "--cli-read-timeout", "0", "--max-attempts", "1",
        )  # fmt: skip
        assert waited.returncode == 0, waited.stderr
        assert s3.get_object(Bucket=dst, Key="waited")["Body"].read() == b"one.txt"
    finally:
        proxy.delays.pop("CopyObject", None)


def test_bench_takes_the_trust_flags_too(
    seaweed: SeaweedServer, tls: Any, buckets: tuple[str, str]
) -> None:
    proxy, cert = tls
    src, dst = buckets
    argv = ["bench", f"s3://{src}/one.txt", "--dest-prefix", f"s3://{dst}/bench/",
            "--part-sizes", "5MB", "--concurrency", "1", "--repeat", "1"]  # fmt: skip
    refused = s3xcopy(seaweed, proxy.endpoint_url, *argv)
    assert refused.returncode == 1
    assert "CERTIFICATE_VERIFY_FAILED" in refused.stderr
    trusted = s3xcopy(seaweed, proxy.endpoint_url, *argv, "--ca-bundle", str(cert))
    assert trusted.returncode == 0, trusted.stderr
    assert "1/1" in trusted.stdout
