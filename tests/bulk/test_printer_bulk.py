"""The printer for bulk runs: aws s3's lines per object, JSON records, findings once, summary."""

from __future__ import annotations

import dataclasses
import io
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from s3xcopy import AccessDeniedError, CopyResult, Finding, S3xCopyError
from s3xcopy.bulk import BulkSummary, ObjectOutcome
from s3xcopy.cli.printers import BARE_DENIAL_NOTE, Printer, summary_line

A, B = "s3://src/p/a.txt", "s3://dst/q/a.txt"
RESULT = CopyResult(A, B, "single", 5, None, 1, '"e"', None, 0.01)
FINDING = Finding(
    code="dest-kms-decrypt", action="kms:Decrypt",
    resource="arn:aws:kms:us-east-1:111122223333:key/k", policy="key-policy",
    account="111122223333", principal=None, statement={"Effect": "Allow"},
    certainty="inferred", summary="the destination key does not let the copier decrypt",
)  # fmt: skip


def denied(n: int) -> ObjectOutcome:
    error = AccessDeniedError("Access Denied", operation="UploadPartCopy", code="AccessDenied")
    error.findings = (FINDING,)
    return ObjectOutcome("copy", "failed", f"s3://src/p/{n}", f"s3://dst/q/{n}", 9, error=error)


OUTCOMES = {
    "copied": ObjectOutcome("copy", "copied", A, B, 5, "listed", result=RESULT),
    "dryrun": ObjectOutcome("copy", "dryrun", A, B, 5, "not at the destination"),
    "deleted": ObjectOutcome("delete", "deleted", None, "s3://dst/q/old", 3, "not at the source"),
    "dryrun-delete": ObjectOutcome("delete", "dryrun", None, "s3://dst/q/old", 3),
    "skipped": ObjectOutcome("copy", "skipped", A, B, 5, "same size, destination not older"),
    "interrupted": ObjectOutcome("copy", "interrupted", A, B, 5),
    "failed": ObjectOutcome(
        "copy", "failed", A, B, 5, error=S3xCopyError("boom", operation="CopyObject", code="X")
    ),
    "delete-failed": ObjectOutcome(
        "delete",
        "failed",
        None,
        "s3://dst/q/old",
        3,
        error=AccessDeniedError("Access Denied", operation="DeleteObjects", code="AccessDenied"),
    ),
    "archived": ObjectOutcome(
        "copy", "skipped", A, B, 5, "archived", warning="Skipping s3://src/p/a.txt: GLACIER"
    ),
}


def printed(outcome: ObjectOutcome, **options: bool) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    Printer(out=out, err=err, **options).outcome(outcome)
    return out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    ("name", "stdout", "stderr"),
    [
        ("copied", f"copy: {A} to {B}\n", ""),
        ("dryrun", f"(dryrun) copy: {A} to {B}\n", ""),
        ("deleted", "delete: s3://dst/q/old\n", ""),
        ("dryrun-delete", "(dryrun) delete: s3://dst/q/old\n", ""),
        ("skipped", "", ""),
        ("interrupted", "", ""),
        ("failed", "", f"copy failed: {A} to {B} boom\n"),
        ("delete-failed", "", "delete failed: s3://dst/q/old Access Denied\n"),
        ("archived", "", "warning: Skipping s3://src/p/a.txt: GLACIER\n"),
    ],
)
def test_text_lines_as_aws_s3(name: str, stdout: str, stderr: str) -> None:
    assert printed(OUTCOMES[name]) == (stdout, stderr)


def test_quiet_and_only_show_errors() -> None:
    for outcome in OUTCOMES.values():
        assert printed(outcome, quiet=True) == ("", "")
    assert printed(OUTCOMES["copied"], only_errors=True) == ("", "")
    assert printed(OUTCOMES["failed"], only_errors=True)[1].startswith("copy failed:")


def test_a_finding_is_printed_once_however_many_objects_meet_it() -> None:
    out, err = io.StringIO(), io.StringIO()
    printer = Printer(out=out, err=err)
    for n in range(3):
        printer.outcome(denied(n))
    text = err.getvalue()
    assert text.count("copy failed:") == 3
    assert text.count("[dest-kms-decrypt]") == 1
    assert text.count("add this statement") == 1


