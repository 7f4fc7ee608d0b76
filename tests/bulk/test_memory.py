"""Memory stays flat however many keys a run lists and copies.

Bound: listing and copying 200,000 objects keeps the process's peak RSS under
**96 MiB** (measured: about 50 MiB with Python 3.11, boto3 and the journal; an
interpreter with boto3 imported is about 45 MiB), and 200,000 objects cost at
most 8 MiB more than 20,000. The S3 side is ``benchmarks/bulk_memory.py``'s
synthetic client (listings made up page by page, no storage); the bulk machinery
(listing, filters, queues, workers, gate, journal, outcomes, summary) is real. The
default run stubs the per-object copy (a quarter of a millisecond of engine CPU
each, which does not touch memory) to stay quick; ``S3XCOPY_SLOW=1`` also runs the
real engine on 200,000 objects (about 80 s on two cores).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCHMARK = ROOT / "benchmarks" / "bulk_memory.py"
PEAK_BOUND_MIB = 96.0
GROWTH_BOUND_MIB = 8.0


def measure(objects: int, *extra: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), "--objects", str(objects), *extra],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["copied"] == objects
    assert result["failed"] == 0
    return result


def test_peak_memory_is_flat_for_200_000_objects() -> None:
    small = measure(20_000, "--engine", "stub", "--journal")
    large = measure(200_000, "--engine", "stub", "--journal")
    assert large["peak_rss_mib"] < PEAK_BOUND_MIB, large
    assert large["peak_rss_mib"] - small["peak_rss_mib"] < GROWTH_BOUND_MIB, (small, large)


@pytest.mark.skipif(not os.environ.get("S3XCOPY_SLOW"), reason="set S3XCOPY_SLOW=1 (about 80 s)")
def test_peak_memory_with_the_real_engine_for_200_000_objects() -> None:
    large = measure(200_000, "--engine", "real", "--journal")
    assert large["client_copies"] == 200_000
    assert large["peak_rss_mib"] < PEAK_BOUND_MIB, large
