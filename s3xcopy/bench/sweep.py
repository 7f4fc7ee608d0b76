"""Part-size sweeps: copy one source with every (part size, concurrency), report medians.

The copy itself is a pluggable function (``CopyFunction``) so the sweep, its table, CSV
and plot are tested without S3; ``engine_copy`` plugs in ``s3xcopy.copy_object`` and
counts the HTTP requests it sends. Every destination object the sweep creates is under
``<dest-prefix><run-id>/`` and is deleted after its sample; the sweep deletes nothing else.
"""

from __future__ import annotations

import contextlib
import csv
import secrets
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import AccessDeniedError, InvalidInputError, NotFoundError
from ..findings import Finding
from ..location import S3Location
from ..units import format_size
from .costs import MB, ModelParams, copy_lower_bound

if TYPE_CHECKING:
    from boto3.session import Session


@dataclass(frozen=True)
class CopyRequest:
    """One copy the sweep asks for."""

    source: str
    dest: str
    part_size: int
    concurrency: int


@dataclass(frozen=True)
class CopyOutcome:
    """What one copy did: the copy function's answer."""

    seconds: float
    size: int
    parts: int
    strategy: str
    #: HTTP requests sent (retries included), when the copy function can count them.
    requests: int | None = None


CopyFunction = Callable[[CopyRequest], CopyOutcome]
CleanupFunction = Callable[[str], None]


@dataclass(frozen=True)
class Sample:
    """One timed copy of the sweep (``error`` set when it failed)."""

    part_size: int
    concurrency: int
    repeat: int
    dest: str
    outcome: CopyOutcome | None = None
    error: str | None = None
    #: The copy was refused (AccessDenied); its findings say which grant is missing.
    denied: bool = False
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class Row:
    """The medians of one (part size, concurrency) cell."""

    part_size: int
    concurrency: int
    runs: int
    ok: int
    median_seconds: float | None
    min_seconds: float | None
    max_seconds: float | None
    size: int | None
    parts: int | None
    requests: float | None
    strategy: str | None
    #: The modelled S3's lower bound for this cell (only when asked for).
    lower_bound: float | None = None

    @property
    def throughput_mbps(self) -> float | None:
        """Median throughput in MB/s (10^6 bytes), as AWS quotes rates."""
        if not self.median_seconds or self.size is None:
            return None
        return self.size / self.median_seconds / MB


@dataclass
class SweepResult:
    source: str
    run_id: str
    samples: list[Sample] = field(default_factory=list)

    @property
    def failed(self) -> list[Sample]:
        return [s for s in self.samples if s.error is not None]

    @property
    def findings(self) -> tuple[Finding, ...]:
        """The distinct findings of the refused copies, in the order they came."""
        return tuple(dict.fromkeys(f for s in self.samples for f in s.findings))

    def rows(self, model: ModelParams | None = None) -> list[Row]:
        """One row per cell, in sweep order; with ``model``, each row's lower bound too."""
        cells: dict[tuple[int, int], list[Sample]] = {}
        for sample in self.samples:
            cells.setdefault((sample.part_size, sample.concurrency), []).append(sample)
        rows = []
        for (part_size, concurrency), samples in cells.items():
            good = [s.outcome for s in samples if s.outcome is not None]
            seconds = [o.seconds for o in good]
            counted = [o.requests for o in good if o.requests is not None]
            size = good[0].size if good else None
            bound = None
            if model is not None and size is not None:
                bound = copy_lower_bound(
                    size, part_size=part_size, concurrency=concurrency, params=model
                )
            rows.append(
                Row(
                    part_size=part_size,
                    concurrency=concurrency,
                    runs=len(samples),
                    ok=len(good),
                    median_seconds=statistics.median(seconds) if seconds else None,
                    min_seconds=min(seconds) if seconds else None,
                    max_seconds=max(seconds) if seconds else None,
                    size=size,
                    parts=good[0].parts if good else None,
                    requests=statistics.median(counted) if counted else None,
                    strategy=good[0].strategy if good else None,
                    lower_bound=bound,
                )
            )
        return rows


