"""BulkRun end to end on moto (in process), with faults injected by operation.

moto stands in where S3's exact behaviour does not matter (it ignores
CopySourceIfMatch); the SeaweedFS tests cover the real server.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError
from moto import mock_aws

from s3xcopy import CopyConfig, Finding
from s3xcopy.bulk import BulkRun, ObjectOutcome, plan_job
from s3xcopy.cli.exitcodes import ExitCode
from s3xcopy.cli.sync import bulk_exit_code
from s3xcopy.engine import CopyEngine
from s3xcopy.journal import Journal
from s3xcopy.throttle import AdaptiveGate

Fault = Callable[[str, dict[str, Any]], Exception | None]


class FaultyClient:
    """A boto3 client whose calls can fail on purpose, counted by operation name."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.meta = client.meta
        self.calls: Counter[str] = Counter()
        self.faults: list[Fault] = []
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)
        operation = self._client.meta.method_to_api_mapping.get(name, name)

        def call(**kwargs: Any) -> Any:
            with self._lock:
                self.calls[operation] += 1
            for fault in self.faults:
                error = fault(operation, kwargs)
                if error is not None:
                    raise error
            return method(**kwargs)

        return call


def client_error(code: str, operation: str, status: int = 403) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": f"{code} (injected)"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        operation,
    )


def copy_of_fails(key: str) -> Fault:
    """A fault: the CopyObject to destination ``key`` answers InternalError (500)."""
    return lambda op, kw: (
        client_error("InternalError", op, 500) if op == "CopyObject" and kw["Key"] == key else None
    )


@pytest.fixture
def moto_s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client(
            "s3", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
        )
        client.create_bucket(Bucket="src")
        client.create_bucket(Bucket="dst")
        yield client


def put(client: Any, bucket: str, key: str, body: bytes = b"data", **extra: Any) -> None:
    client.put_object(Bucket=bucket, Key=key, Body=body, **extra)


def keys(client: Any, bucket: str, prefix: str = "") -> list[str]:
    answer = client.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return sorted(item["Key"] for item in answer.get("Contents", ()))


def start(
    client: FaultyClient,
    kind: str,
    source: str,
    dest: str,
    *,
    journal: Path | None = None,
    config: CopyConfig | None = None,
    **job: Any,
) -> BulkRun:
    config = config or CopyConfig(max_concurrency=4)
    planned = plan_job(kind, source, dest, config, **job)
    cancel = threading.Event()
    gate = AdaptiveGate(config.max_concurrency, cancel=cancel)
    executor = ThreadPoolExecutor(config.max_concurrency)
    engine = CopyEngine(
        client, config=config, gate=gate, executor=executor, cancel=cancel, sleep=lambda s: None
    )
    opened = None
    if journal is not None:
        opened = Journal.open(
            journal,
            source=f"s3://{planned.source.bucket}/{planned.source_prefix}",
            dest=f"s3://{planned.dest.bucket}/{planned.dest_prefix}",
            readonly=planned.dryrun,
        )
    return BulkRun(planned, engine, gate=gate, executor=executor, journal=opened, cancel=cancel)


