"""``s3xcopy preflight SRC DST``: would this copy be allowed? Asked of S3 itself, no copy."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..api import build_engine
from ..errors import InvalidInputError, S3xCopyError
from ..location import S3Location
from ..preflight import PathVerdict, PreflightReport, run_prefix_preflight, run_preflight
from ..units import format_size
from .exitcodes import EXIT_CODES_HELP, ExitCode, exit_code_for
from .options import (
    add_connection_options,
    add_destination_options,
    add_transfer_options,
    client_flags,
    copy_config,
    extra_args,
    session_from,
    source_session_from,
)
from .printers import BARE_DENIAL_NOTE, finding_lines, is_bare_denial


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "preflight",
        help="probe a copy's permissions through S3 before copying (nothing is written)",
        description=(
            "Probe both copy paths through S3 itself: a 1-byte ranged GetObject on the source, "
            "CreateMultipartUpload on the destination with the copy's real SSE / ACL / tagging "
            "headers, a 1-byte UploadPartCopy, then AbortMultipartUpload. A direct KMS call "
            "can disagree with S3 (kms:ViaService, aws:SourceVpce, encryption context); this "
            "cannot. Exit 0 when the path the copy would take is clear, 3 when it is not."
        ),
        epilog=EXIT_CODES_HELP,
    )
    parser.add_argument(
        "source", metavar="SRC",
        help="s3://bucket/key[?versionId=ID], or s3://bucket/prefix/ for what cp --recursive "
        "and sync meet first: the listing, then the canary on the first object",
    )  # fmt: skip
    parser.add_argument("dest", metavar="DST", help="s3://bucket/key, or s3://bucket/prefix/")
    parser.add_argument(
        "--sync", action="store_true",
        help="for a prefix: also probe what sync lists before it copies, the destination "
        "prefix (s3:ListBucket on DST's bucket); sync --delete's deletions are not probed",
    )  # fmt: skip
    add_destination_options(parser)
    add_transfer_options(parser)
    add_connection_options(parser)
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.set_defaults(run=run)


def _verdict_line(name: str, verdict: PathVerdict) -> str:
    state = "clear" if verdict.clear else f"DENIED at {verdict.blocked_at}"
    return f"{name:<28}{state}"


def render(report: PreflightReport) -> list[str]:
    """The report for people: who, each probe step, each path, the findings, the notes."""
    who = report.caller_arn or "(caller unknown: no STS on this endpoint)"
    lines = [f"preflight: {report.source} to {report.dest}", f"  as {who}"]
    if report.size is not None:
        lines.append(f"  {format_size(report.size)}: the copy would take the {report.planned} path")
    for step in report.steps:
        state = "ok" if step.ok else "DENIED"
        detail = f"  {step.detail}" if step.detail else ""
        lines.append(f"  {step.operation:<24}{state}{detail}")
    lines.append(_verdict_line("single path (CopyObject):", report.single))
    lines.append(_verdict_line("multipart path:", report.multipart))
    for finding in report.findings:
        lines.extend(finding_lines(finding))
    refusals = [step.error for step in report.steps if step.error is not None]
    if report.findings and any(is_bare_denial(error) for error in refusals):
        lines.append(BARE_DENIAL_NOTE)
    lines.extend(f"note: {note}" for note in report.notes)
    return lines


def run(args: argparse.Namespace) -> int:
    try:
        session = session_from(args.profile, args.region, client_flags(args))
        engine = build_engine(
            copy_config(args),
            session=session,
            source_session=source_session_from(args, session),
            endpoint_url=args.endpoint_url,
            region=args.region,
            source_region=args.source_region,
            source_endpoint_url=args.source_endpoint_url,
        )
        source, dest = S3Location.parse(args.source), S3Location.parse(args.dest)
        if source.is_prefix:
            report = run_prefix_preflight(engine, source, dest, extra_args(args), sync=args.sync)
        elif args.sync:
            raise InvalidInputError(
                f"--sync probes a prefix (s3://bucket/prefix/), and {source} is an object"
            )
        else:
            report = run_preflight(engine, source, dest, extra_args(args))
    except S3xCopyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return int(exit_code_for(exc))
    if args.json:
        print(json.dumps(report.to_dict(), default=str))
    else:
        print("\n".join(render(report)))
    return int(ExitCode.OK if report.clear else ExitCode.ACCESS_DENIED)
