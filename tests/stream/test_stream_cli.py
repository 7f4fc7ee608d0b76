"""``s3xcopy cp`` with two endpoints or two profiles, run as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from s3xcopy.seaweed import ACCESS_KEY, REGION, SECRET_KEY, SeaweedServer

from .conftest import TwoIdentities

pytestmark = pytest.mark.seaweed

ROOT = Path(__file__).resolve().parents[2]


def run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": REGION,
    }
    return subprocess.run(
        [sys.executable, "-m", "s3xcopy", "cp", *args],
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def two_buckets(
    source_s3: Any, make_source_bucket: Callable[[str], str], make_bucket: Callable[[str], str]
) -> tuple[str, str]:
    src, dst = make_source_bucket("clisrc"), make_bucket("clidst")
    source_s3.put_object(Bucket=src, Key="k", Body=b"0123456789" * 1000, Tagging="t=1")
    return src, dst


def endpoints(seaweed: SeaweedServer, source_seaweed: SeaweedServer) -> list[str]:
    return [
        "--endpoint-url",
        seaweed.endpoint_url,
        "--source-endpoint-url",
        source_seaweed.endpoint_url,
    ]


def test_cp_between_two_endpoints_streams_and_says_so(
    seaweed: SeaweedServer, source_seaweed: SeaweedServer, s3: Any, two_buckets: tuple[str, str]
) -> None:
    src, dst = two_buckets
    done = run([f"s3://{src}/k", f"s3://{dst}/k", *endpoints(seaweed, source_seaweed)])
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"copy: s3://{src}/k to s3://{dst}/k\n"
    assert done.stderr.startswith(f"note: s3://{src}/k: source and destination are on")
    assert "streamed through this machine" in done.stderr
    assert "Traceback" not in done.stderr
    assert s3.get_object(Bucket=dst, Key="k")["Body"].read() == b"0123456789" * 1000
    assert s3.get_object_tagging(Bucket=dst, Key="k")["TagSet"] == [{"Key": "t", "Value": "1"}]


def test_cp_json_reports_the_stream(
    seaweed: SeaweedServer, source_seaweed: SeaweedServer, two_buckets: tuple[str, str]
) -> None:
    src, dst = two_buckets
    args = [f"s3://{src}/k", f"s3://{dst}/j", "--json", *endpoints(seaweed, source_seaweed)]
    done = run([*args, "--multipart-threshold", "5MiB", "--part-size", "5MiB"])
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["event"] == "copied"
    assert record["strategy"] == "stream"
    assert (record["parts"], record["part_size"]) == (1, None)  # 10 kB: one PutObject
    assert "different endpoints" in record["fallback"]


def test_cp_no_stream_between_two_endpoints_is_bad_input(
    seaweed: SeaweedServer, source_seaweed: SeaweedServer, s3: Any, two_buckets: tuple[str, str]
) -> None:
    src, dst = two_buckets
    done = run(
        [f"s3://{src}/k", f"s3://{dst}/n", "--no-stream", *endpoints(seaweed, source_seaweed)]
    )
    assert done.returncode == 2
    assert done.stderr.startswith(f"copy failed: s3://{src}/k to s3://{dst}/n ")
    assert "(--no-stream)" in done.stderr
    assert "Traceback" not in done.stderr
    assert s3.list_objects_v2(Bucket=dst).get("KeyCount", 0) == 0


def test_cp_dryrun_shows_the_stream_plan(
    seaweed: SeaweedServer, source_seaweed: SeaweedServer, s3: Any, two_buckets: tuple[str, str]
) -> None:
    src, dst = two_buckets
    done = run([f"s3://{src}/k", f"s3://{dst}/d", "--dryrun", *endpoints(seaweed, source_seaweed)])
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(
        f"(dryrun) copy: s3://{src}/k to s3://{dst}/d  [stream: one GetObject + PutObject ("
    )
    assert s3.list_objects_v2(Bucket=dst).get("KeyCount", 0) == 0


def test_stream_and_no_stream_together_are_a_usage_error() -> None:
    done = run(["s3://a/k", "s3://b/k", "--stream", "--no-stream"])
    assert done.returncode == 2
    assert "not allowed with argument" in done.stderr


# --- two profiles -------------------------------------------------------------------------


@pytest.fixture
def profiles(tmp_path: Path, two_identities: TwoIdentities) -> dict[str, str]:
    """AWS config files with a ``dest`` and a ``source`` profile, as a user would have."""
    credentials = tmp_path / "credentials"
    credentials.write_text(
        "".join(
            f"[{name}]\naws_access_key_id = {who.access_key}\n"
            f"aws_secret_access_key = {who.secret_key}\n"
            for name, who in (("dest", two_identities.writer), ("source", two_identities.reader))
        )
    )
    config = tmp_path / "config"
    config.write_text(f"[profile dest]\nregion = {REGION}\n[profile source]\nregion = {REGION}\n")
    return {
        "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
        "AWS_CONFIG_FILE": str(config),
        "AWS_ACCESS_KEY_ID": "",
        "AWS_SECRET_ACCESS_KEY": "",
    }


def test_cp_with_both_profiles_streams_what_no_one_identity_can_copy(
    two_identities: TwoIdentities, profiles: dict[str, str]
) -> None:
    setup = two_identities
    admin = setup.client(setup.admin)
    admin.put_object(Bucket=setup.source_bucket, Key="cli", Body=b"x" * 12_345, Metadata={"m": "1"})
    done = run(
        [
            f"s3://{setup.source_bucket}/cli",
            f"s3://{setup.dest_bucket}/cli",
            "--profile", "dest", "--source-profile", "source",
            "--endpoint-url", setup.server.endpoint_url, "--json",
        ],
        profiles,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["strategy"] == "stream"
    assert "denied at CopyObject (AccessDenied)" in record["fallback"]
    head = admin.head_object(Bucket=setup.dest_bucket, Key="cli")
    assert (head["ContentLength"], head["Metadata"]) == (12_345, {"m": "1"})


def test_cp_without_the_source_profile_is_denied_with_exit_3(
    two_identities: TwoIdentities, profiles: dict[str, str]
) -> None:
    setup = two_identities
    setup.client(setup.admin).put_object(Bucket=setup.source_bucket, Key="cli3", Body=b"y")
    done = run(
        [
            f"s3://{setup.source_bucket}/cli3",
            f"s3://{setup.dest_bucket}/cli3",
            "--profile", "dest", "--endpoint-url", setup.server.endpoint_url, "--json",
        ],
        profiles,
    )  # fmt: skip
    assert done.returncode == 3, done.stderr
    record = json.loads(done.stdout)
    assert record["event"] == "failed"
    assert record["error"]["operation"] == "HeadObject"
    assert "Traceback" not in done.stderr
