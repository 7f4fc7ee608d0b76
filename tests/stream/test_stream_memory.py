"""The memory claim, small: a streamed copy's peak RSS grows by its buffers, not the object.

The benchmark (``benchmarks/stream_memory.py``) measures 1 GiB with 16 MiB parts x 8;
here the same child process copies 64 MiB with 5 MiB parts x 2, so holding the whole
object (64 MiB), or even a few parts more than allowed, would break the bound.
"""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path
from typing import Any

import pytest

from s3xcopy.limits import MiB
from s3xcopy.seaweed import SeaweedServer

pytestmark = pytest.mark.seaweed

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "stream_memory.py"
SIZE, PART, CONCURRENCY = 64 * MiB, 5 * MiB, 2
#: What the process may add beyond its buffers: response chunks, sockets, thread stacks.
SLACK = 32 * MiB


def load_benchmark() -> Any:
    spec = importlib.util.spec_from_file_location("stream_memory", BENCHMARK)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("stream_memory", module)
    spec.loader.exec_module(module)
    return module


def test_peak_rss_grows_by_the_part_buffers_not_the_object(
    seaweed: SeaweedServer,
    source_seaweed: SeaweedServer,
    source_s3: Any,
    s3: Any,
    make_source_bucket: Any,
    make_bucket: Any,
) -> None:
    bench = load_benchmark()
    src, dst = make_source_bucket("memsrc"), make_bucket("memdst")
    data = random.Random(64).randbytes(SIZE)
    source_s3.put_object(Bucket=src, Key="big", Body=data, ChecksumAlgorithm="CRC64NVME")
    del data
    source_s3.put_object(Bucket=src, Key=bench.WARM_UP, Body=b"w" * 1024)
    record = bench.verdict(
        bench.run_child(
            source_seaweed.endpoint_url,
            seaweed.endpoint_url,
            PART,
            CONCURRENCY,
            source_bucket=src,
            bucket=dst,
            key="big",
        )
    )
    assert record["strategy"] == "stream"
    assert record["parts"] == 13
    assert record["within_budget"], record
    assert record["growth"] < PART * CONCURRENCY + SLACK, record
    assert s3.head_object(Bucket=dst, Key="big")["ContentLength"] == SIZE