def by_status(outcomes: list[ObjectOutcome]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for outcome in outcomes:
        found.setdefault(f"{outcome.action}:{outcome.status}", []).append(outcome.dest)
    return {k: sorted(v) for k, v in found.items()}


def test_cp_recursive_maps_keys_under_the_prefix(moto_s3: Any) -> None:
    for key in ("logs/a.log", "logs/sub/b.log", "logs/c.txt", "logs2/not-me", "other/x"):
        put(moto_s3, "src", key)
    put(moto_s3, "src", "logs/folder/", b"")  # a console "folder": skipped, as aws s3 does
    client = FaultyClient(moto_s3)
    run = start(client, "cp", "s3://src/logs", "s3://dst/backup/")
    outcomes = list(run)
    assert by_status(outcomes) == {
        "copy:copied": [
            "s3://dst/backup/a.log",
            "s3://dst/backup/c.txt",
            "s3://dst/backup/sub/b.log",
        ]
    }
    assert keys(moto_s3, "dst") == ["backup/a.log", "backup/c.txt", "backup/sub/b.log"]
    summary = run.summary
    assert (summary.objects, summary.bytes, summary.failed, summary.listed) == (3, 12, 0, 3)
    assert bulk_exit_code(summary) is ExitCode.OK
    copied = {o.source: o.result for o in outcomes}
    assert copied["s3://src/logs/sub/b.log"] is not None


def test_filters_and_dryrun_copy_nothing_but_say_what_would_be(moto_s3: Any) -> None:
    for key in ("logs/test/test.log", "logs/test3.log", "logs/test2.txt"):
        put(moto_s3, "src", key)
    client = FaultyClient(moto_s3)
    run = start(
        client, "cp", "s3://src/logs/", "s3://dst/logs/",
        filters=[("exclude", "*"), ("include", "*.log")], dryrun=True,
    )  # fmt: skip
    assert run.sources is None  # not listed yet: a progress bar has no total
    outcomes = list(run)
    assert run.sources == 2 == len(outcomes)  # listed and kept by the filters
    assert by_status(outcomes) == {
        "copy:dryrun": ["s3://dst/logs/test/test.log", "s3://dst/logs/test3.log"]
    }
    assert client.calls["CopyObject"] == 0
    assert client.calls["HeadObject"] == 0
    assert keys(moto_s3, "dst") == []
    assert run.summary.dryrun
    assert run.summary.objects == 2


def test_sync_copies_new_and_changed_objects_and_deletes_extras_last(moto_s3: Any) -> None:
    put(moto_s3, "src", "p/same", b"1234")
    put(moto_s3, "dst", "q/same", b"abcd")  # same size, written after the source: skipped
    put(moto_s3, "src", "p/bigger", b"123456")
    put(moto_s3, "dst", "q/bigger", b"12")  # size differs: copied
    put(moto_s3, "src", "p/new", b"new")
    put(moto_s3, "dst", "q/extra", b"x")  # not at the source: deleted with --delete
    put(moto_s3, "dst", "q/keep.tmp", b"x")  # excluded: neither copied nor deleted
    client = FaultyClient(moto_s3)
    run = start(
        client, "sync", "s3://src/p/", "s3://dst/q/", delete=True,
        filters=[("exclude", "*.tmp")],
    )  # fmt: skip
    outcomes = list(run)
    assert by_status(outcomes) == {
        "copy:copied": ["s3://dst/q/bigger", "s3://dst/q/new"],
        "copy:skipped": ["s3://dst/q/same"],
        "delete:deleted": ["s3://dst/q/extra"],
    }
    # Deletes come after every copy.
    last_copy = max(i for i, o in enumerate(outcomes) if o.action == "copy")
    assert outcomes[-1].action == "delete"
    assert last_copy < len(outcomes) - 1
    assert keys(moto_s3, "dst") == ["q/bigger", "q/keep.tmp", "q/new", "q/same"]
    assert moto_s3.get_object(Bucket="dst", Key="q/same")["Body"].read() == b"abcd"
    assert (run.summary.deleted, run.summary.skipped) == (1, 1)
    assert run.sources == 3  # one outcome per source object; deletions beside them


def test_sync_without_delete_never_deletes(moto_s3: Any) -> None:
    put(moto_s3, "dst", "q/extra")
    client = FaultyClient(moto_s3)
    assert start(client, "sync", "s3://src/p/", "s3://dst/q/").result().deleted == 0
    assert client.calls["DeleteObjects"] == 0
    assert keys(moto_s3, "dst") == ["q/extra"]


def test_delete_waits_for_every_copy_to_succeed(moto_s3: Any) -> None:
    put(moto_s3, "src", "p/ok")
    put(moto_s3, "src", "p/broken")
    put(moto_s3, "dst", "q/extra")
    client = FaultyClient(moto_s3)
    client.faults.append(copy_of_fails("q/broken"))
    run = start(client, "sync", "s3://src/p/", "s3://dst/q/", delete=True)
    outcomes = list(run)
    assert by_status(outcomes)["copy:failed"] == ["s3://dst/q/broken"]
    assert client.calls["DeleteObjects"] == 0
    assert keys(moto_s3, "dst") == ["q/extra", "q/ok"]
    summary = run.summary
    assert (summary.failed, summary.deleted, summary.delete_skipped) == (1, 0, 1)
    assert bulk_exit_code(summary) is ExitCode.FAILED


def test_dryrun_sync_with_delete_lists_both_and_changes_nothing(moto_s3: Any) -> None:
    put(moto_s3, "src", "p/new")
    put(moto_s3, "dst", "q/extra")
    client = FaultyClient(moto_s3)
    outcomes = list(start(client, "sync", "s3://src/p/", "s3://dst/q/", delete=True, dryrun=True))
    assert by_status(outcomes) == {
        "copy:dryrun": ["s3://dst/q/new"],
        "delete:dryrun": ["s3://dst/q/extra"],
    }
    assert client.calls["CopyObject"] + client.calls["DeleteObjects"] == 0
    assert keys(moto_s3, "dst") == ["q/extra"]


def test_exit_code_3_only_when_every_failure_was_access_denied(moto_s3: Any) -> None:
    for key in ("p/a", "p/b", "p/c"):
        put(moto_s3, "src", key)
    client = FaultyClient(moto_s3)
    client.faults.append(
        lambda op, kw: client_error("AccessDenied", op) if op == "CopyObject" else None
    )
    summary = start(client, "cp", "s3://src/p/", "s3://dst/q/").result()
    assert (summary.failed, summary.denied) == (3, 3)
    assert bulk_exit_code(summary) is ExitCode.ACCESS_DENIED

    client.faults[:] = [
        lambda op, kw: (
            client_error("AccessDenied", op)
            if op == "CopyObject" and kw["Key"] != "q/c"
            else client_error("InternalError", op, 500)
            if op == "CopyObject"
            else None
        )
    ]
    summary = start(client, "cp", "s3://src/p/", "s3://dst/q/").result()
    assert (summary.failed, summary.denied) == (3, 2)
    assert bulk_exit_code(summary) is ExitCode.FAILED


def test_findings_are_collected_once_per_distinct_finding(
    moto_s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    finding = Finding(
        code="dest-kms-decrypt", action="kms:Decrypt",
        resource="arn:aws:kms:us-east-1:111122223333:key/k",
        policy="key-policy", account="111122223333", principal=None, statement=None,
        certainty="inferred", summary="the destination key does not let you decrypt",
    )  # fmt: skip
    monkeypatch.setattr("s3xcopy.engine.diagnose", lambda context: (finding,))
    for n in range(5):
        put(moto_s3, "src", f"p/{n}")
    client = FaultyClient(moto_s3)
    client.faults.append(
        lambda op, kw: client_error("AccessDenied", op) if op == "CopyObject" else None
    )
    run = start(client, "cp", "s3://src/p/", "s3://dst/q/")
    outcomes = list(run)
    assert all(o.error is not None and o.error.findings == (finding,) for o in outcomes)
    assert run.summary.findings == (finding,)


def test_missing_destination_bucket_stops_the_run_once(moto_s3: Any) -> None:
    for n in range(40):
        put(moto_s3, "src", f"p/{n:02d}")
    client = FaultyClient(moto_s3)
    summary = start(client, "cp", "s3://src/p/", "s3://nowhere/q/").result()
    assert summary.error is not None
    assert "does not exist" in str(summary.error)
    assert bulk_exit_code(summary) is ExitCode.USAGE
    assert client.calls["CopyObject"] < 40  # it stopped instead of failing 40 times


@pytest.mark.parametrize("error", [EndpointConnectionError, ConnectTimeoutError])
def test_an_unreachable_endpoint_stops_the_run_instead_of_failing_every_object(
    moto_s3: Any, error: type[Exception]
) -> None:
    for n in range(200):
        put(moto_s3, "src", f"p/{n:03d}")
    client = FaultyClient(moto_s3)
    client.faults.append(
        lambda op, kw: error(endpoint_url="http://127.0.0.1:9") if op == "CopyObject" else None
    )
    run = start(client, "cp", "s3://src/p/", "s3://dst/q/")
    outcomes = list(run)
    summary = run.summary
    assert summary is not None and summary.error is not None
    assert "the endpoint cannot be reached" in str(summary.error)
    assert bulk_exit_code(summary) is ExitCode.FAILED
    # Only the objects already started failed (each after its 8 attempts); the rest waited.
    assert 1 <= summary.failed == len(outcomes) <= 2 * 2 * 4  # twice the 2 x 4 workers
    assert client.calls["CopyObject"] == 8 * summary.failed


def test_credentials_refused_mid_run_stop_it_instead_of_failing_every_object(
    moto_s3: Any,
) -> None:
    for n in range(200):
        put(moto_s3, "src", f"p/{n:03d}")
    client = FaultyClient(moto_s3)
    copies = [0]

    def expire_after_ten(op: str, kw: dict[str, Any]) -> Exception | None:
        if op == "CopyObject":
            copies[0] += 1
            if copies[0] > 10:  # the session's token expires while the run goes on
                return client_error("ExpiredToken", op, 400)
        return None

    client.faults.append(expire_after_ten)
    run = start(client, "cp", "s3://src/p/", "s3://dst/q/")
    outcomes = list(run)
    summary = run.summary
    assert summary is not None and summary.error is not None
    assert "the credentials were refused" in str(summary.error)
    assert bulk_exit_code(summary) is ExitCode.ACCESS_DENIED
    assert [f.code for f in summary.findings] == ["credentials-refused"]
    assert summary.objects == 10
    assert 1 <= summary.failed == len(outcomes) - 10 <= 2 * 2 * 4  # the ones in flight
    assert client.calls["CopyObject"] < 50  # not one per object


def test_one_object_failing_otherwise_does_not_stop_the_run(moto_s3: Any) -> None:
    for n in range(20):
        put(moto_s3, "src", f"p/{n:02d}")
    client = FaultyClient(moto_s3)
    client.faults.append(copy_of_fails("q/03"))
    summary = start(client, "cp", "s3://src/p/", "s3://dst/q/").result()
    assert summary.error is None
    assert (summary.objects, summary.failed) == (19, 1)


def test_missing_source_bucket_is_bad_input(moto_s3: Any) -> None:
    summary = start(FaultyClient(moto_s3), "cp", "s3://nowhere/p/", "s3://dst/q/").result()
    assert summary.error is not None
    assert summary.error.operation == "ListObjectsV2"
    assert bulk_exit_code(summary) is ExitCode.USAGE


def test_journal_skips_objects_copied_by_an_earlier_run(moto_s3: Any, tmp_path: Path) -> None:
    for n in range(6):
        put(moto_s3, "src", f"p/{n}")
    journal = tmp_path / "run.db"
    client = FaultyClient(moto_s3)
    assert start(client, "cp", "s3://src/p/", "s3://dst/q/", journal=journal).result().objects == 6
    put(moto_s3, "src", "p/3", b"changed")  # a new ETag: copied again
    client.calls.clear()
    run = start(client, "cp", "s3://src/p/", "s3://dst/q/", journal=journal)
    outcomes = list(run)
    assert by_status(outcomes)["copy:copied"] == ["s3://dst/q/3"]
    assert len(by_status(outcomes)["copy:skipped"]) == 5
    assert client.calls["CopyObject"] == 1
    assert moto_s3.get_object(Bucket="dst", Key="q/3")["Body"].read() == b"changed"


def test_checksum_mode_compares_full_object_checksums(moto_s3: Any) -> None:
    put(moto_s3, "dst", "q/same", b"1111", ChecksumAlgorithm="CRC32")
    put(moto_s3, "dst", "q/differs", b"2222", ChecksumAlgorithm="CRC32")
    time.sleep(1.1)  # the source is newer, so the default rule would copy both
    put(moto_s3, "src", "p/same", b"1111", ChecksumAlgorithm="CRC32")
    put(moto_s3, "src", "p/differs", b"3333", ChecksumAlgorithm="CRC32")
    client = FaultyClient(moto_s3)
    outcomes = list(start(client, "sync", "s3://src/p/", "s3://dst/q/", mode="checksum"))
    assert by_status(outcomes) == {
        "copy:copied": ["s3://dst/q/differs"],
        "copy:skipped": ["s3://dst/q/same"],
    }
    reasons = {o.dest: o.reason for o in outcomes}
    assert reasons["s3://dst/q/same"] == "same CRC32"
    client.calls.clear()
    # Without --checksum the same bytes are copied again, because the source is newer.
    outcomes = list(start(client, "sync", "s3://src/p/", "s3://dst/q/"))
    assert by_status(outcomes) == {
        "copy:copied": ["s3://dst/q/same"],
        "copy:skipped": ["s3://dst/q/differs"],  # copied just above, so not older now
    }


def test_archived_objects_are_skipped_with_a_warning(moto_s3: Any) -> None:
    put(moto_s3, "src", "p/cold", StorageClass="GLACIER")
    put(moto_s3, "src", "p/warm")
    outcomes = list(start(FaultyClient(moto_s3), "cp", "s3://src/p/", "s3://dst/q/"))
    skipped = [o for o in outcomes if o.status == "skipped"]
    assert [o.dest for o in skipped] == ["s3://dst/q/cold"]
    assert skipped[0].warning is not None
    assert "GLACIER" in skipped[0].warning


def test_cancel_stops_the_run_and_reports_interrupted(moto_s3: Any) -> None:
    for n in range(30):
        put(moto_s3, "src", f"p/{n:02d}")
    client = FaultyClient(moto_s3)
    slow = threading.Event()
    client.faults.append(lambda op, kw: (slow.wait(0.05), None)[1] if op == "CopyObject" else None)
    run = start(client, "cp", "s3://src/p/", "s3://dst/q/", config=CopyConfig(max_concurrency=1))
    first = next(run)
    assert first.status == "copied"
    run.cancel()
    rest = list(run)
    assert run.summary.interrupted
    assert run.summary.objects < 30
    assert len(rest) < 29
    assert bulk_exit_code(run.summary) is ExitCode.INTERRUPTED


def test_a_run_closed_before_it_starts_lets_go_of_its_journal(moto_s3: Any, tmp_path: Path) -> None:
    journal = tmp_path / "run.db"
    run = start(FaultyClient(moto_s3), "cp", "s3://src/p/", "s3://dst/q/", journal=journal)
    run.close()
    with pytest.raises(StopIteration):
        next(run)
    again = start(FaultyClient(moto_s3), "cp", "s3://src/p/", "s3://dst/q/", journal=journal)
    assert again.result().objects == 0  # the journal was free to open


def test_a_non_empty_key_ending_in_a_slash_fails_clearly_and_alone(moto_s3: Any) -> None:
    """A known limit (docs/bulk.md): the engine reads such a key as a prefix."""
    put(moto_s3, "src", "p/odd/", b"not a folder marker")
    put(moto_s3, "src", "p/fine")
    outcomes = list(start(FaultyClient(moto_s3), "cp", "s3://src/p/", "s3://dst/q/"))
    assert by_status(outcomes) == {
        "copy:copied": ["s3://dst/q/fine"],
        "copy:failed": ["s3://dst/q/odd/"],
    }
    failed = next(o for o in outcomes if o.status == "failed")
    assert failed.error is not None
    assert "not a prefix" in str(failed.error)


def lost_upload(client: Any, journal_path: Path) -> str:
    """A run killed between CreateMultipartUpload and recording the upload's id."""
    opened = Journal.open(journal_path, source="s3://src/p/", dest="s3://dst/q/")
    assert opened is not None
    with opened as journal:
        journal.intend_upload("s3://dst/q/big", "s3://src/p/big")
    return str(client.create_multipart_upload(Bucket="dst", Key="q/big")["UploadId"])


def test_an_upload_lost_by_a_killed_run_is_aborted(
    moto_s3: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # moto dates every upload in 2010: widen the margin that ties an upload to the intent.
    monkeypatch.setattr("s3xcopy.journal.ORPHAN_MARGIN_SECONDS", 1e10)
    put(moto_s3, "src", "p/big")
    lost_upload(moto_s3, tmp_path / "run.db")
    outcomes = list(start(FaultyClient(moto_s3), "cp", "s3://src/p/", "s3://dst/q/",
                          journal=tmp_path / "run.db"))  # fmt: skip
    assert by_status(outcomes) == {"copy:copied": ["s3://dst/q/big"]}
    assert outcomes[0].warning is None
    assert not moto_s3.list_multipart_uploads(Bucket="dst").get("Uploads")


def test_an_upload_lost_by_a_killed_run_that_cannot_be_looked_for_is_reported(
    moto_s3: Any, tmp_path: Path
) -> None:
    put(moto_s3, "src", "p/big")
    upload_id = lost_upload(moto_s3, tmp_path / "run.db")
    client = FaultyClient(moto_s3)
    client.faults.append(
        lambda op, kw: client_error("AccessDenied", op) if op == "ListMultipartUploads" else None
    )
    outcomes = list(start(client, "cp", "s3://src/p/", "s3://dst/q/", journal=tmp_path / "run.db"))
    assert by_status(outcomes) == {"copy:copied": ["s3://dst/q/big"]}  # the copy goes on
    warning = outcomes[0].warning or ""
    assert "(AccessDenied on ListMultipartUploads)" in warning
    assert "aws s3api list-multipart-uploads --bucket dst --prefix q/big" in warning
    uploads = moto_s3.list_multipart_uploads(Bucket="dst").get("Uploads", [])
    assert [u["UploadId"] for u in uploads] == [upload_id]  # left, and said so
