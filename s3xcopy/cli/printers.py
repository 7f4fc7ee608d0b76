"""Result printers: each event type has its printer, as aws-cli's results.py does.

Text goes where ``aws s3 cp`` puts it (successes on stdout, failures and warnings
on stderr); ``--json`` writes one JSON object per line on stdout instead. A finding
is printed once per run however many objects meet it.
"""

from __future__ import annotations

import contextlib
import json
import sys
import textwrap
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, TextIO

from ..bulk.results import ARCHIVED, BulkSummary, ObjectOutcome
from ..calls import aws_message
from ..errors import S3xCopyError
from ..events import CopyFailed, CopyPlanned, CopySucceeded, Event
from ..findings import Finding
from ..planning import CopyPlan
from ..units import format_size

#: The longest a line written to stdout waits in its buffer while more lines follow.
FLUSH_SECONDS = 0.1
#: Said once a run after the findings of a copy refused with a bare "Access Denied".
BARE_DENIAL_NOTE = (
    'note: AWS said only "Access Denied" (as it does across organizations), so the grants '
    "above are inferred; if they are all in place, an explicit Deny refuses the request: an "
    "SCP of the caller's account, an RCP of the bucket's or key's account, a VPC endpoint "
    "policy, a permissions boundary or a session policy"
)


def is_bare_denial(error: S3xCopyError) -> bool:
    """True when AWS refused with a bare "Access Denied", naming no policy."""
    from ..diagnosis.messages import parse_denial  # loaded on the first refusal only

    return parse_denial(error.code or "", aws_message(error)).shape == "bare"


def finding_lines(finding: Finding) -> list[str]:
    """A finding for people: what is missing, where, for whom, and the statement to add."""
    if not finding.is_grant:  # the cause is not a policy's (refused credentials): one line
        return [f"  cause ({finding.certainty}) [{finding.code}]: {finding.summary}"]
    where = finding.policy + (f" of account {finding.account}" if finding.account else "")
    lines = [
        f"  missing grant ({finding.certainty}) [{finding.code}]: {finding.summary}",
        f"    action {finding.action} on {finding.resource}",
        f"    fix in: {where}" + (f", for {finding.principal}" if finding.principal else ""),
    ]
    if finding.statement is not None:
        lines.append("    add this statement:")
        lines.extend(textwrap.indent(finding.statement_json(), "      ").splitlines())
    return lines