def new_run_id() -> str:
    """A run id that sorts by time and does not collide: ``bench-20240501-120000-1a2b``."""
    return time.strftime("bench-%Y%m%d-%H%M%S-", time.gmtime()) + secrets.token_hex(2)


def run_sweep(
    source: str,
    dest_prefix: str,
    *,
    part_sizes: Sequence[int],
    concurrencies: Sequence[int],
    repeat: int,
    copy: CopyFunction,
    cleanup: CleanupFunction,
    run_id: str | None = None,
    on_sample: Callable[[Sample, int, int], None] | None = None,
) -> SweepResult:
    """Copy ``source`` once per (repeat, part size, concurrency), cleaning up after each.

    Repetitions are the outer loop, so drift on the endpoint spreads over every cell
    instead of landing on one. ``on_sample(sample, done, total)`` reports progress
    (the CLI prints it; the library never does). A failed copy is a sample, except bad
    input (a missing source or bucket, an impossible setting): no cell could do better,
    so it is raised at once instead of being met again in every cell.
    """
    if repeat < 1:
        raise ValueError("repeat must be >= 1")
    if not dest_prefix.endswith("/"):
        dest_prefix += "/"
    result = SweepResult(source, run_id or new_run_id())
    grid = [(p, c) for p in part_sizes for c in concurrencies]
    total = len(grid) * repeat
    for rep in range(1, repeat + 1):
        for part_size, concurrency in grid:
            dest = f"{dest_prefix}{result.run_id}/p{part_size}-c{concurrency}-r{rep}"
            try:
                outcome = copy(CopyRequest(source, dest, part_size, concurrency))
                sample = Sample(part_size, concurrency, rep, dest, outcome=outcome)
            except (InvalidInputError, NotFoundError):
                raise
            except Exception as exc:  # a failed sample is data: the sweep goes on
                sample = Sample(
                    part_size, concurrency, rep, dest, error=_one_line(exc),
                    denied=isinstance(exc, AccessDeniedError),
                    findings=tuple(getattr(exc, "findings", ()) or ()),
                )  # fmt: skip
            finally:
                cleanup(dest)
            result.samples.append(sample)
            if on_sample is not None:
                on_sample(sample, len(result.samples), total)
    return result


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".strip()


