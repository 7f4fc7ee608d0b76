"""The harness's parts: what a measurement reports, medians and ratios, targets, bounds."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from benchmarks.backends import RunCounters
from benchmarks.harness import lower_bound, target_for, workloads
from benchmarks.measure import run_measured
from benchmarks.report import RunRecord, Workload, markdown, summarise
from benchmarks.tools import TOOLS_BY_NAME, Connection, base_env
from s3xcopy.bench.costs import ModelParams, copy_lower_bound
from s3xcopy.limits import GiB, KiB, MiB


def test_measurement_reports_the_tool_not_the_harness() -> None:
    code = "x = bytearray(64 * 1024 * 1024); import time; time.sleep(0.3)"
    big = run_measured([sys.executable, "-c", code], env=os.environ, timeout=60)
    small = run_measured(["sleep", "0.3"], env=os.environ, timeout=60)
    assert big.ok and small.ok
    assert big.max_rss_kib is not None and big.max_rss_kib > 64 * 1024
    # A forked child inherits the harness's high-water mark; the tool's own is tiny.
    assert small.max_rss_kib is not None and small.max_rss_kib < 16 * 1024
    assert big.cpu_seconds > 0


def test_measurement_ends_a_run_at_its_timeout() -> None:
    late = run_measured(["sleep", "30"], env=os.environ, timeout=0.3)
    assert late.timed_out
    assert not late.ok
    assert late.returncode == -9


def test_measurement_keeps_the_output_tails() -> None:
    failed = run_measured(["sh", "-c", "echo out; echo oops >&2; exit 3"], env=os.environ,
                          timeout=30)  # fmt: skip
    assert (failed.returncode, failed.stdout_tail, failed.stderr_tail) == (3, "out", "oops")


W = Workload("c", "one 50 GiB object", "model", 1, 50 * GiB, 10)
D = Workload("d", "many", "model", 1000, 4 * KiB, 10)
E = Workload("e", "one 1 GiB object", "model", 1, GiB, 10)


def record(workload: str, tool: str, rep: int, wall: float, **kw: object) -> RunRecord:
    fields = {"user_seconds": 1.0, "sys_seconds": 0.5, "max_rss_mib": 60.0, "requests": 10}
    fields.update(kw)
    return RunRecord(workload, tool, rep, "ok", wall_seconds=wall, **fields)  # type: ignore[arg-type]


def test_summaries_are_medians_with_ratios_to_aws() -> None:
    records = [
        record("c", "aws", 1, 100.0), record("c", "aws", 2, 80.0), record("c", "aws", 3, 90.0),
        record("c", "s3xcopy", 1, 12.0, lower_bound_seconds=10.0, concurrency=64,
               part_size=64 * MiB),
        record("c", "s3xcopy", 2, 18.0, lower_bound_seconds=10.0),
        RunRecord("c", "s3xcopy", 3, "failed", error="exit 1: boom"),
        RunRecord("c", "s5cmd", 0, "skipped", error="not installed"),
    ]  # fmt: skip
    summaries = {s.tool: s for s in summarise([W], records, {"aws": "aws s3 cp"})}
    aws, s3x, s5 = summaries["aws"], summaries["s3xcopy"], summaries["s5cmd"]
    assert (aws.wall, aws.vs_reference, aws.ok, aws.runs) == (90.0, 1.0, 3, 3)
    assert (s3x.wall, s3x.ok, s3x.runs, s3x.note) == (15.0, 2, 3, "1 failed: exit 1: boom")
    assert s3x.vs_reference == pytest.approx(15 / 90)
    assert s3x.vs_bound == pytest.approx(1.5)
    assert (s3x.concurrency, s3x.part_size) == (64, 64 * MiB)
    assert s3x.cpu == 1.5
    assert (s5.wall, s5.note, s5.runs) == (None, "not installed", 0)


def test_markdown_has_a_table_per_workload_and_the_targets() -> None:
    records = [
        record("c", "aws", 1, 100.0), record("c", "s3xcopy", 1, 15.0, lower_bound_seconds=12.0),
        record("d", "aws", 1, 10.0), record("d", "s3xcopy", 1, 2.0),
        record("e", "s3xcopy", 1, 2.0, max_rss_mib=60.0),
    ]  # fmt: skip
    text = markdown([W, D, E], summarise([W, D, E], records, {}), {"repeat": 1})
    assert "### (c) one 50 GiB object" in text
    assert "| tool | median s | vs aws | MB/s | lower bound s | vs bound |" in text
    assert "| tool | median s | vs aws | objects/s |" in text
    assert "- (c) s3xcopy time ÷ aws s3 cp time ≤ 0.2: 0.15× (met)" in text
    assert "- (c) s3xcopy time ÷ model lower bound ≤ 1.3: 1.25× (met)" in text
    assert "- (d) s3xcopy objects/s ÷ aws s3 cp objects/s ≥ 3: 5.00× (met)" in text
    assert "- (b) s3xcopy objects/s ÷ aws s3 cp objects/s ≥ 3: not measured" in text
    assert "memory: s3xcopy peak RSS on (c) ÷ on (e), a 1 GiB copy ≤ 1 (5% slack): 1.00×" in text


def test_lower_bound_from_what_the_client_did() -> None:
    params = ModelParams()
    multipart = RunCounters(max_inflight={"UploadPartCopy": 10},
                            copy_part_sizes={8 * MiB: 6399, 5 * MiB: 1})  # fmt: skip
    assert lower_bound(W, multipart, params) == (
        10,
        8 * MiB,
        copy_lower_bound(W.size, part_size=8 * MiB, concurrency=10, params=params),
    )
    single = RunCounters(by_operation={"CopyObject": 1}, max_inflight={"CopyObject": 1})
    assert lower_bound(E, single, params)[:2] == (1, None)
    assert lower_bound(W, single, params) == (None, None, None)  # > 5 GiB: no single copy
    bulk = RunCounters(max_inflight={"CopyObject": 25})
    assert lower_bound(D, bulk, params)[0] == 25


def test_every_tool_command_for_a_prefix_and_an_object(tmp_path: Path) -> None:
    conn = Connection("http://127.0.0.1:9", "key", "secret")
    quick = {w.id: w for w in workloads(quick=True)}
    for tool in TOOLS_BY_NAME.values():
        for workload in (quick["a"], quick["b"]):
            argv = tool.argv(target_for(workload, tool, 1), conn)
            joined = " ".join(argv)
            assert "bench-src" in joined and "bench-dst" in joined
            assert ("--recursive" in argv or "*" in joined or argv[1] == "copy") == workload.bulk
    home = str(tmp_path)
    env = TOOLS_BY_NAME["rclone"].env(base_env(conn, home), conn, home)
    assert env["RCLONE_CONFIG_BENCH_ENDPOINT"] == conn.endpoint_url
    assert env["AWS_CONFIG_FILE"] == os.devnull
