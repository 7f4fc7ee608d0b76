"""Peer comparison: the same copies with s3xcopy, aws s3 cp, boto3, s5cmd and rclone.

    python -m benchmarks.harness            # the full run (long: run it on a quiet machine)
    python -m benchmarks.harness --quick    # tiny sizes, one repetition: a smoke test

Workloads: (a) one 512 MiB object and (b) 2,000 × 4 KiB objects on SeaweedFS (real
bytes); (c) one 50 GiB object and (d) 10,000 × 4 KiB objects on the modelled S3, plus
(e) one 1 GiB object on the model, the reference for the memory target. Each backend is
started once, the tools alternate within each repetition (the order rotates from one
repetition to the next), every destination is checked and then deleted, and every server
is stopped. Results: a markdown table on stdout and runs/summary files under --out.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from s3xcopy.bench.costs import ModelParams, bulk_copy_lower_bound, copy_lower_bound
from s3xcopy.limits import GiB, KiB, MiB
from s3xcopy.units import format_size

from .backends import DST_BUCKET, SRC_BUCKET, Backend, ModelBackend, RunCounters, SeaweedBackend
from .measure import run_measured
from .report import RunRecord, Workload, summarise, write_outputs
from .tools import ALL_TOOLS, TOOLS_BY_NAME, Target, Tool, base_env

RESULTS = Path(__file__).resolve().parent / "results"


def workloads(quick: bool) -> list[Workload]:
    """The issue's workloads, or their tiny versions for ``--quick``."""
    if quick:
        return [
            Workload("a", "one 16 MiB object (quick)", "seaweedfs", 1, 16 * MiB, 180),
            Workload("b", "50 × 4 KiB objects (quick)", "seaweedfs", 50, 4 * KiB, 180),
            Workload("c", "one 200 MiB object (quick)", "model", 1, 200 * MiB, 180),
            Workload("d", "50 × 4 KiB objects (quick)", "model", 50, 4 * KiB, 180),
            Workload("e", "one 32 MiB object (quick, memory reference)", "model", 1, 32 * MiB, 180),
        ]
    return [
        Workload("a", "one 512 MiB object", "seaweedfs", 1, 512 * MiB, 1800),
        Workload("b", "2,000 × 4 KiB objects", "seaweedfs", 2000, 4 * KiB, 1800),
        Workload("c", "one 50 GiB object", "model", 1, 50 * GiB, 3600),
        Workload("d", "10,000 × 4 KiB objects", "model", 10_000, 4 * KiB, 3600),
        Workload("e", "one 1 GiB object (memory reference for (c))", "model", 1, GiB, 1800),
    ]


def source_key(workload: Workload) -> str:
    return f"{workload.id}/objects/" if workload.bulk else f"{workload.id}/object.bin"


def dest_prefix(workload: Workload, tool: Tool, rep: int) -> str:
    return f"{workload.id}/{tool.name}/r{rep}/"


def target_for(workload: Workload, tool: Tool, rep: int) -> Target:
    prefix = dest_prefix(workload, tool, rep)
    return Target(
        src_bucket=SRC_BUCKET,
        src_key=source_key(workload),
        dst_bucket=DST_BUCKET,
        dst_key=prefix if workload.bulk else prefix + "object.bin",
        bulk=workload.bulk,
    )


def lower_bound(
    workload: Workload, counters: RunCounters, params: ModelParams
) -> tuple[int | None, int | None, float | None]:
    """(concurrency, part size, lower bound s) of a run on the model, from what it sent."""
    if workload.bulk:
        concurrency = counters.max_inflight.get("CopyObject")
        if not concurrency:
            return None, None, None
        bound = bulk_copy_lower_bound(
            workload.count, workload.size, concurrency=concurrency, params=params
        )
        return concurrency, None, bound
    if counters.copy_part_sizes:
        part_size = max(counters.copy_part_sizes)
        concurrency = counters.max_inflight.get("UploadPartCopy", 1)
        bound = copy_lower_bound(
            workload.size, part_size=part_size, concurrency=concurrency, params=params
        )
        return concurrency, part_size, bound
    if counters.by_operation.get("CopyObject") and workload.size <= params.max_copy_object_size:
        return (
            1,
            None,
            copy_lower_bound(workload.size, part_size=None, concurrency=1, params=params),
        )
    return None, None, None


