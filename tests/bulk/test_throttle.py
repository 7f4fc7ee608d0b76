"""The adaptive gate: AIMD arithmetic on a fake clock, the shared budget, FIFO, scopes, cancel."""

from __future__ import annotations

import threading
import time

import pytest

from s3xcopy import CopyInterruptedError
from s3xcopy.throttle import AdaptiveGate, AimdRate, prefix_scope


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def send_at(rate: AimdRate, now: float, count: int, spacing: float) -> list[int]:
    tickets = []
    for n in range(count):
        tickets.append(rate.on_send(now + n * spacing))
    return tickets


def test_send_times_are_kept_for_the_window_only() -> None:
    """Memory stays flat: a long run without throttling does not pile up timestamps."""
    rate = AimdRate(window=1.0)
    for n in range(100_000):
        rate.on_send(n * 0.001)
    assert len(rate._sends) <= 1001
    assert rate.measured(100.0) == pytest.approx(1000, rel=0.01)


def test_unlimited_until_the_first_throttle() -> None:
    rate = AimdRate()
    assert rate.rate is None
    assert all(rate.try_take(float(t)) == 0.0 for t in range(1000))


def test_throttle_halves_the_measured_rate_and_the_bucket_enforces_it() -> None:
    rate = AimdRate()
    tickets = send_at(rate, 0.0, 200, 0.005)  # 200 requests/second for one second
    assert rate.measured(0.999) == pytest.approx(200, rel=0.05)
    assert rate.on_throttle(1.0, tickets[-1])
    assert rate.rate == pytest.approx(100, rel=0.05)
    # The token bucket now allows about 100/s: over 2 s, about 200 sends (plus the burst).
    now, sent = 1.0, 0
    while now < 3.0:
        wait = rate.try_take(now)
        if wait == 0:
            sent += 1
            rate.on_send(now)
        else:
            now += wait
    assert 195 <= sent <= 215


def test_one_cut_per_round_of_requests() -> None:
    """Throttled answers to requests sent before the cut do not cut again."""
    rate = AimdRate()
    tickets = send_at(rate, 0.0, 100, 0.01)
    assert rate.on_throttle(1.0, tickets[50])
    first = rate.rate
    for ticket in tickets[51:]:  # the rest of the burst, sent before the cut
        assert not rate.on_throttle(1.0, ticket)
    assert rate.rate == first
    later = rate.on_send(1.1)  # sent after the cut, but answered within a round trip
    assert not rate.on_throttle(1.2, later)
    later = rate.on_send(1.5)  # sent after the cut and answered later: it counts
    assert rate.on_throttle(1.6, later)
    assert rate.rate is not None
    assert first is not None
    assert rate.rate < first
    assert (rate.decreases, rate.throttles) == (2, 52)


def test_additive_recovery_after_a_cut() -> None:
    rate = AimdRate(recovery=0.1)
    tickets = send_at(rate, 0.0, 100, 0.01)  # 100/s
    rate.on_throttle(1.0, tickets[-1])
    assert rate.rate == pytest.approx(50, rel=0.05)
    # Keep sending at the allowed rate; successes add 10% of the throttled rate per second.
    now = 1.0
    for _ in range(300):
        now += 0.01
        rate.on_send(now)
        rate.on_success(now)
    assert rate.rate == pytest.approx(50 + 3 * 10, rel=0.1)


def test_recovery_aims_at_the_rate_first_throttled_not_the_last_cut() -> None:
    """Cut twice (100 -> 50 -> 25): recovery still adds 25% of 100 per second."""
    rate = AimdRate()
    tickets = send_at(rate, 0.0, 100, 0.01)
    rate.on_throttle(1.0, tickets[-1])
    rate.on_throttle(1.5, rate.on_send(1.4))
    assert rate.rate == pytest.approx(25, rel=0.05)
    now = 1.5
    for _ in range(100):
        now += 0.01
        rate.on_send(now)
        rate.on_success(now)
    assert rate.rate == pytest.approx(25 + 25, rel=0.1)


def test_rate_never_falls_below_the_floor() -> None:
    rate = AimdRate(min_rate=2.0)
    now = 0.0
    for _ in range(30):
        now += 1.0
        rate.on_throttle(now, rate.on_send(now))
    assert rate.rate == 2.0


def test_recovery_does_not_run_ahead_of_real_use() -> None:
    rate = AimdRate()
    tickets = send_at(rate, 0.0, 100, 0.01)
    rate.on_throttle(1.0, tickets[-1])
    rate.on_success(1000.0)  # a long idle gap, then one success
    assert rate.rate is not None
    assert rate.rate <= 50.0 + 1e-9


