"""Shared fixtures: a SeaweedFS server per test session, fresh buckets per test."""

from __future__ import annotations

import itertools
import os
import signal
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from s3xcopy.seaweed import SeaweedServer

# Never let a developer's real AWS settings leak into a test.
for _name in [n for n in os.environ if n.startswith("AWS_")]:
    del os.environ[_name]
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

# The Ctrl-C tests send SIGINT to the CLI in a child process. A test run started in the
# background of a script (or under nohup) inherits SIGINT ignored, and so would every
# child: catch it again here, so children start with the default (Ctrl-C interrupts).
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

_bucket_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedServer]:
    """A real S3 server (SeaweedFS ``weed mini``) on free loopback ports, stopped by PID."""
    data_dir = tmp_path_factory.mktemp("weed")
    server = SeaweedServer(str(data_dir))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def seaweed_session(seaweed: SeaweedServer) -> boto3.session.Session:
    """A boto3 session whose credentials SeaweedFS accepts."""
    kwargs = seaweed.client_kwargs()
    return boto3.session.Session(
        aws_access_key_id=kwargs["aws_access_key_id"],
        aws_secret_access_key=kwargs["aws_secret_access_key"],
        region_name=kwargs["region_name"],
    )


@pytest.fixture
def s3(seaweed: SeaweedServer) -> Any:
    """A plain boto3 S3 client on the SeaweedFS server, for arranging and checking."""
    return boto3.client("s3", **seaweed.client_kwargs())


def create_bucket_pair(seaweed: SeaweedServer, prefix: str) -> tuple[Any, tuple[str, str]]:
    """A client and two new buckets, ``PREFIX-src-PID`` and ``PREFIX-dst-PID``, for a module's
    tests to share (SeaweedFS takes ~0.2 s to open a new bucket)."""
    s3 = boto3.client("s3", **seaweed.client_kwargs())
    names = (f"{prefix}-src-{os.getpid()}", f"{prefix}-dst-{os.getpid()}")
    for name in names:
        s3.create_bucket(Bucket=name)
    return s3, names


@pytest.fixture
def make_bucket(s3: Any) -> Any:
    """Create a fresh, uniquely named bucket on the server and return its name."""

    def make(prefix: str = "b") -> str:
        name = f"{prefix}-{os.getpid()}-{next(_bucket_numbers)}"
        s3.create_bucket(Bucket=name)
        return name

    return make


# --- Policy lab (issue 3): a LabServer on the session's SeaweedFS --------------------------
# Reusable by any test: `lab("original")` or `lab({...scenario dict...})` starts a lab
# (stopped after the test); `run_aws(lab, "EC2Role", "s3", "cp", ...)` runs the real aws CLI
# against it with no retries; `unique_key` gives an object key no other test uses.

import subprocess  # noqa: E402 - kept inside the lab block so merges stay easy
import sys  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Callable, Mapping  # noqa: E402
from pathlib import Path  # noqa: E402

from s3xcopy.lab import LabServer  # noqa: E402


@pytest.fixture
def lab(seaweed: SeaweedServer) -> Iterator[Callable[..., LabServer]]:
    """Factory: start a policy lab for a shipped scenario name, a file path or a dict."""
    servers: list[LabServer] = []

    def start(scenario: str | Path | Mapping[str, Any] = "original", **kwargs: Any) -> LabServer:
        server = LabServer(scenario, backend_url=seaweed.endpoint_url, **kwargs).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def unique_key(request: pytest.FixtureRequest) -> str:
    """An object key unique to this test run (the lab's buckets are shared by the session)."""
    name = "".join(c if c.isalnum() else "-" for c in request.node.name)[:60]
    return f"{name}-{uuid.uuid4().hex[:8]}"


def aws_cli_path() -> str:
    """The aws CLI next to this Python (the venv), else on PATH."""
    beside = Path(sys.executable).parent / "aws"
    if beside.is_file():
        return str(beside)
    import shutil

    found = shutil.which("aws")
    if not found:
        pytest.skip("the aws CLI is not installed")
    return found


@pytest.fixture
def run_aws(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the real aws CLI against a lab as one of its principals, retrying nothing."""
    config = tmp_path / "aws-config"
    credentials = tmp_path / "aws-credentials"

    def run(server: LabServer, principal: str, *args: str) -> subprocess.CompletedProcess[str]:
        found = server.scenario.principal(principal)
        config.write_text(
            # Legacy mode with one attempt: no retries, and no "(reached max retries: 0)"
            # suffix on errors that are not retryable anyway (standard mode adds it).
            f"[default]\nregion = {server.scenario.region}\nmax_attempts = 1\nretry_mode = legacy\n"
        )
        credentials.write_text(
            f"[default]\naws_access_key_id = {found.access_key_id}\n"
            f"aws_secret_access_key = {found.secret_access_key}\n"
        )
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(tmp_path),
            "AWS_CONFIG_FILE": str(config),
            "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
            "AWS_ACCESS_KEY_ID": found.access_key_id,
            "AWS_SECRET_ACCESS_KEY": found.secret_access_key,
            "AWS_DEFAULT_REGION": server.scenario.region,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_PAGER": "",
        }
        command = [aws_cli_path(), "--endpoint-url", server.endpoint_url, *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)

    return run
