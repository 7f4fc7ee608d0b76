"""``cp --journal`` / ``copy_object(journal=)``: killed or interrupted, the same call resumes.

On the real server through the fault proxy, which slows UploadPartCopy and can hold
every request, so the copy stops at a known state: some parts copied, the upload open.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from s3xcopy import CopyConfig, CopyResult, copy_object
from s3xcopy.errors import CopyInterruptedError, InvalidInputError
from s3xcopy.events import BytesCopied, Event, Listener
from s3xcopy.limits import MiB
from s3xcopy.seaweed import SeaweedServer

from .conftest import fast_client, open_uploads
from .faultproxy import FaultProxy
from .test_interrupt_and_resume import body, freeze_after, wait_for

pytestmark = pytest.mark.seaweed

SIZE = 30 * MiB + 7  # 7 parts of 5 MiB
PARTS = 7


def seed(seaweed: SeaweedServer, name: str) -> tuple[Any, str, str]:
    client = fast_client(seaweed)
    source, dest = f"{name}-src", f"{name}-dst"
    client.create_bucket(Bucket=source)
    client.create_bucket(Bucket=dest)
    client.put_object(Bucket=source, Key="big.bin", Body=body("big.bin", SIZE))
    return client, source, dest


def command(proxy: FaultProxy, source: str, dest: str, journal: Path) -> list[str]:
    return [
        sys.executable, "-m", "s3xcopy", "cp", f"s3://{source}/big.bin", f"s3://{dest}/",
        "--multipart-threshold", "5MiB", "--part-size", "5MiB", "--max-concurrency", "2",
        "--endpoint-url", proxy.endpoint_url, "--journal", str(journal),
    ]  # fmt: skip


def stopped(
    argv: list[str], env: dict[str, str], ready: Any, what: str, sig: int
) -> tuple[int, str]:
    """Run ``argv``, send ``sig`` once ``ready()``; its exit code and stderr."""
    child = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for(ready, 90, what)
        if sig == signal.SIGKILL:
            time.sleep(0.5)  # the upload's id reaches the journal (committed at once)
        child.send_signal(sig)
        _, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    return child.returncode, err


def finish(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` to the end."""
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=180, check=False)


def parts_copied(proxy: FaultProxy) -> Counter[int | None]:
    return Counter(r.part_number for r in proxy.requests("UploadPartCopy") if r.ok)


def copied_parts(proxy: FaultProxy, at_least: int) -> Any:
    """A condition: ``at_least`` parts copied."""
    return lambda: sum(parts_copied(proxy).values()) >= at_least


def assert_resumed(proxy: FaultProxy, client: Any, source: str, dest: str, before: int) -> None:
    """The second run made no upload, and over both runs every part was copied once."""
    assert not [r for r in proxy.requests()[before:] if r.operation == "CreateMultipartUpload"]
    parts = parts_copied(proxy)
    assert sorted(parts) == list(range(1, PARTS + 1))
    assert set(parts.values()) == {1}
    assert open_uploads(client, dest) == []
    assert client.get_object(Bucket=dest, Key="big.bin")["Body"].read() == body("big.bin", SIZE)


def test_sigkilled_copy_of_one_object_resumes_without_copying_a_part_twice(
    seaweed: SeaweedServer, proxy: FaultProxy, cli_env: dict[str, str], tmp_path: Path
) -> None:
    client, source, dest = seed(seaweed, "one-killed")
    journal = tmp_path / "one.journal"
    proxy.delays["UploadPartCopy"] = 0.2
    proxy.on_request = freeze_after(parts=3)
    argv = command(proxy, source, dest, journal)
    code, _ = stopped(argv, cli_env, proxy.frozen.is_set, "three parts", signal.SIGKILL)
    assert code == -signal.SIGKILL
    proxy.on_request = None
    proxy.delays.clear()
    proxy.frozen.clear()
    assert 3 <= sum(parts_copied(proxy).values()) < PARTS
    assert open_uploads(client, dest)
    before = len(proxy.requests())

    rerun = finish(command(proxy, source, dest, journal), cli_env)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert f"copy: s3://{source}/big.bin to s3://{dest}/big.bin" in rerun.stdout
    assert_resumed(proxy, client, source, dest, before)

    again = finish(command(proxy, source, dest, journal), cli_env)
    assert again.returncode == 0, again.stderr
    assert "copied by an earlier run" in again.stderr and again.stdout == ""
    assert sum(parts_copied(proxy).values()) == PARTS  # nothing copied the third time


