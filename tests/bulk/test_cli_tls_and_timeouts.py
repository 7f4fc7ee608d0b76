"""aws's connection flags on an HTTPS endpoint with a self-signed certificate (SeaweedFS
behind a TLS proxy): --ca-bundle, --no-verify-ssl and --cli-read-timeout, for one
object (botocore's HTTP) and for a bulk copy (the lean CopyObject sender's native HTTP)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from s3xcopy.seaweed import SeaweedServer

from ..conftest import create_bucket_pair
from .conftest import CliRunner
from .faultproxy import FaultProxy, self_signed_tls

pytestmark = pytest.mark.seaweed


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory, seaweed: SeaweedServer) -> Iterator[Any]:
    """The TLS proxy in front of SeaweedFS, and the PEM file that trusts its certificate."""
    context, cert = self_signed_tls(tmp_path_factory.mktemp("tls"))
    with FaultProxy(seaweed.endpoint_url, tls=context) as proxy:
        yield proxy, cert


@pytest.fixture(scope="module")
def buckets(seaweed: SeaweedServer) -> tuple[str, str]:
    s3, names = create_bucket_pair(seaweed, "tls")
    for key in ("one.txt", "many/a.txt", "many/b.txt", "many/c.txt"):
        s3.put_object(Bucket=names[0], Key=key, Body=key.encode())
    return names


def test_a_self_signed_endpoint_is_refused_by_default(
    run_cli: CliRunner, tls: Any, buckets: tuple[str, str], s3: Any
) -> None:
    proxy, _ = tls
    src, dst = buckets
    done = run_cli("cp", f"s3://{src}/one.txt", f"s3://{dst}/refused", endpoint=proxy.endpoint_url)
    assert done.returncode == 1
    assert "CERTIFICATE_VERIFY_FAILED" in done.stderr
    assert "Traceback" not in done.stderr
    assert "Contents" not in s3.list_objects_v2(Bucket=dst, Prefix="refused")


@pytest.mark.parametrize("trust", ["--ca-bundle", "--no-verify-ssl"])
def test_trusting_the_endpoint_copies_one_object_and_a_prefix(
    run_cli: CliRunner, tls: Any, buckets: tuple[str, str], s3: Any, trust: str
) -> None:
    proxy, cert = tls
    src, dst = buckets
    flags = [trust, str(cert)] if trust == "--ca-bundle" else [trust]
    proxy.reset()
    one = run_cli(
        "cp", f"s3://{src}/one.txt", f"s3://{dst}/{trust}/one.txt", *flags,
        endpoint=proxy.endpoint_url,
    )  # fmt: skip
    assert one.returncode == 0, one.stderr
    assert one.stderr == ""  # --no-verify-ssl was asked for: no warning per request
    many = run_cli(
        "cp", "--recursive", f"s3://{src}/many/", f"s3://{dst}/{trust}/many/", *flags,
        endpoint=proxy.endpoint_url,
    )  # fmt: skip
    assert many.returncode == 0, many.stderr
    for key in ("one.txt", "many/a.txt", "many/b.txt", "many/c.txt"):
        body = s3.get_object(Bucket=dst, Key=f"{trust}/{key}")["Body"].read()
        assert body == key.encode()
    # Every copy went through the TLS proxy (no request bypassed the trust settings).
    assert len(proxy.requests("CopyObject")) == 4


def test_read_timeout_as_aws_takes_it(
    run_cli: CliRunner, tls: Any, buckets: tuple[str, str], s3: Any
) -> None:
    """A 2 s answer: --cli-read-timeout 1 gives up (one line, exit 1), 0 waits for it."""
    proxy, cert = tls
    src, dst = buckets
    proxy.delays["CopyObject"] = 2.0
    try:
        for recursive in ([], ["--recursive"]):
            source = f"s3://{src}/many/" if recursive else f"s3://{src}/one.txt"
            late = run_cli(
                "cp", *recursive, source, f"s3://{dst}/late/",
                "--ca-bundle", str(cert), "--cli-read-timeout", "1", "--max-attempts", "1",
                "--exclude", "*", "--include", "*a.txt", "--include", "one.txt",
                endpoint=proxy.endpoint_url,
            )  # fmt: skip
            assert late.returncode == 1, late.stderr
            assert "Read timeout" in late.stderr
            assert "Traceback" not in late.stderr
        waited = run_cli(
            "cp", f"s3://{src}/one.txt", f"s3://{dst}/waited",
            "--ca-bundle", str(cert), "--cli-read-timeout", "0", "--max-attempts", "1",
            endpoint=proxy.endpoint_url,
        )  # fmt: skip
        assert waited.returncode == 0, waited.stderr
        assert s3.get_object(Bucket=dst, Key="waited")["Body"].read() == b"one.txt"
    finally:
        proxy.delays.pop("CopyObject", None)


def test_bench_takes_the_trust_flags_too(
    run_cli: CliRunner, tls: Any, buckets: tuple[str, str]
) -> None:
    proxy, cert = tls
    src, dst = buckets
    argv = ["bench", f"s3://{src}/one.txt", "--dest-prefix", f"s3://{dst}/bench/",
            "--part-sizes", "5MB", "--concurrency", "1", "--repeat", "1"]  # fmt: skip
    refused = run_cli(*argv, endpoint=proxy.endpoint_url)
    assert refused.returncode == 1
    assert "CERTIFICATE_VERIFY_FAILED" in refused.stderr
    trusted = run_cli(*argv, "--ca-bundle", str(cert), endpoint=proxy.endpoint_url)
    assert trusted.returncode == 0, trusted.stderr
    assert "1/1" in trusted.stdout
