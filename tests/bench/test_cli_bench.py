"""``s3xcopy bench``: its three forms, their usage errors, and the model as a process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3
import pytest

from s3xcopy.bench.costs import ModelParams
from s3xcopy.bench.process import ModelProcess
from s3xcopy.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_bound_prints_a_table(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_csv = tmp_path / "bound.csv"
    code = main(["bench", "bound", "--size", "50GiB", "--part-sizes", "8MB,1MB",
                 "--concurrency", "10,64", "--csv", str(out_csv)])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "lower bounds for one 50.0 GiB copy" in out
    lines = out.splitlines()
    assert lines[2].split()[:4] == ["8.0", "MiB", "10", "6400"]
    assert "impossible" in out  # 1 MiB parts are below S3's 5 MiB minimum
    assert out_csv.read_text().startswith("part_size,concurrency,parts")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["bench", "bound"], "--size is required"),
        (["bench", "bound", "--size", "1GB", "--dest-prefix", "s3://abc/"], "does not apply"),
        (["bench", "model", "--part-sizes", "8MB"], "does not apply"),
        (["bench", "model", "--latency-ms", "-1"], "latency_ms"),
        (["bench", "s3://src-bucket/key"], "--dest-prefix"),
        (["bench", "s3://src-bucket/dir/", "--dest-prefix", "s3://abc/"], "not a prefix"),
        (["bench", "not-a-uri", "--dest-prefix", "s3://abc/"], "not an S3 URI"),
        (["bench", "s3://src-bucket/k", "--dest-prefix", "s3://abc/", "--part-sizes", "1MB"],
         "outside S3's part sizes"),
        (["bench", "s3://src-bucket/k", "--dest-prefix", "s3://abc/", "--concurrency", "0"],
         ">= 1"),
        (["bench", "s3://src-bucket/k", "--dest-prefix", "s3://abc/", "--latency-ms", "5"],
         "without --vs-model"),
    ],
)  # fmt: skip
def test_usage_errors_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_sweep_without_the_engine_fails_cleanly(capsys: pytest.CaptureFixture[str]) -> None:
    import s3xcopy

    if hasattr(s3xcopy, "copy_object"):
        pytest.skip("the engine has landed")
    code = main(["bench", "s3://src-bucket/k", "--dest-prefix", "s3://dst-bucket/tmp/"])
    assert code == 1
    assert "copy engine" in capsys.readouterr().err


def test_model_process_serves_and_stops_by_pid() -> None:
    with ModelProcess(ModelParams(latency_ms=0)) as model:
        pid = model.process.pid if model.process else 0
        s3 = boto3.client("s3", **model.client_kwargs())
        s3.create_bucket(Bucket="proc")
        model.control.seed("proc", "k/", 3, 10)
        assert s3.list_objects_v2(Bucket="proc")["KeyCount"] == 3
        assert model.control.stats()["requests"] == {"CreateBucket": 1, "ListObjectsV2": 1}
        assert model.control.delete_prefix("proc", "k/") == 3
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_bench_model_command_announces_its_port_and_stops_on_sigterm() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen(
        [sys.executable, "-m", "s3xcopy", "bench", "model", "--latency-ms", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = process.stdout.readline().decode()
        assert line.startswith("modelled S3 on http://127.0.0.1:")
        url = line.split()[3]
        with urllib.request.urlopen(f"{url}/__model__/stats", timeout=5) as answer:
            assert answer.status == 200
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    assert process.returncode == 0