def test_ctrl_c_keeps_the_upload_of_one_object_for_the_same_command(
    seaweed: SeaweedServer, proxy: FaultProxy, cli_env: dict[str, str], tmp_path: Path
) -> None:
    client, source, dest = seed(seaweed, "one-paused")
    journal = tmp_path / "one.journal"
    proxy.delays["UploadPartCopy"] = 0.5
    argv = command(proxy, source, dest, journal)
    code, err = stopped(argv, cli_env, copied_parts(proxy, 2), "two parts", signal.SIGINT)
    assert code == 130, err[-2000:]
    assert "Traceback" not in err
    assert f"interrupted: run the same command again to resume from {journal}" in err
    assert open_uploads(client, dest)  # kept for the journal
    proxy.delays.clear()
    before = len(proxy.requests())

    rerun = finish(command(proxy, source, dest, journal), cli_env)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert_resumed(proxy, client, source, dest, before)


def test_without_a_journal_an_interrupted_copy_of_one_object_leaves_no_upload(
    seaweed: SeaweedServer, proxy: FaultProxy, cli_env: dict[str, str], tmp_path: Path
) -> None:
    client, source, dest = seed(seaweed, "one-aborted")
    proxy.delays["UploadPartCopy"] = 0.5
    argv = command(proxy, source, dest, tmp_path / "unused")[:-2]  # no --journal
    code, err = stopped(argv, cli_env, copied_parts(proxy, 1), "a part", signal.SIGINT)
    assert code == 130, err[-2000:]
    assert open_uploads(client, dest) == []


# --- copy_object(journal=...): the library's resume ------------------------------------


def library_copy(
    proxy: FaultProxy, session: Any, source: str, dest: str, journal: Path, **kwargs: Any
) -> CopyResult:
    config = CopyConfig(multipart_threshold=5 * MiB, part_size=5 * MiB, max_concurrency=2)
    return copy_object(
        f"s3://{source}/big.bin", f"s3://{dest}/", config, session,
        endpoint_url=proxy.endpoint_url, journal=journal, **kwargs,
    )  # fmt: skip


def cancel_after_parts(parts: int) -> tuple[threading.Event, Listener]:
    """A cancel event set once ``parts`` parts were copied, and the listener that sets it."""
    cancel = threading.Event()
    done = [0]

    def listener(event: Event) -> None:
        if isinstance(event, BytesCopied):
            done[0] += 1
            if done[0] >= parts:
                cancel.set()

    return cancel, listener


def test_copy_object_with_a_journal_resumes_then_skips_what_it_made(
    seaweed: SeaweedServer,
    proxy: FaultProxy,
    seaweed_session: Any,
    tmp_path: Path,
) -> None:
    client, source, dest = seed(seaweed, "lib-journal")
    journal = tmp_path / "lib.journal"
    proxy.delays["UploadPartCopy"] = 0.3
    cancel, listener = cancel_after_parts(2)
    with pytest.raises(CopyInterruptedError):
        library_copy(
            proxy, seaweed_session, source, dest, journal, cancel=cancel, listener=listener
        )
    assert 2 <= sum(parts_copied(proxy).values()) < PARTS
    assert open_uploads(client, dest)  # kept for the journal
    proxy.delays.clear()
    before = len(proxy.requests())

    resumed = library_copy(proxy, seaweed_session, source, dest, journal)
    assert (resumed.strategy, resumed.parts, resumed.skipped) == ("multipart", PARTS, False)
    assert_resumed(proxy, client, source, dest, before)

    before = len(proxy.requests())
    again = library_copy(proxy, seaweed_session, source, dest, journal)
    assert again.skipped and again.seconds == 0.0 and again.warning is None
    assert (again.etag, again.size, again.parts) == (resumed.etag, resumed.size, PARTS)
    sent = [r.operation for r in proxy.requests()[before:]]
    assert sorted(sent) == ["HeadObject", "HeadObject"]  # the source's ETag, the destination


