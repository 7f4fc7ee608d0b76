"""``s3xcopy lab``: run the policy lab (``serve``), list shipped scenarios, validate files."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType
from typing import Any

from ..errors import InvalidInputError
from ..lab import LabError, LabRequestRecord, LabServer, Scenario, load_scenario, shipped_scenarios
from ..seaweed import SeaweedServer, SeaweedUnavailableError
from .exitcodes import ExitCode

_SERVE_HELP = """\
Run a local S3 endpoint that authorizes requests like AWS, from a scenario file:
accounts, principals with access keys, identity policies, bucket policies, KMS
keys and key policies. Allowed requests are forwarded to a real S3 server
(SeaweedFS, started here unless --backend-url is given); denied ones get S3's
own error answer.

This is a LAB, NOT A SECURITY BOUNDARY: it identifies callers by their access
key id and never verifies signatures. Bind it to loopback and use fake keys.
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "lab",
        help="run the policy lab: a local S3 that denies like AWS (a lab, not a security boundary)",
        description="The policy lab: a local S3 endpoint that denies like AWS. "
        "A lab, not a security boundary.",
    )
    commands = parser.add_subparsers(
        dest="lab_command", metavar="LAB_COMMAND", parser_class=type(parser)
    )
    commands.required = True

    serve = commands.add_parser(
        "serve",
        help="serve a scenario on 127.0.0.1 until Ctrl-C",
        description=_SERVE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument(
        "scenario", metavar="SCENARIO", help="a scenario file, or a shipped scenario's name"
    )
    serve.add_argument(
        "--port", type=_port, default=0, help="port on 127.0.0.1 (default: a free one)"
    )
    serve.add_argument(
        "--backend-url",
        metavar="URL",
        help="an S3 server that accepts any signature (default: start SeaweedFS)",
    )
    serve.add_argument("-v", "--verbose", action="store_true", help="print one line per request")
    serve.set_defaults(run=run_serve)

    listing = commands.add_parser("list", help="list the shipped scenarios")
    listing.set_defaults(run=run_list)

    check = commands.add_parser(
        "check", help="validate scenario files (exit 2 on the first problem)"
    )
    check.add_argument("scenarios", metavar="SCENARIO", nargs="+")
    check.set_defaults(run=run_check)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port {value} is not between 0 and 65535")
    return value


def run_list(args: argparse.Namespace) -> int:
    for name in shipped_scenarios():
        scenario = load_scenario(name)
        print(f"{name:20} {scenario.description.split('. ')[0]}")
    return int(ExitCode.OK)


def run_check(args: argparse.Namespace) -> int:
    for source in args.scenarios:
        try:
            scenario = load_scenario(source)
        except InvalidInputError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return int(ExitCode.USAGE)
        print(
            f"ok: {source}: {len(scenario.principals)} principals, "
            f"{len(scenario.world.buckets)} buckets, {len(scenario.world.keys)} keys"
        )
    return int(ExitCode.OK)


def _describe(scenario: Scenario, lab: LabServer, backend: str) -> str:
    lines = [
        f"s3xcopy lab: scenario {scenario.name} ({scenario.origin})",
        "  (a lab, not a security boundary: signatures are not verified)",
    ]
    if scenario.description:
        lines.append(f"  {scenario.description}")
    lines += [
        f"endpoint:    {lab.endpoint_url}",
        f"backend:     {backend}",
        f"region:      {scenario.region}",
        f"error style: {scenario.error_style}",
        "principals:",
    ]
    for principal in scenario.principals.values():
        lines.append(f"  {principal.name:12} {principal.caller_arn}")
        lines.append(
            f"  {'':12} AWS_ACCESS_KEY_ID={principal.access_key_id} "
            f"AWS_SECRET_ACCESS_KEY={principal.secret_access_key}"
        )
    lines.append("buckets:")
    for bucket in scenario.world.buckets.values():
        lines.append(f"  {bucket.name:12} account {bucket.account}  {bucket.encryption.describe()}")
    first = next(iter(scenario.principals.values()), None)
    buckets = list(scenario.world.buckets)
    if first is not None and buckets:
        src, dst = buckets[0], buckets[-1]
        lines += [
            "try:",
            f"  export AWS_ACCESS_KEY_ID={first.access_key_id} "
            f"AWS_SECRET_ACCESS_KEY={first.secret_access_key} AWS_DEFAULT_REGION={scenario.region}",
            f"  aws --endpoint-url {lab.endpoint_url} s3 cp ./file s3://{src}/file",
            f"  aws --endpoint-url {lab.endpoint_url} s3 cp s3://{src}/file s3://{dst}/file",
        ]
    lines.append("Ctrl-C stops the lab.")
    return "\n".join(lines)


def _print_record(record: LabRequestRecord) -> None:
    where = f"{record.bucket}/{record.key}" if record.key else record.bucket
    line = f"{record.status} {record.operation} {where} as {record.principal or 'anonymous'}"
    if record.error_code:
        line += f" -> {record.error_code}"
    if record.detail:
        line += f" ({record.detail})"
    print(line, flush=True)


def run_serve(args: argparse.Namespace) -> int:
    try:
        scenario = load_scenario(args.scenario)
    except InvalidInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return int(ExitCode.USAGE)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # Both signals only set the event, so one arriving at any point after this
    # (even between the banner and the wait) stops the lab the same clean way.
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    seaweed: SeaweedServer | None = None
    lab: LabServer | None = None
    try:
        backend = args.backend_url
        label = backend
        if backend is None:
            seaweed = SeaweedServer().start()
            backend = seaweed.endpoint_url
            label = f"SeaweedFS {backend} (started by the lab, pid {seaweed.pid})"
        lab = LabServer(
            scenario,
            backend_url=backend,
            port=args.port,
            on_request=_print_record if args.verbose else None,
        ).start()
        print(_describe(scenario, lab, label), flush=True)
        while not stop.wait(0.5):
            pass
        print("stopping the lab", file=sys.stderr, flush=True)
        return int(ExitCode.OK)
    except (LabError, SeaweedUnavailableError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return int(ExitCode.FAILED)
    finally:
        if lab is not None:
            lab.stop()
        if seaweed is not None:
            seaweed.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
