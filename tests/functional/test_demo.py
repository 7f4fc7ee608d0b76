"""``s3xcopy demo`` as a new user runs it: both parts, and every server stopped."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.seaweed
ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_end_to_end() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-m", "s3xcopy", "demo"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    out = done.stdout
    assert done.returncode == 0, done.stderr + out
    assert "strategy single, 1 CopyObject" in out
    assert "strategy multipart, 8 parts of 8.0 MiB" in out
    assert (
        out.count("size ok  CRC64NVME ok  content-type ok  cache-control ok  metadata ok  tags ok")
        == 2
    )
    # The original case: aws s3 cp's engine fails where s3xcopy explains and copies.
    assert (
        "An error occurred (AccessDenied) when calling the UploadPartCopy operation: Access Denied"
        in out
    )
    assert "fix in: key-policy of account 987654321098" in out
    assert "fix in: identity-policy of account 123456789012" in out
    assert "copied with one CopyObject instead" in out
    assert "arrived: s3://cp-dst/64mb.dat-s3xcopy (64.0 MiB, aws:kms" in out
    assert "multipart path:             DENIED at UploadPartCopy" in out
    assert out.rstrip().endswith("stopped SeaweedFS")
    pid = int(out.split("(pid ")[1].split(")")[0])
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the server is gone
