"""Turn runs into medians and ratios: a markdown table per workload, CSV and JSON files."""

from __future__ import annotations

import csv
import json
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from s3xcopy.units import format_size

MB = 1_000_000
REFERENCE = "aws"  # ratios are against `aws s3 cp` with its defaults


@dataclass(frozen=True)
class Workload:
    """One workload: ``count`` objects of ``size`` bytes on a backend."""

    id: str
    title: str
    backend: str
    count: int
    size: int
    timeout: float

    @property
    def bulk(self) -> bool:
        return self.count > 1

    @property
    def total_bytes(self) -> int:
        return self.count * self.size


@dataclass
class RunRecord:
    """One timed run of one tool on one workload (or the note that it was skipped)."""

    workload: str
    tool: str
    rep: int
    status: str  # "ok", "failed" or "skipped"
    error: str = ""
    slot: int = 0
    wall_seconds: float | None = None
    user_seconds: float | None = None
    sys_seconds: float | None = None
    max_rss_mib: float | None = None
    requests: int | None = None
    slowdowns: int | None = None
    by_operation: dict[str, int] = field(default_factory=dict)
    #: Most requests of the copy operation in flight at once (the client's real concurrency).
    concurrency: int | None = None
    part_size: int | None = None
    lower_bound_seconds: float | None = None
    server_cpu_seconds: float | None = None

    @property
    def cpu_seconds(self) -> float | None:
        if self.user_seconds is None or self.sys_seconds is None:
            return None
        return self.user_seconds + self.sys_seconds


@dataclass
class Summary:
    """The medians of one tool on one workload, and its ratios."""

    workload: Workload
    tool: str
    label: str
    runs: int
    ok: int
    note: str = ""
    wall: float | None = None
    cpu: float | None = None
    rss_mib: float | None = None
    requests: float | None = None
    slowdowns: float | None = None
    concurrency: int | None = None
    part_size: int | None = None
    lower_bound: float | None = None
    server_cpu: float | None = None
    vs_reference: float | None = None

    @property
    def objects_per_second(self) -> float | None:
        return self.workload.count / self.wall if self.wall else None

    @property
    def mbps(self) -> float | None:
        return self.workload.total_bytes / self.wall / MB if self.wall else None

    @property
    def vs_bound(self) -> float | None:
        return self.wall / self.lower_bound if self.wall and self.lower_bound else None


def _median(values: Iterable[float | int | None]) -> float | None:
    present = [float(v) for v in values if v is not None]
    return statistics.median(present) if present else None


def summarise(
    workloads: Sequence[Workload], records: Sequence[RunRecord], labels: dict[str, str]
) -> list[Summary]:
    """Medians per (workload, tool) in run order, with the ratio to ``aws s3 cp``."""
    out: list[Summary] = []
    for workload in workloads:
        tools = list(dict.fromkeys(r.tool for r in records if r.workload == workload.id))
        rows = []
        for tool in tools:
            mine = [r for r in records if r.workload == workload.id and r.tool == tool]
            ok = [r for r in mine if r.status == "ok"]
            skipped = [r for r in mine if r.status == "skipped"]
            failed = [r for r in mine if r.status == "failed"]
            note = skipped[0].error if skipped else ""
            if failed and not note:
                note = f"{len(failed)} failed: {failed[0].error}"
            concurrencies = [r.concurrency for r in ok if r.concurrency is not None]
            parts = [r.part_size for r in ok if r.part_size is not None]
            rows.append(
                Summary(
                    workload=workload,
                    tool=tool,
                    label=labels.get(tool, tool),
                    runs=len(mine) - len(skipped),
                    ok=len(ok),
                    note=note,
                    wall=_median(r.wall_seconds for r in ok),
                    cpu=_median(r.cpu_seconds for r in ok),
                    rss_mib=_median(r.max_rss_mib for r in ok),
                    requests=_median(r.requests for r in ok),
                    slowdowns=_median(r.slowdowns for r in ok),
                    concurrency=max(concurrencies) if concurrencies else None,
                    part_size=max(parts) if parts else None,
                    lower_bound=_median(r.lower_bound_seconds for r in ok),
                    server_cpu=_median(r.server_cpu_seconds for r in ok),
                )
            )
        reference = next((s for s in rows if s.tool == REFERENCE and s.wall), None)
        for s in rows:
            if reference is not None and s.wall and reference.wall:
                s.vs_reference = s.wall / reference.wall
        out.extend(rows)
    return out


