"""The journal: what it records, that it survives kill -9, and that it refuses the wrong run."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from s3xcopy import CopyResult, InvalidInputError
from s3xcopy.journal import RESULT_NAME, Journal, iter_copied

SOURCE, DEST = "s3://src/p/", "s3://dst/q/"
ROOT = Path(__file__).resolve().parents[2]


def copied(journal: Journal, source: str, etag: str, dest: str) -> bool:
    """The journal has ``source`` (with this ETag) copied to ``dest`` by an earlier run."""
    return (source, etag, dest) in journal.copied_among([source])


def open_journal(path: Path, **kwargs: object) -> Journal:
    journal = Journal.open(path, source=SOURCE, dest=DEST, **kwargs)  # type: ignore[arg-type]
    assert journal is not None
    return journal


def test_keeps_a_single_copys_result_for_the_same_source_version_and_destination(
    tmp_path: Path,
) -> None:
    path = tmp_path / "j.db"
    made = CopyResult(
        "s3://src/p/a", "s3://dst/q/a", "multipart", 10, 5, 2, '"d-2"', "v1", 3.5,
        fallback="fell back", warning="an orphan", skipped=True,
    )  # fmt: skip
    with open_journal(path) as journal:
        journal.record_result("s3://src/p/a", '"e1"', "s3://dst/q/a", made)
    with open_journal(path) as journal:
        kept = journal.recorded_result("s3://src/p/a", '"e1"', "s3://dst/q/a")
        # what described that run alone is not kept
        assert kept == dataclasses.replace(made, warning=None, skipped=False)
        assert journal.recorded_result("s3://src/p/a", '"e2"', "s3://dst/q/a") is None
        assert journal.recorded_result("s3://src/p/a", '"e1"', "s3://dst/q/b") is None
    db = sqlite3.connect(path)
    with db:
        lacking = {"copied": ["s3://src/p/a", '"e1"', "s3://dst/q/a"], "result": {"size": 1}}
        db.execute("UPDATE meta SET value = ? WHERE name = ?", (json.dumps(lacking), RESULT_NAME))
    db.close()
    with open_journal(path) as journal:  # not a record this code wrote: copy again
        assert journal.recorded_result("s3://src/p/a", '"e1"', "s3://dst/q/a") is None


def test_records_finished_objects_and_uploads(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    with open_journal(path) as journal:
        journal.record_copied("s3://src/p/a", '"e1"', "s3://dst/q/a", 10)
        journal.intend_upload("s3://dst/q/big", "s3://src/p/big")
        journal.upload_started(
            "s3://dst/q/big", "s3://src/p/big", "U1", '"big-2"', 5 << 20, "stream"
        )
        journal.part_done("U1", {"PartNumber": 1, "ETag": '"p1"'})
        journal.part_done("U1", {"PartNumber": 2, "ETag": '"p2"', "ChecksumCRC32": "AA=="})
    with open_journal(path) as journal:
        assert copied(journal, "s3://src/p/a", '"e1"', "s3://dst/q/a")
        assert not copied(journal, "s3://src/p/a", '"changed"', "s3://dst/q/a")
        assert not copied(journal, "s3://src/p/b", '"e1"', "s3://dst/q/b")
        upload = journal.upload_for("s3://dst/q/big")
        assert upload is not None
        assert (upload.upload_id, upload.source_etag, upload.part_size, upload.strategy) == (
            "U1",
            '"big-2"',
            5 << 20,
            "stream",
        )
        assert journal.parts_of("U1") == {
            1: {"PartNumber": 1, "ETag": '"p1"'},
            2: {"PartNumber": 2, "ETag": '"p2"', "ChecksumCRC32": "AA=="},
        }
        journal.forget_upload("s3://dst/q/big")
    with open_journal(path) as journal:
        assert journal.open_uploads() == []
        assert journal.parts_of("U1") == {}
        assert list(iter_copied(journal)) == [("s3://src/p/a", '"e1"', "s3://dst/q/a", 10)]


def test_an_intent_without_an_upload_id_is_kept(tmp_path: Path) -> None:
    """Killed between CreateMultipartUpload and recording its id: the next run must know."""
    path = tmp_path / "j.db"
    with open_journal(path) as journal:
        journal.intend_upload("s3://dst/q/big", "s3://src/p/big")
    with open_journal(path) as journal:
        upload = journal.upload_for("s3://dst/q/big")
        assert upload is not None
        assert upload.upload_id is None
        assert upload.intent_at > 0


def test_the_journal_is_wal_mode_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    open_journal(path).close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_another_runs_journal_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    open_journal(path).close()
    with pytest.raises(InvalidInputError, match="belongs to a run from s3://src/p/"):
        Journal.open(path, source="s3://other/p/", dest=DEST)


def test_a_file_that_is_not_a_journal_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database, just some text that is long enough " * 20)
    with pytest.raises(InvalidInputError, match="not an s3xcopy journal"):
        Journal.open(path, source=SOURCE, dest=DEST)


def test_two_runs_cannot_share_a_journal(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    with open_journal(path), pytest.raises(InvalidInputError, match="in use"):
        Journal.open(path, source=SOURCE, dest=DEST)
    open_journal(path).close()  # free again once the first run closed it


def test_dry_runs_never_create_or_write_the_journal(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    assert Journal.open(path, source=SOURCE, dest=DEST, readonly=True) is None
    assert not path.exists()
    with open_journal(path) as journal:
        journal.record_copied("s3://src/p/a", '"e"', "s3://dst/q/a", 1)
    readonly = open_journal(path, readonly=True)
    readonly.record_copied("s3://src/p/b", '"e"', "s3://dst/q/b", 1)
    assert copied(readonly, "s3://src/p/a", '"e"', "s3://dst/q/a")
    readonly.close()
    with open_journal(path) as journal:
        assert not copied(journal, "s3://src/p/b", '"e"', "s3://dst/q/b")


def test_deleting_the_journal_leaves_no_stale_wal_behind(tmp_path: Path) -> None:
    """A -wal left by a killed run would be replayed into a new file of the same name."""
    path = tmp_path / "j.db"
    wal = Path(str(path) + "-wal")
    wal.write_bytes(b"stale bytes from a killed run")
    Path(str(path) + "-shm").write_bytes(b"stale")
    with open_journal(path) as journal:
        assert not copied(journal, "s3://src/p/a", '"e"', "s3://dst/q/a")
        journal.record_copied("s3://src/p/a", '"e"', "s3://dst/q/a", 1)
    with open_journal(path) as journal:
        assert copied(journal, "s3://src/p/a", '"e"', "s3://dst/q/a")


def test_kill_9_keeps_everything_committed(tmp_path: Path) -> None:
    """Uploads are committed at once, finished objects within half a second."""
    path = tmp_path / "j.db"
    script = textwrap.dedent(
        f"""
        import os, signal, sys, time
        from s3xcopy.journal import Journal
        journal = Journal.open({str(path)!r}, source={SOURCE!r}, dest={DEST!r})
        journal.upload_started("s3://dst/q/big", "s3://src/p/big", "U1", '"e-3"', 5242880)
        for n in range(1, 4):
            journal.part_done("U1", {{"PartNumber": n, "ETag": '"p%d"' % n}})
        for n in range(50):
            journal.record_copied("s3://src/p/k%d" % n, '"e"', "s3://dst/q/k%d" % n, n)
        time.sleep(1.2)  # no further write: the journal commits on its own
        print("ready", flush=True)
        time.sleep(60)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    with open_journal(path) as journal:
        upload = journal.upload_for("s3://dst/q/big")
        assert upload is not None
        assert upload.upload_id == "U1"
        assert sorted(journal.parts_of("U1")) == [1, 2, 3]
        assert copied(journal, "s3://src/p/k49", '"e"', "s3://dst/q/k49")
        assert len(list(iter_copied(journal))) == 50