class Printer:
    """Turns engine events into output; ``handle`` is the listener."""

    def __init__(
        self,
        *,
        json_lines: bool = False,
        quiet: bool = False,
        only_errors: bool = False,
        archive_warnings: bool = True,
        out: TextIO | None = None,
        err: TextIO | None = None,
    ) -> None:
        self.json_lines = json_lines
        self.quiet = quiet
        self.only_errors = only_errors
        #: False: an archived object is skipped without its warning (--ignore-glacier-warnings).
        self.archive_warnings = archive_warnings
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.plans: dict[tuple[str, str], CopyPlan] = {}
        self.printed_findings: set[Finding] = set()
        self._bare_denial_noted = False
        self._flushed_at = 0.0
        #: The context each line is written in (a progress bar lifts itself off in it).
        self.around_line: Callable[[], AbstractContextManager[Any]] = contextlib.nullcontext
        self._printers: dict[type, Callable[[Any], None]] = {
            CopyPlanned: self._on_planned,
            CopySucceeded: self._on_success,
            CopyFailed: self._on_failure,
        }

    def handle(self, event: Event) -> None:
        printer = self._printers.get(type(event))
        if printer is not None:
            printer(event)

    # --- per event type ---------------------------------------------------------------

    def _on_planned(self, event: CopyPlanned) -> None:
        self.plans[(str(event.plan.source), str(event.plan.dest))] = event.plan

    def _on_success(self, event: CopySucceeded) -> None:
        result = event.result
        self.plans.pop((result.source, result.dest), None)
        if self.json_lines:
            self._json({"event": "copied", **result.to_dict()})
            return
        if not (self.quiet or self.only_errors):
            self._line(self.out, f"copy: {result.source} to {result.dest}")
        if result.fallback and not self.quiet:
            # A strategy change forced by a refusal is a warning (a policy wants fixing);
            # one chosen for other reasons (two endpoints) is a note.
            label = "warning" if result.findings else "note"
            self._line(self.err, f"{label}: {result.source}: {result.fallback}")
        self.findings(result.findings)

    def _on_failure(self, event: CopyFailed) -> None:
        plan = self.plans.pop((event.source, event.dest), None)
        if self.json_lines:
            self._json(self.failure_record(event.source, event.dest, event.error, plan))
            return
        if not self.quiet:
            self._line(self.err, f"copy failed: {event.source} to {event.dest} {event.error}")
        self.failure_findings(event.error)

    # --- building blocks ----------------------------------------------------------------

    def dryrun(self, plan: CopyPlan) -> None:
        if self.json_lines:
            self._json(
                {
                    "event": "dryrun",
                    "source": str(plan.source),
                    "dest": str(plan.dest),
                    "strategy": plan.strategy,
                    "size": plan.size,
                    "parts": plan.part_count,
                    "part_size": plan.part_size,
                    "reason": plan.reason,
                }
            )
        elif not self.quiet:
            self._line(
                self.out, f"(dryrun) copy: {plan.source} to {plan.dest}  [{plan.describe()}]"
            )

    def findings(self, findings: tuple[Finding, ...]) -> None:
        """Print findings not yet printed in this run (text mode only: JSON carries them)."""
        if self.json_lines or self.quiet:
            return
        for finding in findings:
            if finding not in self.printed_findings:
                self.printed_findings.add(finding)
                for line in finding_lines(finding):
                    self._line(self.err, line)

    def failure_findings(self, error: S3xCopyError) -> None:
        """A refusal's findings; after a bare "Access Denied", once a run, what they leave out.

        AWS names the refusing policy only within one organization. Across them the
        findings are the grants that can be missing; an explicit Deny is the other cause.
        """
        self.findings(error.findings)
        if self.json_lines or self.quiet or self._bare_denial_noted or not error.findings:
            return
        if is_bare_denial(error):
            self._bare_denial_noted = True
            self._line(self.err, BARE_DENIAL_NOTE)

    def notice(self, message: str, *, label: str = "warning") -> None:
        """A warning or note about a copy that did not fail (stderr; a JSON line with --json)."""
        if self.json_lines:
            self._json({"event": label, "message": message})
        elif not self.quiet:
            self._line(self.err, f"{label}: {message}")

    def error(self, message: str) -> None:
        """A failure that is not about one copy (bad input before any copy started)."""
        if self.json_lines:
            self._json({"event": "error", "error": {"message": message}})
        else:
            self._line(self.err, f"error: {message}")

    @staticmethod
    def failure_record(
        source: str, dest: str, error: S3xCopyError, plan: CopyPlan | None
    ) -> dict[str, Any]:
        return {
            "event": "failed",
            "source": source,
            "dest": str(plan.dest) if plan else dest,
            "strategy": plan.strategy if plan else None,
            "size": plan.size if plan else None,
            "parts": plan.part_count if plan else None,
            "part_size": plan.part_size if plan else None,
            "etag": None,
            "version_id": None,
            "seconds": None,
            "fallback": None,
            "findings": [f.to_dict() for f in error.findings],
            "error": {"code": error.code, "message": error.message, "operation": error.operation},
        }

    # --- bulk runs (cp --recursive, sync) ---------------------------------------------

    def outcome(self, outcome: ObjectOutcome) -> None:
        """One object of a bulk run: the line ``aws s3`` prints for it (nothing when skipped)."""
        if self.json_lines:
            self._json(self.outcome_record(outcome))
            return
        verb = outcome.action
        target = f"{outcome.source} to {outcome.dest}" if verb == "copy" else outcome.dest
        if outcome.status in ("copied", "deleted", "dryrun"):
            if not (self.quiet or self.only_errors):
                prefix = "(dryrun) " if outcome.status == "dryrun" else ""
                self._line(self.out, f"{prefix}{verb}: {target}")
            result = outcome.result
            if result is not None:
                if result.fallback and not self.quiet:
                    label = "warning" if result.findings else "note"  # as for a single cp
                    self._line(self.err, f"{label}: {result.source}: {result.fallback}")
                self.findings(result.findings)
        elif outcome.status == "failed" and outcome.error is not None:
            if not self.quiet:
                self._line(self.err, f"{verb} failed: {target} {outcome.error}")
            self.failure_findings(outcome.error)
        if self._warns(outcome):
            self._line(self.err, f"warning: {outcome.warning}")

    def _warns(self, outcome: ObjectOutcome) -> bool:
        """The outcome's warning is to be shown (JSON records carry it under the same rule)."""
        if not outcome.warning or (outcome.reason == ARCHIVED and not self.archive_warnings):
            return False
        return self.json_lines or not self.quiet

    def outcome_record(self, outcome: ObjectOutcome) -> dict[str, Any]:
        """The JSON line of one object of a bulk run (``copied`` as for a single cp)."""
        if outcome.status == "copied" and outcome.result is not None:
            return {"event": "copied", **outcome.result.to_dict()}
        if outcome.status == "failed" and outcome.error is not None:
            record = self.failure_record(outcome.source or "", outcome.dest, outcome.error, None)
            record.update(action=outcome.action, size=outcome.size)
            if outcome.action == "delete":
                record["source"] = None
            return record
        record = {
            "event": outcome.status,
            "action": outcome.action,
            "source": outcome.source,
            "dest": outcome.dest,
            "size": outcome.size,
            "reason": outcome.reason,
        }
        if self._warns(outcome):
            record["warning"] = outcome.warning
        return record

    def summary(self, summary: BulkSummary) -> None:
        """The totals of a bulk run: last JSON line, or one line on stderr."""
        if self.json_lines:
            self._json({"event": "summary", **summary.to_dict()})
            return
        if summary.error is not None:
            self.error(str(summary.error))
            self.findings(summary.error.findings)
        if self.quiet or self.only_errors:
            return
        self._line(self.err, summary_line(summary))
        if summary.delete_skipped:
            why = "the run was interrupted" if summary.interrupted else "not every copy succeeded"
            self._line(
                self.err,
                f"warning: --delete left {summary.delete_skipped:,} destination keys in place "
                f"because {why}",
            )

    def _json(self, record: dict[str, Any]) -> None:
        self._line(self.out, json.dumps(record, default=str, ensure_ascii=False))

    def _line(self, stream: TextIO, text: str) -> None:
        """Write one line. Lines to stdout are flushed at most every FLUSH_SECONDS (a bulk
        run writes thousands a second; a flush each is a system call each); anything to
        stderr first flushes stdout, then itself, so the two keep their order.
        """
        with self.around_line():
            if stream is self.out:
                stream.write(text + "\n")
                now = time.monotonic()
                if now - self._flushed_at >= FLUSH_SECONDS:
                    stream.flush()
                    self._flushed_at = now
                return
            self.flush()
            stream.write(text + "\n")
            stream.flush()

    def flush(self) -> None:
        """Flush stdout now (the CLI calls this before it exits)."""
        self.out.flush()
        self._flushed_at = time.monotonic()


