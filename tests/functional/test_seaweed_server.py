"""The SeaweedFS server the tests, demo and benchmarks start: it starts even when a port
it was given is taken meanwhile, and leaves nothing behind."""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path

import boto3
import pytest

from s3xcopy import seaweed
from s3xcopy.seaweed import SeaweedServer, SeaweedUnavailableError

pytestmark = pytest.mark.seaweed


def _weed_files() -> set[Path]:
    """weed's files in /tmp and the temp dir: glog logs and Unix sockets."""
    return {
        path
        for folder in {Path("/tmp"), Path(tempfile.gettempdir())}
        for path in folder.iterdir()
        if path.name.startswith(("weed.", "seaweedfs-"))
    }


def test_stopping_leaves_no_sockets_or_logs_in_tmp() -> None:
    before = _weed_files()
    server = SeaweedServer().start()
    try:
        process = server.process
        assert process is not None
        data_dir = Path(server.data_dir)
        assert {"s3.sock", "filer.sock"} <= set(os.listdir(data_dir))
        assert "weed.log" in os.listdir(data_dir)
    finally:
        server.stop()
    assert process.poll() is not None
    assert not data_dir.exists()
    assert sorted(map(str, _weed_files() - before)) == []


def test_a_data_dir_too_long_for_sockets_still_leaves_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / ("d" * 100)  # no room for a socket path inside it
    data_dir.mkdir()
    before = _weed_files()
    server = SeaweedServer(str(data_dir)).start()
    try:
        assert not {"s3.sock", "filer.sock"} & set(os.listdir(data_dir))
        assert _weed_files() - before  # weed's default sockets, in /tmp
    finally:
        server.stop()
    assert sorted(map(str, _weed_files() - before)) == []


def _taking(port: int, times: int) -> object:
    """A ``free_ports`` whose first ``times`` answers give the volume server ``port``."""
    real, calls = seaweed.free_ports, []

    def free_ports(count: int) -> list[int]:
        ports = real(count)
        calls.append(count)
        if len(calls) <= times:
            ports[seaweed._PORT_FLAGS.index("volume.port")] = port
        return ports

    return free_ports


def test_a_port_taken_before_weed_binds_it_means_new_ports(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:  # another process's listener
        port = taken.getsockname()[1]
        monkeypatch.setattr(seaweed, "free_ports", _taking(port, times=1))
        with SeaweedServer() as server:
            s3 = boto3.client("s3", **server.client_kwargs())
            s3.create_bucket(Bucket="started")
            s3.put_object(Bucket="started", Key="k", Body=b"up")
            assert s3.get_object(Bucket="started", Key="k")["Body"].read() == b"up"

        monkeypatch.setattr(seaweed, "free_ports", _taking(port, times=seaweed.START_ATTEMPTS))
        failed = SeaweedServer()
        with pytest.raises(SeaweedUnavailableError, match=f"port {port} .* is not available"):
            failed.start()
        assert failed.process is None and not Path(failed.data_dir).exists()