# --- output --------------------------------------------------------------------------


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def format_table(rows: Iterable[Row], *, markdown: bool = False) -> str:
    """The sweep as a table: median seconds, throughput, parts, requests (and lower bound)."""
    rows = list(rows)
    with_bound = any(r.lower_bound is not None for r in rows)
    head = ["part size", "concurrency", "median s", "MB/s", "parts", "requests", "ok"]
    if with_bound:
        head += ["lower bound s", "x bound"]
    body = []
    for r in rows:
        line = [
            format_size(r.part_size),
            str(r.concurrency),
            _fmt(r.median_seconds, ".3f"),
            _fmt(r.throughput_mbps, ".1f"),
            "-" if r.parts is None else str(r.parts),
            _fmt(r.requests, ".0f"),
            f"{r.ok}/{r.runs}",
        ]
        if with_bound:
            ratio = (
                r.median_seconds / r.lower_bound
                if r.median_seconds is not None and r.lower_bound
                else None
            )
            line += [_fmt(r.lower_bound, ".3f"), _fmt(ratio, ".2f")]
        body.append(line)
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(cells) + " |" for cells in body]
        return "\n".join(lines)
    widths = [
        max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(head)
    ]
    out = ["  ".join(h.rjust(w) for h, w in zip(head, widths, strict=True))]
    out += ["  ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True)) for cells in body]
    return "\n".join(out)


CSV_FIELDS = (
    "part_size_bytes",
    "concurrency",
    "runs",
    "ok",
    "median_seconds",
    "min_seconds",
    "max_seconds",
    "throughput_mbps",
    "size_bytes",
    "parts",
    "requests",
    "strategy",
    "lower_bound_seconds",
)


def write_csv(rows: Iterable[Row], path: str) -> None:
    """The table as CSV (bytes and seconds, no units in the cells)."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_FIELDS)
        for r in rows:
            writer.writerow(
                [
                    r.part_size,
                    r.concurrency,
                    r.runs,
                    r.ok,
                    _csv(r.median_seconds),
                    _csv(r.min_seconds),
                    _csv(r.max_seconds),
                    _csv(r.throughput_mbps),
                    "" if r.size is None else r.size,
                    "" if r.parts is None else r.parts,
                    _csv(r.requests),
                    r.strategy or "",
                    _csv(r.lower_bound),
                ]
            )


def _csv(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


class PlotUnavailableError(RuntimeError):
    """matplotlib is not installed (it is the optional ``plot`` extra)."""


def plotting_available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def plot(rows: Iterable[Row], path: str, *, title: str = "") -> None:
    """Throughput against part size, one line per concurrency, as a PNG at ``path``."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise PlotUnavailableError(
            "plotting needs matplotlib: pip install 's3xcopy[plot]'"
        ) from exc
    rows = [r for r in rows if r.throughput_mbps is not None]
    figure, axes = plt.subplots(figsize=(7, 4.5))
    for concurrency in sorted({r.concurrency for r in rows}):
        line = sorted((r for r in rows if r.concurrency == concurrency), key=lambda r: r.part_size)
        axes.plot(
            [r.part_size / 2**20 for r in line],
            [r.throughput_mbps or 0.0 for r in line],
            marker="o",
            label=f"concurrency {concurrency}",
        )
    axes.set_xscale("log", base=2)
    ticks = sorted({r.part_size for r in rows})
    axes.set_xticks([t / 2**20 for t in ticks], [format_size(t) for t in ticks])
    axes.minorticks_off()
    axes.set_xlabel("part size (MiB)")
    axes.set_ylabel("throughput (MB/s, median)")
    axes.set_title(title or "s3xcopy bench: throughput by part size")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


# --- the real copy: s3xcopy's engine ------------------------------------------------


def engine_copy(session: Session, *, endpoint_url: str | None = None) -> CopyFunction:
    """A copy function that runs ``s3xcopy.copy_object`` with the sweep's part size and concurrency.

    Requests are counted with a ``before-send`` hook on ``session`` (every HTTP attempt,
    retries included), so the count holds on any endpoint, real AWS too.
    """
    from ..api import copy_object
    from ..config import CopyConfig

    sent = [0]

    def count(**_: Any) -> None:
        sent[0] += 1

    session.events.register("before-send.s3", count)

    def copy(request: CopyRequest) -> CopyOutcome:
        # No fallback and no stream: a refused multipart path must fail the cell (with its
        # findings), not time one CopyObject, or a stream, under the cell's part size.
        config = CopyConfig(
            part_size=request.part_size,
            max_concurrency=request.concurrency,
            multipart_threshold=request.part_size,
            fallback=False,
            stream="never",
        )
        before = sent[0]
        started = time.perf_counter()
        result = copy_object(
            request.source, request.dest, config=config, session=session, endpoint_url=endpoint_url
        )
        seconds = time.perf_counter() - started
        return CopyOutcome(
            seconds=seconds,
            size=int(result.size),
            parts=int(result.parts),
            strategy=str(result.strategy),
            requests=sent[0] - before,
        )

    return copy


def delete_object(session: Session, *, endpoint_url: str | None = None) -> CleanupFunction:
    """A clean-up function that deletes one destination object (missing is fine)."""
    client = session.client("s3", endpoint_url=endpoint_url)

    def cleanup(dest: str) -> None:
        where = S3Location.parse(dest)
        with contextlib.suppress(Exception):  # best effort: the run goes on
            client.delete_object(Bucket=where.bucket, Key=where.key)

    return cleanup