def _f(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def markdown(
    workloads: Sequence[Workload],
    summaries: Sequence[Summary],
    environment: dict[str, Any],
) -> str:
    """The tables to paste in the README, with the environment they were measured on."""
    lines = [f"## Benchmark results ({environment.get('started', '')})", ""]
    lines.append(
        f"Machine: {environment.get('cpus')} CPUs, {environment.get('platform')}, "
        f"Python {environment.get('python')}; load average at start "
        f"{environment.get('loadavg')}; {environment.get('repeat')} run(s) per tool, "
        "tools alternated within each repetition; medians."
        + (" **Quick mode: tiny sizes, a smoke test, not a measurement.**"
           if environment.get("quick") else "")
    )  # fmt: skip
    lines.append("")
    versions = environment.get("versions", {})
    if versions:
        lines.append("Tools: " + "; ".join(f"{k} {v}".strip() for k, v in versions.items()) + ".")
        lines.append("")
    for workload in workloads:
        rows = [s for s in summaries if s.workload.id == workload.id]
        if not rows:
            continue
        backend = environment.get("backends", {}).get(workload.backend, workload.backend)
        lines.append(f"### ({workload.id}) {workload.title}")
        lines.append("")
        lines.append(f"On {backend}.")
        lines.append("")
        model = workload.backend == "model"
        head = ["tool", "median s", "vs aws"]
        head += ["objects/s"] if workload.bulk else ["MB/s"]
        if model:
            head += ["lower bound s", "vs bound", "concurrency × part"]
        head += ["client CPU s", "requests"]
        if model:
            head += ["SlowDown", "model CPU s"]
        else:
            head += ["server CPU s"]
        head += ["peak RSS MiB", "runs ok"]
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "---|" * len(head))
        for s in rows:
            if s.wall is None:
                cells = [s.label, s.note or "no successful run"] + ["-"] * (len(head) - 3)
                cells.append(f"{s.ok}/{s.runs}")
                lines.append("| " + " | ".join(cells) + " |")
                continue
            cells = [
                s.label,
                f"{s.wall:.2f}",
                _f(s.vs_reference, ".2f") + ("×" if s.vs_reference else ""),
            ]
            cells += [_f(s.objects_per_second, ".0f")] if workload.bulk else [_f(s.mbps, ".0f")]
            if model:
                shape = "-"
                if s.concurrency:
                    shape = f"{s.concurrency}" + (
                        f" × {format_size(s.part_size)}" if s.part_size else " × object"
                    )
                cells += [_f(s.lower_bound, ".2f"), _f(s.vs_bound, ".2f"), shape]
            cells += [_f(s.cpu, ".2f"), _f(s.requests, ".0f")]
            if model:
                cells += [_f(s.slowdowns, ".0f"), _f(s.server_cpu, ".2f")]
            else:
                cells += [_f(s.server_cpu, ".2f")]
            cells += [_f(s.rss_mib, ".0f"), f"{s.ok}/{s.runs}" + (f" ({s.note})" if s.note else "")]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    lines += targets(summaries)
    return "\n".join(lines).rstrip() + "\n"


def _find(summaries: Sequence[Summary], workload: str, tool: str) -> Summary | None:
    return next((s for s in summaries if s.workload.id == workload and s.tool == tool), None)


