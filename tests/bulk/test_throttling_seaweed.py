"""A SlowDown storm on the real server: the run slows down, finishes, and nothing fails.

The proxy plays a hot S3 prefix (tests/bulk/faultproxy.py CapacityStorm): after a
warm-up it admits writes at 30% of the rate the client reached and answers
SlowDown to the rest for three seconds; without adapting, most writes would be
refused (retry storm, and failures once eight attempts are spent).
"""

from __future__ import annotations

from typing import Any

import pytest

from s3xcopy import CopyConfig, copy_prefix
from s3xcopy.seaweed import SeaweedServer

from .conftest import fast_client, list_keys, put_objects
from .faultproxy import CapacityStorm, FaultProxy

pytestmark = pytest.mark.seaweed

OBJECTS = 400
STORM_SECONDS = 3.0


def test_slowdown_storm_finishes_with_no_failure_and_a_lower_rate(
    seaweed: SeaweedServer, proxy: FaultProxy, seaweed_session: Any
) -> None:
    client = fast_client(seaweed)
    source, dest = "storm-src", "storm-dst"
    client.create_bucket(Bucket=source)
    client.create_bucket(Bucket=dest)
    put_objects(client, source, [(f"in/{n:04d}.txt", b"x" * (n % 97), {}) for n in range(OBJECTS)])
    storm = CapacityStorm(after=150, duration=STORM_SECONDS, fraction=0.3)
    proxy.throttle = storm

    run = copy_prefix(
        f"s3://{source}/in/",
        f"s3://{dest}/out/",
        CopyConfig(max_concurrency=8),
        seaweed_session,
        endpoint_url=proxy.endpoint_url,
    )
    failed = [o for o in run if o.status == "failed"]
    summary = run.summary

    # The storm happened: many writes were refused ...
    assert storm.started is not None
    refused = sum(throttled for _, throttled in storm.writes)
    assert refused >= 8
    # ... and yet every object arrived.
    assert failed == []
    assert (summary.objects, summary.failed) == (OBJECTS, 0)
    assert len(list_keys(client, dest, "out/")) == OBJECTS

    # The gate saw each refusal and cut the rate well below where it was.
    assert summary.throttled == refused
    assert summary.rate_before_throttling is not None
    assert summary.lowest_rate is not None
    assert summary.lowest_rate <= summary.rate_before_throttling / 2

    # What the server saw: the write rate fell, and refusals faded as the client adapted.
    start = storm.started
    before, _ = storm.window(start - 1.0, start)
    early, early_refused = storm.window(start, start + 0.5)
    late, late_refused = storm.window(start + STORM_SECONDS / 2, start + STORM_SECONDS)
    late_rate = late / (STORM_SECONDS / 2)
    assert late_rate < 0.6 * storm.baseline, (storm.baseline, late_rate)
    assert late_refused / max(late, 1) < early_refused / max(early, 1), (
        early, early_refused, late, late_refused,
    )  # fmt: skip
    # No retry storm: while throttled, attempts stayed near what the server admits.
    assert late <= 2 * storm.capacity * (STORM_SECONDS / 2) + 10, (late, storm.capacity)
    assert before > 0
