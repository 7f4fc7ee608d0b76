"""``s3xcopy bench``: its three forms, their usage errors, and the model as a process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


def test_sweep_with_the_engine_on_the_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sweep_model: tuple[Any, Any]
) -> None:
    model, s3 = sweep_model
    model.seed("sweep-src", "data/big.bin", 1, 40 * 2**20)
    out_csv, out_png = tmp_path / "sweep.csv", tmp_path / "sweep.png"
    argv = ["bench", "s3://sweep-src/data/big.bin", "--dest-prefix", "s3://sweep-dst/tmp/",
            "--part-sizes", "5MB,16MB", "--concurrency", "1,4", "--repeat", "2",
            "--endpoint-url", model.endpoint_url, "--csv", str(out_csv), "--vs-model",
            "--latency-ms", "0", "--copy-rate-mbps", "1000000"]  # fmt: skip
    if sweep_plotting():
        argv += ["--plot", str(out_png)]
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    table = captured.out.splitlines()
    assert table[0].startswith("bench s3://sweep-src/data/big.bin (run bench-")
    assert table[1].split()[:4] == ["part", "size", "concurrency", "median"]
    rows = [line.split() for line in table[2:]]
    # 40 MiB in 5 MiB parts is 8 parts; in 16 MiB parts, 3. Every run succeeded.
    assert [(r[0], r[2], r[5], r[7]) for r in rows] == [
        ("5.0", "1", "8", "2/2"), ("5.0", "4", "8", "2/2"),
        ("16.0", "1", "3", "2/2"), ("16.0", "4", "3", "2/2"),
    ]  # fmt: skip
    # Requests counted on the wire: at least HeadObject, create, the parts, complete.
    assert all(int(r[6]) >= int(r[5]) + 3 for r in rows)
    assert "[8/8]" in captured.err
    assert out_csv.read_text().count("\n") == 5
    if sweep_plotting():
        assert out_png.read_bytes()[:4] == b"\x89PNG"
    # Every copy was deleted: the sweep leaves nothing behind.
    assert s3.list_objects_v2(Bucket="sweep-dst").get("KeyCount") == 0
    assert s3.list_multipart_uploads(Bucket="sweep-dst").get("Uploads", []) == []


def sweep_plotting() -> bool:
    from s3xcopy.bench.sweep import plotting_available

    return plotting_available()


@pytest.fixture
def sweep_model(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    """The model with a 10 MiB object in sweep-src and an empty sweep-dst; credentials set."""
    from s3xcopy.bench import ModelServer

    for name, value in (("AWS_ACCESS_KEY_ID", "bench-fake"), ("AWS_SECRET_ACCESS_KEY", "fake"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):  # fmt: skip
        monkeypatch.setenv(name, value)
    params = ModelParams(latency_ms=0, copy_rate_mbps=1e6, write_rps=0, read_rps=0)
    with ModelServer(params) as model:
        s3 = boto3.client("s3", **model.client_kwargs())
        s3.create_bucket(Bucket="sweep-src")
        s3.create_bucket(Bucket="sweep-dst")
        model.seed("sweep-src", "data/obj.bin", 1, 10 * 2**20)
        yield model, s3


def sweep_argv(model: Any, source: str, dest: str, *extra: str) -> list[str]:
    return ["bench", source, "--dest-prefix", dest, "--part-sizes", "5MB,8MB",
            "--concurrency", "1,2", "--repeat", "2", "--endpoint-url", model.endpoint_url,
            *extra]  # fmt: skip


@pytest.mark.parametrize(
    ("source", "dest", "message"),
    [
        ("s3://sweep-src/data/missing.bin", "s3://sweep-dst/tmp/", "source not found"),
        ("s3://sweep-src/data/obj.bin", "s3://no-such-bucket-x/tmp/", "bucket does not exist"),
    ],
)
def test_a_sweep_that_no_cell_could_run_is_bad_input(
    sweep_model: tuple[Any, Any],
    capsys: pytest.CaptureFixture[str],
    source: str,
    dest: str,
    message: str,
) -> None:
    """Exit 2 with one line after the first copy, not eight failed copies and exit 1."""
    model, _ = sweep_model
    assert main(sweep_argv(model, source, dest)) == 2
    captured = capsys.readouterr()
    (line,) = captured.err.splitlines()
    assert line.startswith("error: ")
    assert message in line
    assert captured.out == ""


def test_output_files_are_checked_before_the_sweep(
    sweep_model: tuple[Any, Any], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    model, s3 = sweep_model
    source, dest = "s3://sweep-src/data/obj.bin", "s3://sweep-dst/tmp/"
    # (--plot without the plot extra is refused for that first: checked where it is there)
    for flag in ("--csv", "--plot") if sweep_plotting() else ("--csv",):
        missing = tmp_path / "no-such-dir" / "out.file"
        assert main(sweep_argv(model, source, dest, flag, str(missing))) == 2
        captured = capsys.readouterr()
        assert f"{flag} {missing}: no such directory" in captured.err
        assert captured.out == ""  # nothing was copied
    if not Path("/proc").is_dir():
        pytest.skip("needs /proc: a directory where no file can be made")
    # A file that cannot be made after all: the table is printed, then one line, exit 1.
    assert main(sweep_argv(model, source, dest, "--csv", "/proc/s3xcopy-bench.csv")) == 1
    captured = capsys.readouterr()
    assert "concurrency" in captured.out
    assert captured.err.splitlines()[-1].startswith("error: cannot write /proc/s3xcopy-bench.csv")
    assert s3.list_objects_v2(Bucket="sweep-dst").get("KeyCount") == 0


def test_a_missing_profile_is_bad_input(
    sweep_model: tuple[Any, Any],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model, _ = sweep_model
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    argv = sweep_argv(model, "s3://sweep-src/data/obj.bin", "s3://sweep-dst/tmp/")
    assert main([*argv, "--profile", "no-such-profile-s3xcopy"]) == 2
    assert "no-such-profile-s3xcopy" in capsys.readouterr().err