def run_one(
    backend: Backend,
    workload: Workload,
    tool: Tool,
    rep: int,
    slot: int,
    params: ModelParams,
    home: str,
    timeout: float,
) -> RunRecord:
    """One timed run: counters, the command, the check of what arrived, the clean-up."""
    target = target_for(workload, tool, rep)
    conn = backend.connection
    env = tool.env(base_env(conn, home), conn, home)
    argv = tool.argv(target, conn)
    prefix = dest_prefix(workload, tool, rep)
    backend.clean(prefix)  # a previous, interrupted harness may have left something
    snapshot = backend.before_run()
    measured = run_measured(argv, env=env, timeout=timeout, cwd=home)
    counters = backend.after_run(snapshot)
    record = RunRecord(
        workload=workload.id,
        tool=tool.name,
        rep=rep,
        slot=slot,
        status="ok",
        wall_seconds=round(measured.wall_seconds, 6),
        user_seconds=round(measured.user_seconds, 6),
        sys_seconds=round(measured.sys_seconds, 6),
        max_rss_mib=None if measured.max_rss_kib is None else round(measured.max_rss_kib / 1024, 1),
        requests=counters.requests,
        slowdowns=counters.slowdowns,
        by_operation=counters.by_operation,
        server_cpu_seconds=counters.server_cpu_seconds,
    )
    if workload.backend == "model":
        record.concurrency, record.part_size, record.lower_bound_seconds = lower_bound(
            workload, counters, params
        )
    if not measured.ok:
        record.status = "failed"
        why = "timed out" if measured.timed_out else f"exit {measured.returncode}"
        tail = (measured.stderr_tail or measured.stdout_tail).splitlines()
        record.error = f"{why}: {tail[-1][:200]}" if tail else why
    else:
        problem = backend.check(prefix, source_key(workload), workload.count, workload.size)
        if problem:
            record.status, record.error = "failed", problem
    backend.clean(prefix)
    return record


def progress(record: RunRecord) -> None:
    if record.status == "skipped":
        print(f"[{record.workload}] {record.tool}: skipped ({record.error})", file=sys.stderr)
        return
    text = f"[{record.workload}] {record.tool} run {record.rep}: {record.wall_seconds:.2f} s"
    text += f", CPU {record.cpu_seconds:.2f} s"
    if record.max_rss_mib is not None:
        text += f", RSS {record.max_rss_mib:.0f} MiB"
    if record.requests is not None:
        text += f", {record.requests} requests"
    if record.status != "ok":
        text += f" FAILED: {record.error}"
    print(text, file=sys.stderr, flush=True)