def targets(summaries: Sequence[Summary]) -> list[str]:
    """The issue's targets, each with the measured figure (or why it is not measured)."""
    lines = ["### Targets (from the issue)", ""]

    def line(text: str, value: float | None, limit: float, smaller: bool, unit: str = "×") -> None:
        if value is None:
            lines.append(f"- {text}: not measured")
            return
        met = value <= limit if smaller else value >= limit
        lines.append(f"- {text}: {value:.2f}{unit} ({'met' if met else 'NOT met'})")

    def ratio(a: Summary | None, b: Summary | None) -> float | None:
        return a.wall / b.wall if a and b and a.wall and b.wall else None

    c_s3x, c_aws = _find(summaries, "c", "s3xcopy"), _find(summaries, "c", "aws")
    line("(c) s3xcopy time ÷ aws s3 cp time ≤ 0.2", ratio(c_s3x, c_aws), 0.2, True)
    line("(c) s3xcopy time ÷ model lower bound ≤ 1.3", c_s3x.vs_bound if c_s3x else None, 1.3,
         True)  # fmt: skip
    for w in ("b", "d"):
        s3x, aws = _find(summaries, w, "s3xcopy"), _find(summaries, w, "aws")
        value = None
        if s3x and aws and s3x.objects_per_second and aws.objects_per_second:
            value = s3x.objects_per_second / aws.objects_per_second
        line(f"({w}) s3xcopy objects/s ÷ aws s3 cp objects/s ≥ 3", value, 3.0, False)
        s5 = _find(summaries, w, "s5cmd")
        if s3x and s5 and s3x.objects_per_second and s5.objects_per_second:
            lines.append(
                f"- ({w}) s3xcopy objects/s ÷ s5cmd objects/s (aim: 1): "
                f"{s3x.objects_per_second / s5.objects_per_second:.2f}×"
            )
    e_s3x = _find(summaries, "e", "s3xcopy")
    rss = None
    if c_s3x and e_s3x and c_s3x.rss_mib and e_s3x.rss_mib:
        rss = c_s3x.rss_mib / e_s3x.rss_mib
    # RSS is sampled every 20 ms and moves by a MiB or two from run to run: "no higher"
    # is read with 5% of slack so noise alone never decides it.
    line("memory: s3xcopy peak RSS on (c) ÷ on (e), a 1 GiB copy ≤ 1 (5% slack)", rss, 1.05,
         True)  # fmt: skip
    lines.append("")
    return lines


def write_outputs(
    out_dir: Path,
    workloads: Sequence[Workload],
    records: Sequence[RunRecord],
    summaries: Sequence[Summary],
    environment: dict[str, Any],
) -> dict[str, Path]:
    """runs.csv / runs.json (every run), summary.csv, summary.md; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "runs_csv": out_dir / "runs.csv",
        "runs_json": out_dir / "runs.json",
        "summary_csv": out_dir / "summary.csv",
        "summary_md": out_dir / "summary.md",
    }
    fields = [f for f in RunRecord.__dataclass_fields__ if f != "by_operation"]
    with open(paths["runs_csv"], "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*fields, "cpu_seconds", "by_operation"])
        for r in records:
            row = [getattr(r, f) for f in fields]
            writer.writerow([*row, r.cpu_seconds, json.dumps(r.by_operation, sort_keys=True)])
    payload = {
        "environment": environment,
        "workloads": [asdict(w) for w in workloads],
        "runs": [{**asdict(r), "cpu_seconds": r.cpu_seconds} for r in records],
    }
    paths["runs_json"].write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    with open(paths["summary_csv"], "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["workload", "tool", "runs", "ok", "median_seconds", "vs_aws", "objects_per_second",
             "mbps", "lower_bound_seconds", "vs_bound", "concurrency", "part_size",
             "client_cpu_seconds", "requests", "slowdowns", "model_cpu_seconds", "peak_rss_mib",
             "note"]
        )  # fmt: skip
        for s in summaries:
            writer.writerow(
                [s.workload.id, s.tool, s.runs, s.ok, s.wall, s.vs_reference,
                 s.objects_per_second, s.mbps, s.lower_bound, s.vs_bound, s.concurrency,
                 s.part_size, s.cpu, s.requests, s.slowdowns, s.server_cpu, s.rss_mib, s.note]
            )  # fmt: skip
    paths["summary_md"].write_text(markdown(workloads, summaries, environment), encoding="utf-8")
    return paths