def test_a_bare_access_denied_says_once_what_its_inferred_findings_leave_out() -> None:
    out, err = io.StringIO(), io.StringIO()
    printer = Printer(out=out, err=err)
    for n in range(3):
        printer.outcome(denied(n))
    assert err.getvalue().count(BARE_DENIAL_NOTE) == 1
    assert "an RCP of the bucket's or key's account" in BARE_DENIAL_NOTE

    stated = denied(4)
    assert stated.error is not None
    stated.error.__cause__ = ClientError(
        {"Error": {"Code": "AccessDenied", "Message": "User: arn:aws:sts::111122223333:"
                   "assumed-role/R/s is not authorized to perform: kms:Decrypt on resource: "
                   "arn:aws:kms:us-east-1:111122223333:key/k with an explicit deny in a "
                   "resource control policy"}},
        "UploadPartCopy",
    )  # fmt: skip
    err = io.StringIO()
    Printer(out=io.StringIO(), err=err).outcome(stated)  # AWS named the policy: no note
    assert "note:" not in err.getvalue() and "copy failed:" in err.getvalue()
    for quiet_printer in (Printer(json_lines=True, out=out, err=err), Printer(quiet=True, err=err)):
        err.truncate(0)
        quiet_printer.outcome(denied(5))
        assert BARE_DENIAL_NOTE not in err.getvalue()


@pytest.mark.parametrize("name", sorted(OUTCOMES))
def test_json_records(name: str) -> None:
    out, err = printed(OUTCOMES[name], json_lines=True)
    assert err == ""
    record = json.loads(out)
    outcome = OUTCOMES[name]
    assert record["dest"] == outcome.dest
    assert record["source"] == outcome.source
    if name == "copied":
        assert record["event"] == "copied"
        assert record["strategy"] == "single"
    elif outcome.status == "failed":
        assert record["event"] == "failed"
        assert record["action"] == outcome.action
        assert outcome.error is not None
        assert record["error"]["code"] == outcome.error.code
    else:
        assert record["event"] == outcome.status
        assert record["action"] == outcome.action


def test_json_failures_carry_their_findings() -> None:
    record = json.loads(printed(denied(1), json_lines=True)[0])
    assert [f["code"] for f in record["findings"]] == ["dest-kms-decrypt"]


def test_summary_lines() -> None:
    done = BulkSummary(objects=2000, bytes=3 * 1024**2, skipped=5, failed=1, deleted=2, seconds=2.0)
    assert summary_line(done) == (
        "summary: copied 2,000 objects (3.0 MiB), skipped 5, failed 1, deleted 2 in 2.0 s "
        "(1.5 MiB/s, 1000 objects/s)"
    )
    throttled = BulkSummary(
        objects=1, bytes=1, skipped=0, failed=0, deleted=0, seconds=1.0,
        throttled=37, lowest_rate=41.0, rate_before_throttling=310.0,
    )  # fmt: skip
    assert summary_line(throttled).endswith(
        "; S3 throttled 37 requests, request rate lowered from 310/s to 41/s"
    )
    dry = BulkSummary(objects=3, bytes=10, skipped=1, failed=0, deleted=1, seconds=0.1, dryrun=True)
    assert summary_line(dry) == "summary (dryrun): would copy 3 objects (10 B), skip 1, delete 1"
    one = dataclasses.replace(done, objects=1, bytes=9)
    assert summary_line(one).startswith("summary: copied 1 object (9 B), skipped 5")
    assert summary_line(dataclasses.replace(dry, objects=1)).startswith(
        "summary (dryrun): would copy 1 object ("
    )


def test_summary_in_json_is_the_last_record_with_totals() -> None:
    out = io.StringIO()
    summary = BulkSummary(
        objects=1, bytes=10, skipped=0, failed=0, deleted=0, seconds=0.5, findings=(FINDING,)
    )
    Printer(out=out, json_lines=True).summary(summary)
    record = json.loads(out.getvalue())
    assert record["event"] == "summary"
    assert (record["objects"], record["bytes"], record["throughput"]) == (1, 10, 20.0)
    assert [f["code"] for f in record["findings"]] == ["dest-kms-decrypt"]


def test_a_strategy_change_is_a_note_unless_a_finding_explains_it() -> None:
    note = dataclasses.replace(RESULT, fallback="streamed: another endpoint")
    outcome = ObjectOutcome("copy", "copied", A, B, 5, result=note)
    assert printed(outcome)[1] == f"note: {A}: streamed: another endpoint\n"
    denied_first = dataclasses.replace(
        RESULT, fallback="copied with CopyObject", findings=(FINDING,)
    )
    outcome = ObjectOutcome("copy", "copied", A, B, 5, result=denied_first)
    assert printed(outcome)[1].startswith(f"warning: {A}: copied with CopyObject\n")


