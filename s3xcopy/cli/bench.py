"""``s3xcopy bench``: part-size sweeps on any endpoint, the modelled S3, and its lower bounds.

Three forms share one parser, told apart by the first argument:

    s3xcopy bench s3://bucket/key --dest-prefix s3://bucket/tmp/ [--part-sizes ...]
    s3xcopy bench model [--port N] [--latency-ms ...]
    s3xcopy bench bound --size 50GiB [--part-sizes ...] [--concurrency ...]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from ..bench.costs import (
    DEFAULT_BURST_SECONDS,
    DEFAULT_COPY_RATE_MBPS,
    DEFAULT_LATENCY_MS,
    DEFAULT_READ_RPS,
    DEFAULT_WRITE_RPS,
    MB,
    ModelParams,
    copy_lower_bound,
    part_sizes,
)
from ..errors import InvalidInputError, S3xCopyError
from ..limits import MAX_PART_SIZE, MAX_PARTS, MIN_PART_SIZE
from ..location import S3Location
from ..units import format_size, parse_size
from .exitcodes import ExitCode, exit_code_for
from .options import add_endpoint_trust_options, client_flags, session_from
from .parser import ArgumentParser, UsageError
from .printers import finding_lines

DEFAULT_PART_SIZES = "8MB,64MB,256MB"
DEFAULT_CONCURRENCY = "4,10,32"
DEFAULT_REPEAT = 3

_SWEEP_ONLY = ("dest_prefix", "repeat", "endpoint_url", "profile", "region", "plot")
_MODEL_FLAGS = (
    "latency_ms",
    "copy_rate_mbps",
    "prefix_write_rps",
    "prefix_read_rps",
    "burst_seconds",
    "min_part_size",
)


def register(subparsers: argparse._SubParsersAction[ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="part-size sweeps, the modelled S3 endpoint, and its lower bounds",
        description=(
            "Sweep part size and concurrency for one real copy (bench SRC), run the modelled "
            "S3 endpoint (bench model), or print the model's lower bounds (bench bound)."
        ),
        epilog=(
            "examples:\n"
            "  s3xcopy bench s3://src/big.bin --dest-prefix s3://scratch/bench/ "
            "--part-sizes 8MB,64MB,256MB --concurrency 4,10,32 --csv out.csv --plot out.png\n"
            "  s3xcopy bench model --port 9000 --latency-ms 20 --copy-rate-mbps 90\n"
            "  s3xcopy bench bound --size 50GiB --part-sizes 8MB,64MB,256MB --concurrency 10,64\n"
            "\n"
            "exit codes (bench SRC): 0 every copy succeeded, 1 a copy failed, 2 bad usage or "
            "input, 3 every failure was access denied (the grants to add are printed), "
            "130 interrupted"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "target",
        metavar="SRC|model|bound",
        help="the source object to sweep (s3://bucket/key), or 'model', or 'bound'",
    )
    grid = parser.add_argument_group("sweep grid (bench SRC and bench bound)")
    grid.add_argument(
        "--part-sizes",
        metavar="LIST",
        help=f"comma-separated part sizes (default {DEFAULT_PART_SIZES})",
    )
    grid.add_argument(
        "--concurrency",
        metavar="LIST",
        help=f"comma-separated concurrencies (default {DEFAULT_CONCURRENCY})",
    )
    grid.add_argument("--csv", metavar="FILE", help="also write the table as CSV")
    sweep = parser.add_argument_group("sweep (bench SRC)")
    sweep.add_argument(
        "--dest-prefix",
        metavar="S3_URI",
        help="where the copies go (s3://bucket/prefix/); each is deleted after it is timed",
    )
    sweep.add_argument(
        "--repeat", type=int, metavar="N", help=f"runs per cell (default {DEFAULT_REPEAT})"
    )
    sweep.add_argument("--endpoint-url", metavar="URL", help="S3-compatible endpoint")
    sweep.add_argument("--profile", help="AWS profile for the copies")
    sweep.add_argument("--region", help="AWS Region for the copies")
    add_endpoint_trust_options(sweep)
    sweep.add_argument("--plot", metavar="FILE", help="draw a PNG (needs the plot extra)")
    sweep.add_argument(
        "--vs-model",
        action="store_true",
        help="add the modelled S3's lower bound for each cell (model flags below apply)",
    )
    model = parser.add_argument_group(
        "modelled S3 (bench model; the cost shape for bench bound and --vs-model)"
    )
    model.add_argument("--port", type=int, help="port on 127.0.0.1 (default: a free one)")
    model.add_argument(
        "--latency-ms",
        type=float,
        metavar="MS",
        help=f"per-request latency (default {DEFAULT_LATENCY_MS:g})",
    )
    model.add_argument(
        "--copy-rate-mbps",
        type=float,
        metavar="MB_S",
        help="server-side copy rate of one CopyObject/UploadPartCopy, in MB/s of 10^6 bytes "
        f"(default {DEFAULT_COPY_RATE_MBPS:g})",
    )
    model.add_argument(
        "--prefix-write-rps",
        type=float,
        metavar="N",
        help=f"PUT/COPY/POST/DELETE per second per prefix, 0 = unlimited "
        f"(default {DEFAULT_WRITE_RPS:g})",
    )
    model.add_argument(
        "--prefix-read-rps",
        type=float,
        metavar="N",
        help=f"GET/HEAD per second per prefix, 0 = unlimited (default {DEFAULT_READ_RPS:g})",
    )
    model.add_argument(
        "--burst-seconds",
        type=float,
        metavar="S",
        help=f"token-bucket depth in seconds of rate (default {DEFAULT_BURST_SECONDS:g})",
    )
    model.add_argument(
        "--min-part-size",
        metavar="SIZE",
        help=f"smallest non-final part accepted (default {format_size(MIN_PART_SIZE)})",
    )
    bound = parser.add_argument_group("bound (bench bound)")
    bound.add_argument("--size", metavar="SIZE", help="object size, e.g. 50GiB")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.target == "model":
        return _run_model(args)
    if args.target == "bound":
        return _run_bound(args)
    return _run_sweep(args)


# --- helpers ---------------------------------------------------------------------------


def _given(args: argparse.Namespace, names: Sequence[str]) -> list[str]:
    return [
        "--" + n.replace("_", "-") for n in names if getattr(args, n, None) not in (None, False)
    ]


def _refuse(args: argparse.Namespace, names: Sequence[str], form: str) -> None:
    extra = _given(args, names)
    if extra:
        raise UsageError(f"bench {form}: {', '.join(extra)} does not apply here")


def _sizes(text: str | None, default: str) -> list[int]:
    try:
        sizes = [parse_size(t) for t in (text or default).split(",") if t.strip()]
    except ValueError as exc:
        raise UsageError(f"--part-sizes: {exc}") from None
    if not sizes:
        raise UsageError("--part-sizes: give at least one size")
    return sizes


def _ints(text: str | None, default: str, flag: str) -> list[int]:
    try:
        values = [int(t) for t in (text or default).split(",") if t.strip()]
    except ValueError:
        raise UsageError(f"{flag}: expected comma-separated whole numbers") from None
    if not values or any(v < 1 for v in values):
        raise UsageError(f"{flag}: every value must be >= 1")
    return values


def model_params(args: argparse.Namespace) -> ModelParams:
    """ModelParams from the model flags (defaults where a flag is absent)."""
    given: dict[str, Any] = {}
    for flag, field in (
        ("latency_ms", "latency_ms"),
        ("copy_rate_mbps", "copy_rate_mbps"),
        ("prefix_write_rps", "write_rps"),
        ("prefix_read_rps", "read_rps"),
        ("burst_seconds", "burst_seconds"),
    ):
        value = getattr(args, flag, None)
        if value is not None:
            given[field] = value
    if getattr(args, "min_part_size", None):
        try:
            given["min_part_size"] = parse_size(args.min_part_size)
        except ValueError as exc:
            raise UsageError(f"--min-part-size: {exc}") from None
    try:
        return ModelParams(**given)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _describe(params: ModelParams) -> str:
    def rate(value: float) -> str:
        return "unlimited" if value <= 0 else f"{value:g}"

    return (
        f"latency {params.latency_ms:g} ms, copy {params.copy_rate_mbps:g} MB/s per request, "
        f"{rate(params.write_rps)} writes / {rate(params.read_rps)} reads per second per prefix"
    )


# --- bench model -------------------------------------------------------------------------


def _run_model(args: argparse.Namespace) -> int:
    from ..bench.server import run_forever

    _refuse(args, (*_SWEEP_ONLY, "vs_model", "part_sizes", "concurrency", "csv", "size"), "model")
    params = model_params(args)
    port = args.port or 0
    if not 0 <= port < 65536:
        raise UsageError("--port must be 0..65535")

    def ready(bound: int) -> None:
        print(f"modelled S3 on http://127.0.0.1:{bound} ({_describe(params)})", flush=True)
        print("stats: GET /__model__/stats, reset: POST /__model__/reset", flush=True)

    try:
        run_forever(params, port, ready)
    except OSError as exc:
        print(f"error: cannot serve on 127.0.0.1:{port}: {exc}", file=sys.stderr)
        return int(ExitCode.USAGE)
    return int(ExitCode.OK)


# --- bench bound -------------------------------------------------------------------------


def _run_bound(args: argparse.Namespace) -> int:
    _refuse(args, (*_SWEEP_ONLY, "vs_model", "port"), "bound")
    if not args.size:
        raise UsageError("bench bound: --size is required (e.g. --size 50GiB)")
    try:
        size = parse_size(args.size)
    except ValueError as exc:
        raise UsageError(f"--size: {exc}") from None
    params = model_params(args)
    sizes = _sizes(args.part_sizes, DEFAULT_PART_SIZES)
    concurrencies = _ints(args.concurrency, DEFAULT_CONCURRENCY, "--concurrency")
    rows = []
    for part_size in sizes:
        parts = len(part_sizes(size, part_size))
        if parts > MAX_PARTS or part_size < params.min_part_size or part_size > MAX_PART_SIZE:
            rows.append([format_size(part_size), "-", str(parts), "impossible", "-"])
            continue
        for concurrency in concurrencies:
            bound = copy_lower_bound(
                size, part_size=part_size, concurrency=concurrency, params=params
            )
            rows.append(
                [
                    format_size(part_size),
                    str(concurrency),
                    str(parts),
                    f"{bound:.3f}",
                    f"{size / bound / MB:.1f}",
                ]
            )
    head = ["part size", "concurrency", "parts", "lower bound s", "MB/s"]
    print(f"lower bounds for one {format_size(size)} copy on the model ({_describe(params)})")
    print(_plain_table(head, rows))
    if args.csv:
        import csv

        with open(args.csv, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["part_size", "concurrency", "parts", "lower_bound_seconds", "mbps"])
            writer.writerows(rows)
    return int(ExitCode.OK)


def _plain_table(head: list[str], rows: list[list[str]]) -> str:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(head)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(head, widths, strict=True))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


# --- bench SRC (the sweep) ---------------------------------------------------------------


def _run_sweep(args: argparse.Namespace) -> int:
    from ..bench import sweep

    _refuse(args, ("port", "size"), "SRC")
    if not args.vs_model:
        _refuse(args, _MODEL_FLAGS, "SRC (without --vs-model)")
    try:
        source = S3Location.parse(args.target)
        if source.is_prefix:
            raise InvalidInputError(f"bench sweeps one object, not a prefix: {args.target}")
        if not args.dest_prefix:
            raise UsageError("bench SRC: --dest-prefix s3://bucket/prefix/ is required")
        dest = S3Location.parse(args.dest_prefix)
    except InvalidInputError as exc:
        raise UsageError(str(exc)) from None
    sizes = _sizes(args.part_sizes, DEFAULT_PART_SIZES)
    bad = [s for s in sizes if not MIN_PART_SIZE <= s <= MAX_PART_SIZE]
    if bad:
        raise UsageError(
            f"--part-sizes: {', '.join(format_size(s) for s in bad)} outside S3's part sizes "
            f"({format_size(MIN_PART_SIZE)}..{format_size(MAX_PART_SIZE)})"
        )
    concurrencies = _ints(args.concurrency, DEFAULT_CONCURRENCY, "--concurrency")
    repeat = args.repeat if args.repeat is not None else DEFAULT_REPEAT
    if repeat < 1:
        raise UsageError("--repeat must be >= 1")
    if args.plot and not sweep.plotting_available():
        raise UsageError("--plot needs matplotlib: pip install 's3xcopy[plot]'")
    params = model_params(args) if args.vs_model else None

    for flag, path in (("--csv", args.csv), ("--plot", args.plot)):
        folder = os.path.dirname(os.path.abspath(path)) if path else None
        if folder is not None and not os.path.isdir(folder):
            raise UsageError(f"{flag} {path}: no such directory {folder}")  # before the sweep
    try:
        session = session_from(args.profile, args.region, client_flags(args))
    except InvalidInputError as exc:
        raise UsageError(str(exc)) from None
    copy = sweep.engine_copy(session, endpoint_url=args.endpoint_url)
    cleanup = sweep.delete_object(session, endpoint_url=args.endpoint_url)

    def progress(sample: sweep.Sample, done: int, total: int) -> None:
        what = f"[{done}/{total}] {format_size(sample.part_size)} x {sample.concurrency}"
        if sample.outcome is not None:
            line = f"{what}, run {sample.repeat}: {sample.outcome.seconds:.3f} s"
        else:
            line = f"{what}, run {sample.repeat}: failed: {sample.error}"
        print(line, file=sys.stderr, flush=True)

    try:
        result = sweep.run_sweep(
            str(source),
            str(dest) if str(dest).endswith("/") else str(dest) + "/",
            part_sizes=sizes,
            concurrencies=concurrencies,
            repeat=repeat,
            copy=copy,
            cleanup=cleanup,
            on_sample=progress,
        )
    except S3xCopyError as exc:  # bad input: every cell would meet it
        print(f"error: {exc}", file=sys.stderr)
        return int(exit_code_for(exc))
    rows = result.rows(params)
    print(f"bench {result.source} (run {result.run_id}, {repeat} run(s) per cell)")
    print(sweep.format_table(rows))
    try:
        if args.csv:
            sweep.write_csv(rows, args.csv)
        if args.plot:
            sweep.plot(rows, args.plot, title=f"s3xcopy bench {result.source}")
    except OSError as exc:
        print(f"error: cannot write {exc.filename}: {exc.strerror}", file=sys.stderr)
        return int(ExitCode.FAILED)
    for finding in result.findings:
        for line in finding_lines(finding):
            print(line, file=sys.stderr)
    if not result.failed:
        return int(ExitCode.OK)
    denied = all(s.denied for s in result.failed)
    return int(ExitCode.ACCESS_DENIED if denied else ExitCode.FAILED)
