"""``s3xcopy sync SRC DST`` and the bulk half of ``s3xcopy cp --recursive``.

Both print ``aws s3``'s lines per object (``copy: ...``, ``(dryrun) copy: ...``,
``delete: ...``), then a summary; exit 0 when every object was done or skipped,
1 when any failed, 3 when every failure was access denied, 2 for bad input (before
anything is copied), 130 when interrupted (with ``--journal``, run the same command
again to resume).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from typing import Any

from ..bulk import BulkRun, BulkSummary, SyncMode, copy_prefix, sync_prefix
from ..bulk.filters import Filters, Rule, RuleKind
from ..errors import S3xCopyError
from ..location import S3Location
from .cp import printer_for, sigterm_as_interrupt, wants_progress
from .exitcodes import EXIT_CODES_HELP, ExitCode, exit_code_for
from .options import (
    add_copy_options,
    client_flags,
    copy_config,
    extra_args,
    session_from,
    source_session_from,
)
from .printers import Printer
from .progress import BulkProgress


class _FilterAction(argparse.Action):
    """``--include`` / ``--exclude`` append to one ordered list: order decides, as in aws s3."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        kind: RuleKind = "include" if option_string == "--include" else "exclude"
        rules: list[Rule] = list(getattr(namespace, self.dest, None) or [])
        rules.append((kind, str(values)))
        setattr(namespace, self.dest, rules)


def add_bulk_options(parser: argparse.ArgumentParser, *, sync: bool) -> None:
    """Flags of commands that copy many objects (filters, journal; sync's comparisons)."""
    group = parser.add_argument_group("many objects (as aws s3)")
    for flag, verb in (
        ("--exclude", "leave out keys matching PATTERN (*, ?, [seq]) below the prefix"),
        ("--include", "take back keys matching PATTERN that an earlier --exclude left out"),
    ):
        group.add_argument(
            flag,
            action=_FilterAction,
            dest="filters",
            default=[],
            metavar="PATTERN",
            help=f"{verb}; the last matching --include/--exclude decides, as in aws s3",
        )
    group.add_argument(
        "--journal",
        metavar="FILE",
        help="record progress in FILE (SQLite); the same command again skips finished "
        "objects and resumes multipart copies (also for cp of one object). Safe to delete.",
    )
    group.add_argument(
        "--force-glacier-transfer",
        action="store_true",
        help="copy GLACIER / DEEP_ARCHIVE objects too (they must be restored)",
    )
    group.add_argument(
        "--page-size", type=int, metavar="N",
        help="keys per listing request (default 1000, S3's most; as aws s3)",
    )  # fmt: skip
    group.add_argument(
        "--ignore-glacier-warnings",
        action="store_true",
        help="skip GLACIER / DEEP_ARCHIVE objects without a warning each (as aws s3)",
    )
    if not sync:
        return
    group.add_argument(
        "--delete",
        action="store_true",
        help="delete destination keys that are not at the source (after every copy succeeded)",
    )
    compare = group.add_mutually_exclusive_group()
    compare.add_argument("--size-only", action="store_true", help="copy only when sizes differ")
    compare.add_argument(
        "--exact-timestamps",
        action="store_true",
        help="accepted as in aws s3; for S3 to S3 it is the default rule (size, then time)",
    )
    compare.add_argument(
        "--checksum",
        action="store_true",
        help="when sizes agree, copy only if full-object checksums differ (both sides "
        "need one, e.g. CRC64NVME; otherwise the default rule applies)",
    )


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sync",
        help="copy new and changed objects from one S3 prefix to another (server-side)",
        description=(
            "Make DST match SRC as aws s3 sync does: copy objects missing at DST, of "
            "another size, or newer at SRC, server-side, with one budget of requests in "
            "flight (--max-concurrency) and an adaptive rate that backs off when S3 says "
            "SlowDown. --delete removes DST keys that are not at SRC, only once every copy "
            "has succeeded."
        ),
        epilog=EXIT_CODES_HELP,
    )
    parser.add_argument("source", metavar="SRC", help="s3://bucket[/prefix]")
    parser.add_argument("dest", metavar="DST", help="s3://bucket[/prefix]")
    add_copy_options(parser)
    add_bulk_options(parser, sync=True)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    return run_bulk(args, "sync")


def sync_mode(args: argparse.Namespace) -> SyncMode:
    if getattr(args, "size_only", False):
        return "size-only"
    if getattr(args, "exact_timestamps", False):
        return "exact-timestamps"
    if getattr(args, "checksum", False):
        return "checksum"
    return "default"