class _Logged(io.StringIO):
    """A stream that logs its writes and flushes into a shared list."""

    def __init__(self, name: str, log: list[str]) -> None:
        super().__init__()
        self.name, self.log = name, log

    def write(self, text: str) -> int:
        self.log.append(f"{self.name} write")
        return super().write(text)

    def flush(self) -> None:
        self.log.append(f"{self.name} flush")
        super().flush()


def test_stdout_lines_are_flushed_in_batches_and_stderr_keeps_their_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from s3xcopy.cli import printers

    clock = [100.0]
    monkeypatch.setattr(printers.time, "monotonic", lambda: clock[0])
    log: list[str] = []
    out, err = _Logged("out", log), _Logged("err", log)
    printer = Printer(out=out, err=err)
    for _ in range(50):  # a burst within one flush interval: one flush, the first line's
        printer.outcome(OUTCOMES["copied"])
    assert log.count("out write") == 50 and log.count("out flush") == 1
    clock[0] += printers.FLUSH_SECONDS + 0.01
    printer.outcome(OUTCOMES["copied"])
    assert log.count("out flush") == 2  # the interval passed: flushed with the next line
    printer.outcome(OUTCOMES["copied"])
    log.clear()
    printer.outcome(OUTCOMES["failed"])  # to stderr: stdout's pending lines go first
    assert log == ["out flush", "err write", "err flush"]
    printer.outcome(OUTCOMES["copied"])
    printer.flush()
    assert log[-1] == "out flush"
    assert out.getvalue().count("copy: ") == 53


def test_the_progress_bar_counts_objects_and_learns_its_total() -> None:
    from s3xcopy.cli.progress import BulkProgress

    screen = io.StringIO()
    progress = BulkProgress(file=screen)
    progress.seen(OUTCOMES["copied"], None)  # still listing: no total yet
    assert (progress.done, progress.total) == (1, None)
    progress.seen(OUTCOMES["skipped"], 4)  # the listing is complete: 4 source objects
    progress.seen(OUTCOMES["failed"], 4)
    progress.seen(OUTCOMES["deleted"], 4)  # deletions are counted beside the bar
    progress.seen(OUTCOMES["copied"], 4)
    assert (progress.done, progress.total) == (4, 4)
    assert progress.postfix() == "10 B copied, 1 failed, 1 deleted"
    progress.close()
    assert "objects:" in screen.getvalue()


def test_lines_are_written_with_the_bar_lifted_off() -> None:
    import contextlib

    from s3xcopy.cli.progress import BulkProgress

    screen = io.StringIO()
    progress = BulkProgress(file=screen)
    printer = Printer(out=screen, err=screen)
    lifted: list[int] = []

    @contextlib.contextmanager
    def writing() -> Any:
        lifted.append(1)
        with progress.writing():
            yield

    printer.around_line = writing
    for name in ("copied", "failed"):
        printer.outcome(OUTCOMES[name])
        progress.seen(OUTCOMES[name], 2)
    progress.close()
    assert len(lifted) == 2  # one line each
    text = screen.getvalue()
    assert f"copy: {A} to {B}\n" in text  # whole, on a line of its own
    assert "copy failed: " in text


def test_archived_warnings_can_be_left_out_and_only_they() -> None:
    """--ignore-glacier-warnings: the skip stays (JSON says why), its warning goes."""
    quiet_archive = {"archive_warnings": False}
    assert printed(OUTCOMES["archived"], **quiet_archive) == ("", "")
    other = ObjectOutcome("copy", "copied", A, B, 5, "listed", result=RESULT, warning="cleanup")
    assert printed(other, **quiet_archive)[1] == "warning: cleanup\n"
    out, _ = printed(OUTCOMES["archived"], json_lines=True, **quiet_archive)
    record = json.loads(out)
    assert (record["event"], record["reason"]) == ("skipped", "archived")
    assert "warning" not in record
    out, _ = printed(OUTCOMES["archived"], json_lines=True)
    assert json.loads(out)["warning"] == "Skipping s3://src/p/a.txt: GLACIER"
