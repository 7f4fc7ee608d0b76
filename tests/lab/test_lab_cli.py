"""``s3xcopy lab``: serve (as a subprocess, stopped by SIGINT), list, check, help."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from s3xcopy.cli import main
from s3xcopy.seaweed import SeaweedServer

ROOT = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _serve(*args: str) -> tuple[subprocess.Popen[str], list[str]]:
    """Start ``lab serve`` and read its banner up to "Ctrl-C stops the lab."."""
    process = subprocess.Popen(
        [sys.executable, "-m", "s3xcopy", "lab", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith("Ctrl-C stops the lab."):
            return process, lines
    process.kill()
    process.wait(timeout=10)
    raise AssertionError(
        f"lab serve did not start: {lines} {process.stderr.read() if process.stderr else ''}"
    )


def _stop(process: subprocess.Popen[str]) -> tuple[int, str]:
    process.send_signal(signal.SIGINT)
    try:
        _, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    return process.returncode, err


def _endpoint(lines: list[str]) -> str:
    found = next(line for line in lines if line.startswith("endpoint:"))
    return found.split()[1]


@pytest.mark.lab
@pytest.mark.seaweed
def test_serve_on_a_given_backend(seaweed: SeaweedServer) -> None:
    process, lines = _serve("original", "--backend-url", seaweed.endpoint_url, "-v")
    try:
        endpoint = _endpoint(lines)
        assert re.match(r"^http://127\.0\.0\.1:\d+$", endpoint)
        text = "\n".join(lines)
        assert "not a security boundary" in text
        assert "AWS_ACCESS_KEY_ID=AKIALABEC2ROLE000001" in text
        assert f"aws --endpoint-url {endpoint} s3 cp" in text
        s3: Any = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="AKIALABEC2ROLE000001",
            aws_secret_access_key="lab-not-a-secret-ec2role",
        )
        s3.put_object(Bucket="cp-src", Key="served-by-cli", Body=b"hello")
        assert s3.get_object(Bucket="cp-src", Key="served-by-cli")["Body"].read() == b"hello"
    finally:
        code, err = _stop(process)
    assert code == 0
    assert "Traceback" not in err
    assert process.stdout is not None


@pytest.mark.lab
def test_serve_starts_and_stops_its_own_seaweedfs() -> None:
    process, lines = _serve("same-account")
    backend = next(line for line in lines if line.startswith("backend:"))
    pid = int(re.search(r"pid (\d+)", backend).group(1))  # type: ignore[union-attr]
    code, err = _stop(process)
    assert code == 0, err
    # The weed process is gone (stopped by PID, not left behind).
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"weed pid {pid} still running")


def test_serve_help_says_it_is_a_lab(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["lab", "serve", "--help"])
    assert info.value.code == 0
    assert "NOT A SECURITY BOUNDARY" in capsys.readouterr().out


def test_bad_port_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lab", "serve", "original", "--port", "70000"]) == 2
    err = capsys.readouterr().err
    assert "port 70000 is not between 0 and 65535" in err
    assert err.count("\n") == 1


def test_list_and_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lab", "list"]) == 0
    listing = capsys.readouterr().out
    shipped = ("original", "original-explicit", "original-fixed", "same-account", "bucket-key",
               "cross-org-rcp")  # fmt: skip
    for name in shipped:
        assert re.search(rf"^{re.escape(name)}\s", listing, re.M)
    assert main(["lab", "check", "original", "bucket-key"]) == 0
    assert "ok: original: 2 principals, 2 buckets, 1 keys" in capsys.readouterr().out
