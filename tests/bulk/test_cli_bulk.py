"""s3xcopy cp --recursive and s3xcopy sync in subprocesses: output, exit codes, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from s3xcopy.seaweed import SeaweedServer

from .conftest import CliRunner, fast_client, list_keys, put_objects
from .faultproxy import FaultProxy

pytestmark = pytest.mark.seaweed


@pytest.fixture
def buckets(seaweed: SeaweedServer, make_bucket: Any) -> tuple[Any, str, str]:
    client = fast_client(seaweed)
    source, dest = make_bucket("cli-src"), make_bucket("cli-dst")
    put_objects(
        client,
        source,
        [(f"p/{name}", name.encode(), {}) for name in ("a.txt", "b.csv", "sub/c.txt", "d.log")],
    )
    return client, source, dest


def test_text_output_is_aws_s3_lines_then_a_summary(
    buckets: tuple[Any, str, str], run_cli: CliRunner
) -> None:
    client, source, dest = buckets
    done = run_cli("cp", "--recursive", f"s3://{source}/p", f"s3://{dest}/q", "--exclude", "*.log")
    assert done.returncode == 0, done.stderr
    assert sorted(done.stdout.splitlines()) == [
        f"copy: s3://{source}/p/{name} to s3://{dest}/q/{name}"
        for name in ("a.txt", "b.csv", "sub/c.txt")
    ]
    assert done.stderr.startswith("summary: copied 3 objects (")
    assert ", skipped 0, failed 0, deleted 0 in " in done.stderr
    assert sorted(list_keys(client, dest)) == ["q/a.txt", "q/b.csv", "q/sub/c.txt"]


def test_sync_delete_deletes_after_copying_and_says_so(
    buckets: tuple[Any, str, str], run_cli: CliRunner
) -> None:
    client, source, dest = buckets
    put_objects(client, dest, [("q/stale.txt", b"old", {}), ("q/a.txt", b"a.txt", {})])
    done = run_cli("sync", f"s3://{source}/p/", f"s3://{dest}/q/", "--delete")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == f"delete: s3://{dest}/q/stale.txt"
    assert sorted(lines[:-1]) == [
        f"copy: s3://{source}/p/{name} to s3://{dest}/q/{name}"
        for name in ("b.csv", "d.log", "sub/c.txt")
    ]
    assert "skipped 1, failed 0, deleted 1" in done.stderr
    assert sorted(list_keys(client, dest)) == ["q/a.txt", "q/b.csv", "q/d.log", "q/sub/c.txt"]


def test_json_lines_per_object_and_a_summary(
    buckets: tuple[Any, str, str], run_cli: CliRunner
) -> None:
    _, source, dest = buckets
    put_objects(buckets[0], dest, [("q/a.txt", b"a.txt", {})])
    done = run_cli("sync", f"s3://{source}/p/", f"s3://{dest}/q/", "--json")
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    events = sorted(r["event"] for r in records)
    assert events == ["copied", "copied", "copied", "skipped", "summary"]
    copied = next(r for r in records if r["event"] == "copied")
    for field in ("source", "dest", "strategy", "size", "parts", "etag", "seconds", "findings"):
        assert field in copied
    summary = records[-1]
    assert summary["event"] == "summary"
    assert (summary["objects"], summary["skipped"], summary["failed"]) == (3, 1, 0)
    assert summary["bytes"] == sum(r["size"] for r in records if r["event"] == "copied")
    assert done.stderr == ""


def test_quiet_prints_nothing_and_only_show_errors_prints_failures(
    buckets: tuple[Any, str, str], run_cli: CliRunner
) -> None:
    _, source, dest = buckets
    quiet = run_cli("cp", "--recursive", f"s3://{source}/p/", f"s3://{dest}/q1/", "--quiet")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    errors = run_cli(
        "cp", "--recursive", f"s3://{source}/p/", f"s3://{dest}/q2/", "--only-show-errors"
    )
    assert (errors.returncode, errors.stdout, errors.stderr) == (0, "", "")


def test_exit_3_when_every_failure_is_access_denied_and_1_otherwise(
    buckets: tuple[Any, str, str], run_cli: CliRunner, proxy: FaultProxy
) -> None:
    _, source, dest = buckets
    proxy.fault = lambda op, bucket, key: (403, "AccessDenied") if op == "CopyObject" else None
    denied = run_cli(
        "cp", "--recursive", f"s3://{source}/p/", f"s3://{dest}/q/", endpoint=proxy.endpoint_url
    )
    assert denied.returncode == 3, denied.stderr
    assert denied.stderr.count("copy failed:") == 4
    assert "failed 4" in denied.stderr
    assert "Traceback" not in denied.stderr

    proxy.fault = lambda op, bucket, key: (
        ((403, "AccessDenied") if key.endswith(".txt") else (500, "InternalError"))
        if op == "CopyObject" and not key.endswith(".log")
        else None
    )
    mixed = run_cli(
        "cp", "--recursive", f"s3://{source}/p/", f"s3://{dest}/q/", "--max-attempts", "1",
        endpoint=proxy.endpoint_url,
    )  # fmt: skip
    assert mixed.returncode == 1, mixed.stderr
    assert mixed.stdout.splitlines() == [f"copy: s3://{source}/p/d.log to s3://{dest}/q/d.log"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["cp", "--recursive", "s3://{src}/p/", "s3://{src}/p/sub/"], "inside the source"),
        (["sync", "s3://{src}/", "s3://{src}/p/"], "inside the source"),
        (["sync", "s3://{src}/p/sub/", "s3://{src}/p/", "--delete"], "delete the source"),
        (["sync", "s3://{src}/p/", "s3://{dst}/q/", "--size-only", "--checksum"], "not allowed"),
        (["cp", "--recursive", "s3://{src}/p?versionId=v1", "s3://{dst}/q/"], "versionId"),
        (["cp", "s3://{src}/p/a.txt", "s3://{dst}/q/", "--journal", "{notes}"], "not an s3xcopy"),
        (["cp", "s3://{src}/p/", "s3://{dst}/q/", "--journal", "{journal}"], "not a prefix"),
        (["sync", "s3://{src}/p/", "s3://{dst}/q/", "--journal", "{notes}"], "not an s3xcopy"),
        (["sync", "s3://{src}/p/", "/tmp/local"], "not an S3 URI"),
        (["sync", "s3://{src}/p/", "s3://{dst}/q/", "--exclude"], "expected one argument"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_written(
    buckets: tuple[Any, str, str],
    run_cli: CliRunner,
    tmp_path: Path,
    args: list[str],
    message: str,
) -> None:
    client, source, dest = buckets
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes, not a journal " * 50)
    journal = tmp_path / "run.journal"
    values = {"src": source, "dst": dest, "journal": journal, "notes": notes}
    done = run_cli(*[arg.format(**values) for arg in args])
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stdout == ""
    assert sorted(list_keys(client, dest)) == []
    assert sorted(list_keys(client, source)) == ["p/a.txt", "p/b.csv", "p/d.log", "p/sub/c.txt"]
    assert not journal.exists()
    assert notes.read_text() == "my notes, not a journal " * 50


def test_missing_source_bucket_is_exit_2(run_cli: CliRunner, make_bucket: Any) -> None:
    dest = make_bucket("cli-dst")
    done = run_cli("sync", "s3://no-such-bucket-here/p/", f"s3://{dest}/q/")
    assert done.returncode == 2, done.stderr
    assert "NoSuchBucket" in done.stderr
    assert "Traceback" not in done.stderr


def test_single_object_cp_applies_filters_as_aws_s3(
    buckets: tuple[Any, str, str], run_cli: CliRunner
) -> None:
    client, source, dest = buckets
    skipped = run_cli("cp", f"s3://{source}/p/a.txt", f"s3://{dest}/q/", "--exclude", "*.txt")
    assert (skipped.returncode, skipped.stdout) == (0, "")
    assert list_keys(client, dest) == {}
    copied = run_cli("cp", f"s3://{source}/p/a.txt", f"s3://{dest}/q/", "--exclude", "*.csv")
    assert copied.returncode == 0, copied.stderr
    assert sorted(list_keys(client, dest)) == ["q/a.txt"]


def test_a_closed_stdout_stops_the_run_quietly(
    seaweed: SeaweedServer,
    make_bucket: Any,
    cli_env: dict[str, str],
    proxy: FaultProxy,
) -> None:
    """``s3xcopy sync ... | head -1``: no traceback, the run stops like an interrupt."""
    client = fast_client(seaweed)
    source, dest = make_bucket("pipe-src"), make_bucket("pipe-dst")
    put_objects(client, source, [(f"p/{n:02d}", b"x", {}) for n in range(30)])
    proxy.delays["CopyObject"] = 0.1
    command = [
        sys.executable, "-m", "s3xcopy", "sync", f"s3://{source}/p/", f"s3://{dest}/q/",
        "--max-concurrency", "1", "--endpoint-url", proxy.endpoint_url,
    ]  # fmt: skip
    child = subprocess.Popen(
        command, env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert child.stdout is not None and child.stderr is not None
    first = child.stdout.readline()
    child.stdout.close()
    err = child.stderr.read()
    child.wait(timeout=60)
    assert first.startswith("copy: ")
    assert child.returncode == 130, err
    assert "Traceback" not in err
    assert "summary: copied" in err
    assert len(list_keys(client, dest)) < 30


def _run_on_a_terminal(
    command: list[str], env: dict[str, str], timeout: float = 120
) -> tuple[int, str, str]:
    """Run with stderr on a pseudo-terminal (so the CLI shows its bar); (rc, stdout, tty)."""
    import fcntl
    import os
    import pty
    import select
    import struct
    import termios
    import time

    master, slave = pty.openpty()
    # A terminal of 24 x 100 (a new pseudo-terminal has no size, and tqdm draws nothing
    # on a terminal 0 columns wide).
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    screen = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                screen += chunk
            elif process.poll() is not None:
                break
        assert process.stdout is not None
        out = process.stdout.read().decode()
        code = process.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
    return code, out, screen.decode(errors="replace")


@pytest.mark.parametrize("flag", [None, "--no-progress"])
def test_a_terminal_gets_a_progress_bar_and_the_lines_stay_whole(
    buckets: tuple[Any, str, str], cli_env: dict[str, str], seaweed: SeaweedServer,
    flag: str | None,
) -> None:  # fmt: skip
    _, source, dest = buckets
    command = [sys.executable, "-m", "s3xcopy", "cp", "--recursive", f"s3://{source}/p",
               f"s3://{dest}/q", "--endpoint-url", seaweed.endpoint_url]  # fmt: skip
    code, out, screen = _run_on_a_terminal(command + ([flag] if flag else []), cli_env)
    assert code == 0, screen
    assert len(out.splitlines()) == 4  # stdout (a pipe) has the lines, never the bar
    assert all(line.startswith("copy: s3://") for line in out.splitlines())
    if flag is None:
        assert "objects:" in screen and "/4" in screen  # the bar, with its total
    else:
        assert "objects:" not in screen
    assert "summary: copied 4 objects" in screen


def test_page_size_sets_the_keys_per_listing_request(
    buckets: tuple[Any, str, str], run_cli: CliRunner, proxy: FaultProxy
) -> None:
    """4 source keys at 3 a page: 2 listing requests; sync lists the destination the same way."""
    client, source, dest = buckets
    done = run_cli(
        "cp", "--recursive", f"s3://{source}/p/", f"s3://{dest}/q/", "--page-size", "3",
        endpoint=proxy.endpoint_url,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len(proxy.requests("ListObjectsV2")) == 2
    assert len(list_keys(client, dest, "q/")) == 4
    proxy.reset()
    done = run_cli(
        "sync", f"s3://{source}/p/", f"s3://{dest}/q/", "--page-size", "3",
        endpoint=proxy.endpoint_url,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len(proxy.requests("ListObjectsV2")) == 4  # source and destination, 2 pages each
    assert "skipped 4" in done.stderr
