"""Killed, interrupted and resumed runs on the real server, counted through the fault proxy.

The proxy slows UploadPartCopy down and, at a chosen point, holds every new request
(``frozen``), so the client is killed at a known state: some parts copied, uploads
open, some small objects done.
"""

from __future__ import annotations

import math
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from s3xcopy.limits import MiB
from s3xcopy.seaweed import SeaweedServer

from .conftest import fast_client, list_keys, open_uploads, put_objects
from .faultproxy import FaultProxy, Request

pytestmark = pytest.mark.seaweed

BIG = {f"data/big-{n}.bin": 25 * MiB + 1 + n for n in range(3)}  # 5 parts of 5 MiB + a tail
PARTS = sum(math.ceil(size / (5 * MiB)) for size in BIG.values())
SMALL = {f"data/small/{n:03d}.txt": 100 + n for n in range(40)}
TUNING = ["--multipart-threshold", "5MiB", "--part-size", "5MiB", "--max-concurrency", "4"]


def body(key: str, size: int) -> bytes:
    return random.Random(key).randbytes(size)


def seed(seaweed: SeaweedServer, name: str) -> tuple[Any, str, str]:
    client = fast_client(seaweed)
    source, dest = f"{name}-src", f"{name}-dst"
    client.create_bucket(Bucket=source)
    client.create_bucket(Bucket=dest)
    objects = {**BIG, **SMALL}
    put_objects(client, source, [(k, body(k, size), {}) for k, size in objects.items()])
    return client, source, dest


def start(
    proxy: FaultProxy, cli_env: dict[str, str], source: str, dest: str, *extra: str
) -> subprocess.Popen[str]:
    command = [
        sys.executable, "-m", "s3xcopy", "cp", "--recursive", f"s3://{source}/data/",
        f"s3://{dest}/data/", *TUNING, "--endpoint-url", proxy.endpoint_url, *extra,
    ]  # fmt: skip
    return subprocess.Popen(
        command, env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def freeze_after(parts: int) -> Any:
    """An on_request hook: hold every request once ``parts`` UploadPartCopy succeeded."""

    def hook(proxy: FaultProxy, request: Request) -> None:
        done = [r for r in proxy.requests("UploadPartCopy") if r.ok]
        if len(done) >= parts:
            proxy.frozen.set()

    return hook


def wait_for(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def assert_copied_intact(client: Any, source: str, dest: str) -> None:
    source_keys = list_keys(client, source, "data/")
    dest_keys = list_keys(client, dest, "data/")
    assert sorted(dest_keys) == sorted(source_keys)
    for key in SMALL:
        assert dest_keys[key]["ETag"] == source_keys[key]["ETag"], key
    for key, size in BIG.items():
        assert client.get_object(Bucket=dest, Key=key)["Body"].read() == body(key, size), key


def test_sigkill_midway_then_rerun_completes_and_copies_no_part_twice(
    seaweed: SeaweedServer, proxy: FaultProxy, cli_env: dict[str, str], tmp_path: Path
) -> None:
    client, source, dest = seed(seaweed, "killed")
    journal = tmp_path / "run.journal"
    proxy.delays["UploadPartCopy"] = 0.2
    proxy.on_request = freeze_after(parts=5)
    child = start(proxy, cli_env, source, dest, "--journal", str(journal))
    try:
        wait_for(proxy.frozen.is_set, 90, "five parts to be copied")
        time.sleep(1.2)  # answers already sent reach the journal (it commits within 0.5 s)
    finally:
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL
    proxy.on_request = None
    proxy.delays.clear()
    proxy.frozen.clear()
    first_run = proxy.requests()
    parts_first = [r for r in first_run if r.operation == "UploadPartCopy" and r.ok]
    assert 5 <= len(parts_first) < PARTS  # killed midway ...
    assert open_uploads(client, dest)  # ... with multipart uploads open

    rerun = subprocess.run(
        [
            sys.executable, "-m", "s3xcopy", "cp", "--recursive", f"s3://{source}/data/",
            f"s3://{dest}/data/", *TUNING, "--endpoint-url", proxy.endpoint_url,
            "--journal", str(journal),
        ],
        env=cli_env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "summary: copied" in rerun.stderr

    everything = proxy.requests()
    parts = Counter(
        (r.key, r.part_number) for r in everything if r.operation == "UploadPartCopy" and r.ok
    )
    assert len(parts) == PARTS  # every part of every big object ...
    assert set(parts.values()) == {1}  # ... copied exactly once over both runs
    assert not [r for r in everything[len(first_run) :] if r.operation == "CreateMultipartUpload"]
    # Objects the first run finished (copied, and verified by the copy's own ETag) are
    # skipped by the second; the journal records them within 0.5 s, before the kill.
    finished = {r.key for r in first_run if r.operation == "CopyObject" and r.ok}
    recopied = {r.key for r in everything[len(first_run) :] if r.operation == "CopyObject"}
    assert finished
    assert not finished & recopied
    assert len(recopied) < len(SMALL)
    assert open_uploads(client, dest) == []
    assert_copied_intact(client, source, dest)


def test_ctrl_c_without_a_journal_aborts_open_uploads(
    seaweed: SeaweedServer, proxy: FaultProxy, cli_env: dict[str, str]
) -> None:
    client, source, dest = seed(seaweed, "interrupted")
    proxy.delays["UploadPartCopy"] = 0.3
    child = start(proxy, cli_env, source, dest)
    try:
        wait_for(
            lambda: len([r for r in proxy.requests("UploadPartCopy") if r.ok]) >= 2,
            90,
            "two parts",
        )
        assert open_uploads(client, dest)
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 130, err[-2000:]
    assert "Traceback" not in err
    assert "open multipart uploads were aborted" in err
    assert open_uploads(client, dest) == []
    big_done = [key for key in BIG if key in list_keys(client, dest, "data/")]
    assert len(big_done) < len(BIG)


def test_ctrl_c_with_a_journal_keeps_uploads_and_the_same_command_resumes(
    seaweed: SeaweedServer, proxy: FaultProxy, cli_env: dict[str, str], tmp_path: Path
) -> None:
    client, source, dest = seed(seaweed, "paused")
    journal = tmp_path / "run.journal"
    proxy.delays["UploadPartCopy"] = 0.5
    child = start(proxy, cli_env, source, dest, "--journal", str(journal))

    def started() -> bool:  # every upload open (else the resume must create one), parts done
        created = [r for r in proxy.requests("CreateMultipartUpload") if r.ok]
        return (
            len(created) == len(BIG)
            and len([r for r in proxy.requests("UploadPartCopy") if r.ok]) >= 3
        )

    try:
        wait_for(started, 90, "every upload created and three parts")
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 130, err[-2000:]
    assert f"run the same command again to resume from {journal}" in err
    assert open_uploads(client, dest)  # kept for the journal
    proxy.delays.clear()
    before = len(proxy.requests())
    child = start(proxy, cli_env, source, dest, "--journal", str(journal))
    _, err = child.communicate(timeout=180)
    assert child.returncode == 0, err[-2000:]
    resumed = proxy.requests()[before:]
    assert not [r for r in resumed if r.operation == "CreateMultipartUpload"]
    parts = Counter((r.key, r.part_number) for r in proxy.requests("UploadPartCopy") if r.ok)
    assert set(parts.values()) == {1}
    assert open_uploads(client, dest) == []
    assert_copied_intact(client, source, dest)
