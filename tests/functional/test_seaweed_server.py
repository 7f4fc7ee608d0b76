"""The SeaweedFS server the tests, demo and benchmarks start leaves nothing behind."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from s3xcopy.seaweed import SeaweedServer

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