def test_a_journal_copy_gone_from_the_destination_is_made_again(
    seaweed: SeaweedServer, proxy: FaultProxy, seaweed_session: Any, tmp_path: Path
) -> None:
    client, source, dest = seed(seaweed, "lib-gone")
    journal = tmp_path / "lib.journal"
    first = library_copy(proxy, seaweed_session, source, dest, journal)
    source_heads = [r for r in proxy.requests("HeadObject") if r.bucket == source]
    assert len(source_heads) == 1  # the journal's lookup is the copy's own inspection
    client.delete_object(Bucket=dest, Key="big.bin")

    again = library_copy(proxy, seaweed_session, source, dest, journal)
    assert not again.skipped and again.parts == PARTS
    assert again.warning == (
        f"s3://{dest}/big.bin: the copy an earlier run made is no longer there; copying it again"
    )
    assert client.get_object(Bucket=dest, Key="big.bin")["Body"].read() == body("big.bin", SIZE)

    client.put_object(Bucket=dest, Key="big.bin", Body=b"something else")
    third = library_copy(proxy, seaweed_session, source, dest, journal)
    assert not third.skipped and third.warning and "no longer the copy" in third.warning
    assert third.size == first.size == SIZE
    assert library_copy(proxy, seaweed_session, source, dest, journal).skipped


def test_cp_journal_copies_again_what_was_deleted_at_the_destination(
    seaweed: SeaweedServer, proxy: FaultProxy, cli_env: dict[str, str], tmp_path: Path
) -> None:
    client, source, dest = seed(seaweed, "cli-gone")
    journal = tmp_path / "one.journal"
    argv = command(proxy, source, dest, journal)
    assert finish(argv, cli_env).returncode == 0
    client.delete_object(Bucket=dest, Key="big.bin")

    dry = finish([*argv, "--dryrun"], cli_env)
    assert dry.returncode == 0, dry.stderr
    assert f"(dryrun) copy: s3://{source}/big.bin to s3://{dest}/big.bin" in dry.stdout
    assert "no longer there" in dry.stderr

    again = finish(argv, cli_env)
    assert again.returncode == 0, again.stderr
    assert f"copy: s3://{source}/big.bin to s3://{dest}/big.bin" in again.stdout
    assert "no longer there; copying it again" in again.stderr
    assert client.head_object(Bucket=dest, Key="big.bin")["ContentLength"] == SIZE


def test_copy_object_refuses_bad_input_before_making_the_journal(
    seaweed: SeaweedServer, proxy: FaultProxy, seaweed_session: Any, tmp_path: Path
) -> None:
    _, source, dest = seed(seaweed, "lib-bad")
    journal = tmp_path / "lib.journal"
    with pytest.raises(InvalidInputError):
        library_copy(proxy, seaweed_session, source, dest, journal, extra_args={"StorageClass": 5})
    assert not journal.exists()
    library_copy(proxy, seaweed_session, source, dest, journal)
    with pytest.raises(InvalidInputError, match="belongs to a run"):
        copy_object(
            f"s3://{source}/big.bin", f"s3://{dest}/other.bin", session=seaweed_session,
            endpoint_url=proxy.endpoint_url, journal=journal,
        )  # fmt: skip
