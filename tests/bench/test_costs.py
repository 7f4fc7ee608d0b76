"""The model's arithmetic as tables: part lists, scheduling, rate floors, lower bounds."""

from __future__ import annotations

import pytest

from s3xcopy.bench.costs import (
    MB,
    ModelParams,
    bulk_copy_lower_bound,
    copy_lower_bound,
    makespan,
    part_sizes,
    rate_floor,
)
from s3xcopy.bench.throttle import PrefixThrottle, key_prefix
from s3xcopy.limits import GiB, MiB

#: Round numbers: 10 ms a request, 100 MB/s a copy, no throttling.
P = ModelParams(latency_ms=10, copy_rate_mbps=100, write_rps=0, read_rps=0)


@pytest.mark.parametrize(
    ("size", "part", "expected"),
    [
        (0, 8, [0]),
        (8, 8, [8]),
        (9, 8, [8, 1]),
        (24, 8, [8, 8, 8]),
        (12 * MiB, 5 * MiB, [5 * MiB, 5 * MiB, 2 * MiB]),
    ],
)
def test_part_sizes(size: int, part: int, expected: list[int]) -> None:
    assert part_sizes(size, part) == expected


@pytest.mark.parametrize(
    ("durations", "workers", "expected"),
    [
        ([], 4, 0.0),
        ([1.0] * 10, 10, 1.0),
        ([1.0] * 11, 10, 2.0),
        ([1.0, 1.0, 0.5], 2, 1.5),
        ([3.0, 1.0, 1.0, 1.0], 2, 3.0),  # in order, each to the first free worker
    ],
)
def test_makespan(durations: list[float], workers: int, expected: float) -> None:
    assert makespan(durations, workers) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("requests", "rps", "burst", "expected"),
    [(100, 0, 1, 0.0), (3500, 3500, 1, 0.0), (7000, 3500, 1, 1.0), (10, 1, 2, 8.0)],
)
def test_rate_floor(requests: int, rps: float, burst: float, expected: float) -> None:
    assert rate_floor(requests, rps, burst) == pytest.approx(expected)


def test_single_copy_bound_is_head_plus_one_copy() -> None:
    # HeadObject (10 ms) + CopyObject (10 ms + 100 MB at 100 MB/s).
    assert copy_lower_bound(100 * MB, part_size=None, concurrency=1, params=P) == pytest.approx(
        1.02
    )
    with pytest.raises(ValueError, match="5 GiB"):
        copy_lower_bound(6 * GiB, part_size=None, concurrency=1, params=P)


@pytest.mark.parametrize(
    ("concurrency", "expected"),
    [
        # 10 parts of 100 MB, each 1.01 s; plus head, create and complete at 10 ms each.
        (1, 0.03 + 10 * 1.01),
        (5, 0.03 + 2 * 1.01),
        (10, 0.03 + 1.01),
        (64, 0.03 + 1.01),
    ],
)
def test_multipart_bound_by_concurrency(concurrency: int, expected: float) -> None:
    bound = copy_lower_bound(1000 * MB, part_size=100 * MB, concurrency=concurrency, params=P)
    assert bound == pytest.approx(expected)


def test_multipart_bound_respects_the_prefix_write_rate() -> None:
    throttled = ModelParams(latency_ms=0, copy_rate_mbps=1e9, write_rps=100, burst_seconds=1)
    # 10,000 parts + create + complete at 100/s after a 100-request burst.
    bound = copy_lower_bound(10_000 * MiB, part_size=MiB, concurrency=1000, params=throttled)
    assert bound == pytest.approx((10_002 - 100) / 100, rel=1e-3)


def test_bulk_bound() -> None:
    # 2,000 copies of 1 MB, 10 at a time: 200 waves of 20 ms, after the first list page.
    assert bulk_copy_lower_bound(2000, MB, concurrency=10, params=P) == pytest.approx(
        0.01 + 200 * 0.02
    )


def test_defaults_are_the_published_figures() -> None:
    d = ModelParams()
    assert (d.write_rps, d.read_rps) == (3500, 5500)
    assert d.latency_ms == 20
    assert d.copy_rate == 90 * MB
    assert (d.min_part_size, d.max_part_size, d.max_parts) == (5 * MiB, 5 * GiB, 10_000)


@pytest.mark.parametrize(
    "bad",
    [{"latency_ms": -1}, {"copy_rate_mbps": 0}, {"write_rps": -1}, {"min_part_size": 0}],
)
def test_params_are_validated(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each field has its own message
        ModelParams(**bad)  # type: ignore[arg-type]


def test_token_bucket_with_a_fake_clock() -> None:
    now = [0.0]
    throttle = PrefixThrottle(rate=2, burst_seconds=1, clock=lambda: now[0])
    assert [throttle.allow("b/p/") for _ in range(3)] == [True, True, False]
    assert throttle.allow("b/other/")  # its own bucket
    now[0] = 0.5  # one token back
    assert [throttle.allow("b/p/") for _ in range(2)] == [True, False]
    now[0] = 10.0  # never more than the burst
    assert [throttle.allow("b/p/") for _ in range(3)] == [True, True, False]
    throttle.reset()
    assert throttle.allow("b/p/")


@pytest.mark.parametrize(
    ("key", "prefix"),
    [("k", "b/"), ("a/k", "b/a/"), ("a/b/c", "b/a/b/"), ("a/", "b/a/")],
)
def test_key_prefix(key: str, prefix: str) -> None:
    assert key_prefix("b", key) == prefix