def _objects(count: int) -> str:
    return f"{count:,} object" if count == 1 else f"{count:,} objects"


def summary_line(summary: BulkSummary) -> str:
    """``summary: copied 2,000 objects (1.2 GiB), skipped 0, failed 0, deleted 0 in 3.1 s ...``"""
    if summary.dryrun:
        text = (
            f"summary (dryrun): would copy {_objects(summary.objects)} "
            f"({format_size(summary.bytes)}), skip {summary.skipped:,}"
        )
        text += f", delete {summary.deleted:,}" if summary.deleted else ""
        return text
    rate = format_size(int(summary.throughput)) + "/s"
    objects_rate = summary.objects / summary.seconds if summary.seconds > 0 else 0.0
    text = (
        f"summary: copied {_objects(summary.objects)} ({format_size(summary.bytes)}), "
        f"skipped {summary.skipped:,}, failed {summary.failed:,}, deleted {summary.deleted:,} "
        f"in {summary.seconds:.1f} s ({rate}, {objects_rate:.0f} objects/s)"
    )
    if summary.throttled:
        text += f"; S3 throttled {summary.throttled:,} requests"
        if summary.lowest_rate is not None and summary.rate_before_throttling is not None:
            text += (
                f", request rate lowered from {summary.rate_before_throttling:.0f}/s "
                f"to {summary.lowest_rate:.0f}/s"
            )
    if summary.interrupted:
        text += "; interrupted"
    return text
