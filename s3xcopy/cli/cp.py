"""``s3xcopy cp SRC DST``: copy one object, as ``aws s3 cp s3://... s3://...`` does."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from collections.abc import Iterator
from types import FrameType
from typing import Any

from ..api import build_engine, progress_listener
from ..engine import CopyEngine
from ..errors import CopyInterruptedError, S3xCopyError
from ..events import Event
from ..journal import Journal, journaled_copy, recorded_copy
from ..location import S3Location
from ..planning import resolve_dest
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


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "cp",
        help="copy an S3 object to another S3 location (server-side, or streamed)",
        description=(
            "Copy one S3 object server-side: one CopyObject below the multipart threshold, "
            "parallel UploadPartCopy above it, with metadata, tags, content headers, storage "
            "class, SSE and ACL carried the same way. On AccessDenied, s3xcopy names the "
            "missing grant and, where a single CopyObject can do it, falls back to it. When "
            "no server-side copy can serve both sides (another endpoint or partition, or a "
            "destination identity that may not read the source while --source-profile may), "
            "the bytes are streamed through this machine with both credentials, checksummed "
            "end to end (--stream forces it, --no-stream forbids it)."
        ),
        epilog=EXIT_CODES_HELP,
    )
    from .sync import add_bulk_options  # sync imports this module: import late

    parser.add_argument("source", metavar="SRC", help="s3://bucket/key[?versionId=ID]")
    parser.add_argument("dest", metavar="DST", help="s3://bucket/key, or s3://bucket/prefix/")
    parser.add_argument(
        "--recursive",
        action="store_true",
        help="copy every object under the SRC prefix to the DST prefix (as aws s3 cp)",
    )
    add_copy_options(parser)
    add_bulk_options(parser, sync=False)
    parser.set_defaults(run=run)


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C, so a killed copy still aborts its upload."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (e.g. called from tests in a thread)
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def printer_for(args: argparse.Namespace) -> Printer:
    return Printer(
        json_lines=args.json,
        quiet=args.quiet,
        only_errors=args.only_show_errors,
        archive_warnings=not getattr(args, "ignore_glacier_warnings", False),
    )


def wants_progress(args: argparse.Namespace) -> bool:
    return (
        not (args.no_progress or args.quiet or args.json or args.only_show_errors or args.dryrun)
        and sys.stderr.isatty()
    )


def run(args: argparse.Namespace) -> int:
    from .sync import run_bulk, single_object_filtered_out

    if args.recursive:
        return run_bulk(args, "cp")
    printer = printer_for(args)
    try:
        if single_object_filtered_out(args):
            return int(ExitCode.OK)  # aws s3 cp: an excluded object is not copied, silently
        config = copy_config(args)
        dest_args = extra_args(args)
        source = S3Location.parse(args.source)
        dest = S3Location.parse(args.dest)
        session = session_from(args.profile, args.region, client_flags(args))
        source_session = source_session_from(args, session)
        progress = progress_listener(True) if wants_progress(args) else None

        def listen(event: Event) -> None:
            printer.handle(event)
            if progress is not None:
                progress(event)

        engine = build_engine(
            config,
            session=session,
            source_session=source_session,
            endpoint_url=args.endpoint_url,
            region=args.region,
            source_region=args.source_region,
            source_endpoint_url=args.source_endpoint_url,
            listener=listen,
        )
    except S3xCopyError as exc:
        printer.error(str(exc))
        return int(exit_code_for(exc))
    if args.journal:
        return _copy_with_journal(args, printer, engine, source, dest, dest_args)
    with sigterm_as_interrupt():
        try:
            if args.dryrun:
                printer.dryrun(engine.plan(source, dest, dest_args)[0])
            else:
                engine.copy(source, dest, dest_args)
        except S3xCopyError as exc:
            if args.dryrun:
                printer.error(f"{source} to {dest}: {exc}")
            return int(exit_code_for(exc))
        except KeyboardInterrupt:
            printer.error(f"interrupted: {source} to {dest} (open uploads were aborted)")
            return int(ExitCode.INTERRUPTED)
    return int(ExitCode.OK)


def _copy_with_journal(
    args: argparse.Namespace,
    printer: Printer,
    engine: CopyEngine,
    source: S3Location,
    dest: S3Location,
    dest_args: dict[str, Any],
) -> int:
    """``cp --journal FILE``: one object's copy that the same command resumes.

    With ``--dryrun`` the journal is only read (never created): a copy it has is said to
    be done, else the plan is printed.
    """
    try:
        target = resolve_dest(source, dest)  # bad input before the journal file is made
        journal = Journal.open(
            args.journal, source=str(source), dest=str(dest), readonly=args.dryrun
        )
    except S3xCopyError as exc:
        printer.error(str(exc))
        return int(exit_code_for(exc))
    done = (
        f"{source} to {target}: copied by an earlier run (--journal {args.journal}), nothing to do"
    )
    if args.dryrun:
        try:
            with journal or contextlib.nullcontext():
                plan, facts = engine.plan(source, dest, dest_args)
                recorded, gone = (
                    recorded_copy(journal, engine, source, facts, target, dest_args)
                    if journal
                    else (None, None)
                )
                if recorded is not None:
                    printer.notice(f"(dryrun) {done}", label="note")
                else:
                    if gone:
                        printer.notice(f"(dryrun) {gone}", label="note")
                    printer.dryrun(plan)
        except S3xCopyError as exc:
            printer.error(f"{source} to {dest}: {exc}")
            return int(exit_code_for(exc))
        return int(ExitCode.OK)
    assert journal is not None  # opened for writing: made when missing
    interrupted = f"interrupted: run the same command again to resume from {args.journal}"
    with journal, sigterm_as_interrupt():
        try:
            result = journaled_copy(engine, source, dest, dest_args, journal)
        except (CopyInterruptedError, KeyboardInterrupt):
            printer.error(interrupted)
            return int(ExitCode.INTERRUPTED)
        except S3xCopyError as exc:
            return int(exit_code_for(exc))
    if result.warning:
        printer.notice(result.warning)
    if result.skipped:
        printer.notice(done, label="note")
    return int(ExitCode.OK)