@pytest.mark.parametrize(
    ("operation", "bucket", "key", "scope"),
    [
        ("CopyObject", "dst", "logs/2024/a", ("dst", "logs/", "write")),
        ("UploadPartCopy", "dst", "big.bin", ("dst", "", "write")),
        ("HeadObject", "src", "logs/a", ("src", "logs/", "read")),
        ("ListObjectsV2", "src", "", ("src", "", "read")),
    ],
)
def test_prefix_scope(operation: str, bucket: str, key: str, scope: tuple[str, str, str]) -> None:
    assert prefix_scope(operation, bucket, key) == scope


def test_gate_cuts_only_the_throttled_scope() -> None:
    clock = FakeClock()
    gate = AdaptiveGate(4, clock=clock)
    for _ in range(20):
        gate.acquire("CopyObject", "dst", "hot/k")
        gate.release("CopyObject", "dst", "hot/k", throttled=False)
        gate.acquire("CopyObject", "dst", "cold/k")
        gate.release("CopyObject", "dst", "cold/k", throttled=False)
        clock.now += 0.01
    gate.acquire("CopyObject", "dst", "hot/k")
    gate.release("CopyObject", "dst", "hot/k", throttled=True)
    assert gate.rate_of(("dst", "hot/", "write")) is not None
    assert gate.rate_of(("dst", "cold/", "write")) is None
    assert gate.rate_of(("dst", "hot/", "read")) is None
    stats = gate.stats()
    assert (stats.throttled, stats.decreases) == (1, 1)
    assert stats.lowest_rate is not None
    assert stats.rate_before_first_cut is not None
    assert stats.lowest_rate < stats.rate_before_first_cut
    assert stats.changes[-1].reason == "throttled"


def test_gate_bounds_requests_in_flight_across_threads() -> None:
    gate = AdaptiveGate(3)
    peak, current, lock = [0], [0], threading.Lock()
    started = threading.Barrier(12)

    def request(n: int) -> None:
        started.wait(timeout=10)
        for _ in range(20):
            gate.acquire("HeadObject", "b", f"k{n}")
            with lock:
                current[0] += 1
                peak[0] = max(peak[0], current[0])
            time.sleep(0.0005)
            with lock:
                current[0] -= 1
            gate.release("HeadObject", "b", f"k{n}", throttled=False)

    threads = [threading.Thread(target=request, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert peak[0] == 3
    assert gate.stats().max_in_flight == 3
    assert gate.in_flight == 0
    assert gate.stats().requests == 240


def test_gate_serves_waiters_first_come_first_served() -> None:
    """No barging: a waiter queued earlier gets the next free slot (so nobody starves)."""
    gate = AdaptiveGate(1)
    gate.acquire("CopyObject", "b", "holder")
    order: list[int] = []
    threads = []
    for n in range(5):
        thread = threading.Thread(target=_take_and_note, args=(gate, n, order))
        thread.start()
        threads.append(thread)
        _wait_until(lambda n=n: gate.waiting == n + 1)  # queued in this order
    gate.release("CopyObject", "b", "holder", throttled=False)
    for thread in threads:
        thread.join(timeout=10)
    assert order == [0, 1, 2, 3, 4]


def _take_and_note(gate: AdaptiveGate, n: int, order: list[int]) -> None:
    gate.acquire("CopyObject", "b", f"k{n}")
    order.append(n)
    gate.release("CopyObject", "b", f"k{n}", throttled=False)


def _wait_until(condition: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_cancel_releases_waiters_with_an_interruption() -> None:
    cancel = threading.Event()
    gate = AdaptiveGate(1, cancel=cancel)
    gate.acquire("CopyObject", "b", "holder")
    errors: list[BaseException] = []

    def wait() -> None:
        try:
            gate.acquire("CopyObject", "b", "k")
        except CopyInterruptedError as exc:
            errors.append(exc)

    thread = threading.Thread(target=wait)
    thread.start()
    _wait_until(lambda: gate.waiting == 1)
    cancel.set()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert len(errors) == 1
    assert gate.waiting == 0
    # The abandoned turn does not block later requests once the holder is done.
    cancel.clear()
    gate.release("CopyObject", "b", "holder", throttled=False)
    assert gate.in_flight == 0
    gate.acquire("CopyObject", "b", "next")
    gate.release("CopyObject", "b", "next", throttled=False)
    assert gate.in_flight == 0
