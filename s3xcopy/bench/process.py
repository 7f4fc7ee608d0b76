"""The modelled S3 as its own process (for the harness), and a client for its control paths.

A benchmark runs the model in a separate process so the model's CPU never counts as the
client's and a 2-core machine shares fairly. The process is ``python -m s3xcopy bench
model`` on a free 127.0.0.1 port, in its own process group, stopped by its PID.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

from ..seaweed import free_ports, stop_process_group
from .costs import ModelParams
from .server import HOST, client_kwargs

_PACKAGE_ROOT = Path(__file__).resolve().parents[2]


def model_args(params: ModelParams) -> list[str]:
    """The ``s3xcopy bench model`` flags that reproduce ``params``."""
    return [
        f"--latency-ms={params.latency_ms:g}",
        f"--copy-rate-mbps={params.copy_rate_mbps:g}",
        f"--prefix-write-rps={params.write_rps:g}",
        f"--prefix-read-rps={params.read_rps:g}",
        f"--burst-seconds={params.burst_seconds:g}",
        f"--min-part-size={params.min_part_size}",
    ]


class ModelControl:
    """Reads and resets a running model's counters and seeds it, over its ``/__model__/`` paths."""

    def __init__(self, endpoint_url: str, timeout: float = 30.0) -> None:
        self.endpoint_url = endpoint_url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, name: str, **query: object) -> dict[str, Any]:
        url = f"{self.endpoint_url}/__model__/{name}"
        if query:
            url += "?" + urllib.parse.urlencode({k: str(v) for k, v in query.items()})
        request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
        with urllib.request.urlopen(request, timeout=self.timeout) as answer:
            data: dict[str, Any] = json.loads(answer.read())
        return data

    def stats(self) -> dict[str, Any]:
        return self._call("GET", "stats")

    def params(self) -> dict[str, Any]:
        return self._call("GET", "params")

    def reset(self, *, data: bool = False) -> None:
        self._call("POST", "reset", **({"data": 1} if data else {}))

    def seed(self, bucket: str, prefix: str, count: int, size: int) -> dict[str, Any]:
        return self._call("POST", "seed", bucket=bucket, prefix=prefix, count=count, size=size)

    def delete_prefix(self, bucket: str, prefix: str) -> int:
        return int(self._call("POST", "delete", bucket=bucket, prefix=prefix)["deleted"])


class ModelProcess:
    """``s3xcopy bench model`` in a child process on a free loopback port; a context manager."""

    def __init__(self, params: ModelParams | None = None, *, startup_timeout: float = 20.0) -> None:
        self.params = params or ModelParams()
        self.startup_timeout = startup_timeout
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - lives as long as the process
            prefix="s3xcopy-model-", suffix=".log", delete=False
        )

    @property
    def endpoint_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def control(self) -> ModelControl:
        return ModelControl(self.endpoint_url)

    def client_kwargs(self) -> dict[str, str]:
        return client_kwargs(self.endpoint_url)

    def start(self) -> ModelProcess:
        self.port = free_ports(1)[0]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(_PACKAGE_ROOT), env.get("PYTHONPATH", "")) if p
        )
        argv = [
            sys.executable,
            "-m",
            "s3xcopy",
            "bench",
            "model",
            f"--port={self.port}",
            *model_args(self.params),
        ]
        self.process = subprocess.Popen(
            argv,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the model exited at start-up: {self._log_tail()}")
            try:
                self.control.params()
                return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the model did not answer within {self.startup_timeout:.0f} s")

    def _log_tail(self) -> str:
        try:
            return " | ".join(Path(self._log.name).read_text(errors="replace").splitlines()[-5:])
        except OSError:
            return "(no log)"

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the model by its PID (SIGTERM to its group, SIGKILL after ``timeout``)."""
        process, self.process = self.process, None
        if process is not None:
            stop_process_group(process, timeout)
        self._log.close()
        with contextlib.suppress(OSError):
            os.unlink(self._log.name)

    def __enter__(self) -> ModelProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
