"""The part-size sweep with a fake copy function: order, clean-up, medians, outputs."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from s3xcopy.bench import sweep
from s3xcopy.bench.costs import MB, ModelParams
from s3xcopy.limits import MiB


def fake_copy(calls: list[sweep.CopyRequest]) -> sweep.CopyFunction:
    """Seconds = 1 / concurrency + part size in MiB / 1000; part 64 MiB at concurrency 1 fails."""

    def copy(request: sweep.CopyRequest) -> sweep.CopyOutcome:
        calls.append(request)
        if request.part_size == 64 * MiB and request.concurrency == 1:
            raise RuntimeError("boom\nsecond line")
        seconds = 1 / request.concurrency + request.part_size / MiB / 1000 + len(calls) / 1e6
        parts = -(-100 * MB // request.part_size)
        return sweep.CopyOutcome(seconds, 100 * MB, parts, "multipart", requests=parts + 3)

    return copy


def run(tmp_path: Path) -> tuple[sweep.SweepResult, list[sweep.CopyRequest], list[str]]:
    calls: list[sweep.CopyRequest] = []
    cleaned: list[str] = []
    result = sweep.run_sweep(
        "s3://src-bucket/big",
        "s3://dst-bucket/tmp",
        part_sizes=[8 * MiB, 64 * MiB],
        concurrencies=[1, 10],
        repeat=3,
        copy=fake_copy(calls),
        cleanup=cleaned.append,
        run_id="bench-test",
    )
    return result, calls, cleaned


def test_sweep_order_destinations_and_cleanup(tmp_path: Path) -> None:
    result, calls, cleaned = run(tmp_path)
    assert len(calls) == 12
    # Repetitions are the outer loop, so every cell is spread over the run.
    assert [(c.part_size // MiB, c.concurrency) for c in calls[:4]] == [
        (8, 1), (8, 10), (64, 1), (64, 10),
    ]  # fmt: skip
    assert calls[0].dest == f"s3://dst-bucket/tmp/bench-test/p{8 * MiB}-c1-r1"
    assert all(c.dest.startswith("s3://dst-bucket/tmp/bench-test/") for c in calls)
    assert cleaned == [c.dest for c in calls]  # every destination, failed ones included
    assert len(result.failed) == 3
    assert result.failed[0].error == "RuntimeError: boom"


def test_rows_are_medians_per_cell(tmp_path: Path) -> None:
    result, _, _ = run(tmp_path)
    rows = {(r.part_size // MiB, r.concurrency): r for r in result.rows()}
    ok = rows[(8, 10)]
    assert (ok.runs, ok.ok, ok.parts, ok.requests) == (3, 3, 12, 15)
    assert ok.median_seconds == pytest.approx(0.1 + 0.008, abs=1e-3)
    assert ok.throughput_mbps == pytest.approx(100 / ok.median_seconds)
    failed = rows[(64, 1)]
    assert (failed.ok, failed.median_seconds, failed.throughput_mbps) == (0, None, None)


def test_rows_with_model_bounds(tmp_path: Path) -> None:
    result, _, _ = run(tmp_path)
    model = ModelParams(latency_ms=10, copy_rate_mbps=100, write_rps=0)
    rows = result.rows(model)
    assert all(r.lower_bound is not None for r in rows if r.ok)
    table = sweep.format_table(rows)
    assert "lower bound s" in table
    assert "x bound" in table


def test_table_csv_and_markdown(tmp_path: Path) -> None:
    result, _, _ = run(tmp_path)
    rows = result.rows()
    table = sweep.format_table(rows).splitlines()
    assert table[0].split() == ["part", "size", "concurrency", "median", "s", "MB/s", "parts",
                                "requests", "ok"]  # fmt: skip
    assert len(table) == 5
    assert "0/3" in table[3]  # the failed cell
    markdown = sweep.format_table(rows, markdown=True).splitlines()
    assert markdown[0].startswith("| part size |")
    assert markdown[1].startswith("|---|")
    out = tmp_path / "sweep.csv"
    sweep.write_csv(rows, str(out))
    with open(out, newline="") as handle:
        records = list(csv.DictReader(handle))
    assert [r["part_size_bytes"] for r in records] == [str(8 * MiB), str(8 * MiB),
                                                       str(64 * MiB), str(64 * MiB)]  # fmt: skip
    assert records[2]["median_seconds"] == ""
    assert records[1]["strategy"] == "multipart"


def test_plot_writes_a_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    result, _, _ = run(tmp_path)
    out = tmp_path / "sweep.png"
    sweep.plot(result.rows(), str(out))
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_repeat_must_be_positive() -> None:
    with pytest.raises(ValueError, match="repeat"):
        sweep.run_sweep("s3://a/b", "s3://c/d/", part_sizes=[MiB], concurrencies=[1], repeat=0,
                        copy=fake_copy([]), cleanup=lambda _: None)  # fmt: skip