def environment(args: argparse.Namespace, tools: Sequence[Tool], params: ModelParams,
                backends: dict[str, str]) -> dict[str, Any]:  # fmt: skip
    versions = {}
    for tool in tools:
        try:
            versions[tool.label] = tool.version()
        except Exception as exc:  # a version probe never stops the run
            versions[tool.label] = f"(version unknown: {exc})"
    return {
        "started": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "host": socket.gethostname(),
        "platform": platform.platform(terse=True),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "quick": args.quick,
        "repeat": args.repeat,
        "versions": versions,
        "model": params.to_dict(),
        "backends": backends,
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.harness",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test")
    parser.add_argument("--repeat", type=int, help="runs per tool and workload (3; quick: 1)")
    parser.add_argument("--tools", help=f"comma list of {','.join(TOOLS_BY_NAME)} (default all)")
    parser.add_argument("--workloads", help="comma list of a,b,c,d,e (default all)")
    parser.add_argument("--out", type=Path, help=f"results directory (default {RESULTS})")
    parser.add_argument("--pause", type=float, default=0.5, help="seconds between runs")
    parser.add_argument("--timeout", type=float, help="seconds per run (default per workload)")
    model = parser.add_argument_group("the modelled S3 (defaults: published AWS figures)")
    model.add_argument("--latency-ms", type=float)
    model.add_argument("--copy-rate-mbps", type=float)
    model.add_argument("--prefix-write-rps", type=float)
    model.add_argument("--prefix-read-rps", type=float)
    args = parser.parse_args(argv)
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    overrides = {
        k: v
        for k, v in (
            ("latency_ms", args.latency_ms),
            ("copy_rate_mbps", args.copy_rate_mbps),
            ("write_rps", args.prefix_write_rps),
            ("read_rps", args.prefix_read_rps),
        )
        if v is not None
    }
    params = ModelParams(**overrides)
    tools = list(ALL_TOOLS)
    if args.tools:
        unknown = set(args.tools.split(",")) - set(TOOLS_BY_NAME)
        if unknown:
            print(f"unknown tool(s): {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        tools = [TOOLS_BY_NAME[n] for n in args.tools.split(",")]
    chosen = workloads(args.quick)
    if args.workloads:
        wanted = set(args.workloads.split(","))
        chosen = [w for w in chosen if w.id in wanted]
    makers = {"seaweedfs": SeaweedBackend, "model": lambda: ModelBackend(params)}
    records: list[RunRecord] = []
    descriptions: dict[str, str] = {}
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    out_dir = (args.out or RESULTS) / (stamp + ("-quick" if args.quick else ""))
    with tempfile.TemporaryDirectory(prefix="s3xcopy-bench-home-") as home:
        for backend_name in ("seaweedfs", "model"):
            mine = [w for w in chosen if w.backend == backend_name]
            if not mine:
                continue
            backend: Backend = makers[backend_name]()  # type: ignore[no-untyped-call]
            descriptions[backend_name] = backend.description
            print(f"starting {backend.description}", file=sys.stderr, flush=True)
            backend.start()
            try:
                for workload in mine:
                    print(f"[{workload.id}] seeding {workload.count} × "
                          f"{format_size(workload.size)}", file=sys.stderr, flush=True)  # fmt: skip
                    backend.seed(source_key(workload), workload.count, workload.size)
                    records += run_workload(args, backend, workload, tools, params, home)
            finally:
                backend.stop()
    labels = {tool.name: tool.label for tool in ALL_TOOLS}
    summaries = summarise(chosen, records, labels)
    env = environment(args, tools, params, descriptions)
    paths = write_outputs(out_dir, chosen, records, summaries, env)
    print(paths["summary_md"].read_text(encoding="utf-8"))
    print(f"results: {out_dir}", file=sys.stderr)
    return 0


def run_workload(
    args: argparse.Namespace,
    backend: Backend,
    workload: Workload,
    tools: Sequence[Tool],
    params: ModelParams,
    home: str,
) -> list[RunRecord]:
    """Every tool, ``args.repeat`` times, alternating, the order rotating per repetition."""
    records: list[RunRecord] = []
    runnable = []
    for tool in tools:
        reason = tool.unavailable(workload.bulk)
        if reason:
            records.append(RunRecord(workload.id, tool.name, 0, "skipped", error=reason))
            progress(records[-1])
        else:
            runnable.append(tool)
    timeout = args.timeout or workload.timeout
    for rep in range(1, args.repeat + 1):
        shift = (rep - 1) % max(1, len(runnable))
        order = runnable[shift:] + runnable[:shift]
        for slot, tool in enumerate(order):
            record = run_one(backend, workload, tool, rep, slot, params, home, timeout)
            records.append(record)
            progress(record)
            time.sleep(args.pause)
    return records


if __name__ == "__main__":
    sys.exit(main())