def run_bulk(args: argparse.Namespace, kind: str) -> int:
    """Run ``cp --recursive`` or ``sync`` from parsed flags; print; return the exit code."""
    printer = printer_for(args)
    try:
        config = copy_config(args)
        dest_args = extra_args(args)
        session = session_from(args.profile, args.region, client_flags(args))
        common: dict[str, Any] = {
            "source_session": source_session_from(args, session),
            "source_endpoint_url": args.source_endpoint_url,
            "filters": list(args.filters or []),
            "journal": args.journal,
            "dryrun": args.dryrun,
            "force_glacier_transfer": args.force_glacier_transfer,
            **({"page_size": args.page_size} if args.page_size is not None else {}),
            "endpoint_url": args.endpoint_url,
            "region": args.region,
            "source_region": args.source_region,
        }
        if kind == "sync":
            bulk = sync_prefix(
                args.source, args.dest, config, session, dest_args,
                delete=args.delete, compare=sync_mode(args), **common,
            )  # fmt: skip
        else:
            bulk = copy_prefix(args.source, args.dest, config, session, dest_args, **common)
    except S3xCopyError as exc:
        printer.error(str(exc))
        return int(exit_code_for(exc))
    progress = BulkProgress() if wants_progress(args) else None
    if progress is not None:
        printer.around_line = progress.writing
    try:
        with sigterm_as_interrupt():
            summary = _drive(bulk, printer, progress)
    finally:
        if progress is not None:
            progress.close()
            printer.around_line = contextlib.nullcontext
    if summary is None:
        printer.error(
            "stopped without waiting: multipart uploads in flight may be left open"
            + (
                f" (run the same command again to resume from {args.journal})"
                if args.journal
                else ""
            )
        )
        return int(ExitCode.INTERRUPTED)
    printer.summary(summary)
    if summary.interrupted and args.journal and not args.dryrun:
        printer.error(f"interrupted: run the same command again to resume from {args.journal}")
    elif summary.interrupted:
        printer.error("interrupted: open multipart uploads were aborted")
    return int(bulk_exit_code(summary))


def _drive(
    bulk: BulkRun, printer: Printer, progress: BulkProgress | None = None
) -> BulkSummary | None:
    """Print outcomes as they come; on Ctrl-C stop cleanly; on a second Ctrl-C just go."""
    try:
        _show_outcomes(bulk, printer, progress)  # flushes here: a closed stdout is handled below
    except BrokenPipeError:
        # stdout was closed (``| head``): stop as for Ctrl-C, quietly, as the docs advise.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        bulk.cancel()
        for _ in bulk:
            pass
    except KeyboardInterrupt:
        bulk.cancel()
        printer.error("interrupting: waiting for requests in flight (Ctrl-C again to quit now)")
        try:
            _show_outcomes(bulk, printer, progress)
        except KeyboardInterrupt:
            return None
    return bulk.summary


def _show_outcomes(bulk: BulkRun, printer: Printer, progress: BulkProgress | None) -> None:
    """Print (and count on the bar) each outcome left in the run, then flush stdout."""
    for outcome in bulk:
        printer.outcome(outcome)
        if progress is not None:
            progress.seen(outcome, bulk.sources)
    printer.flush()


def bulk_exit_code(summary: BulkSummary) -> ExitCode:
    """0 all done, 1 any failure, 3 every failure denied, 2 bad input, 130 interrupted."""
    if summary.interrupted:
        return ExitCode.INTERRUPTED
    if summary.error is not None:
        return exit_code_for(summary.error)
    if summary.failed:
        return ExitCode.ACCESS_DENIED if summary.denied == summary.failed else ExitCode.FAILED
    return ExitCode.OK


def single_object_filtered_out(args: argparse.Namespace) -> bool:
    """``cp`` of one object with --include/--exclude: aws s3 applies them to its name too."""
    rules = list(getattr(args, "filters", None) or [])
    if not rules:
        return False
    source = S3Location.parse(args.source)
    dest = S3Location.parse(args.dest)

    def parent(key: str) -> str:
        return key.rsplit("/", 1)[0] + "/" if "/" in key else ""

    dest_dir = dest.key if dest.is_prefix else parent(dest.key)
    filters = Filters.rooted(rules, source.bucket, parent(source.key), dest.bucket, dest_dir)
    return not filters.included(source.bucket, source.key)
