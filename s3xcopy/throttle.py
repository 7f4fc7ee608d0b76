"""The adaptive request gate: one budget of requests in flight, and an AIMD rate per prefix.

Every HTTP attempt of every request of a bulk run (listings, HeadObject, CopyObject,
each UploadPartCopy, deletes) passes :class:`AdaptiveGate`, so thousands of small
objects and a few huge ones share one budget instead of multiplying it. Slots are
handed out first come, first served, so neither kind starves the other.

S3 throttles per prefix (about 3,500 writes and 5,500 reads per second each), so the
rate is kept per *scope*: bucket, leading key segment, read or write. A scope sends
as fast as it can until S3 answers SlowDown; then its rate is halved
(multiplicative decrease, at most once per round trip, so a burst of throttled
answers to requests sent at the old rate cuts it once, not twenty times) and
grows back linearly while requests succeed (additive increase, a quarter of the
rate S3 first refused per second). Retries pass the
gate again, so backoff plus the lowered rate make a retry storm impossible.
botocore's "adaptive" retry mode is the model (measured send rate, token bucket);
ours is AIMD and per prefix rather than per client.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from .errors import CopyInterruptedError

#: A scope of rate limiting: bucket, leading key segment ("logs/" or ""), read or write.
Scope = tuple[str, str, Literal["read", "write"]]
ScopeFunction = Callable[[str, str, str], Scope]
Clock = Callable[[], float]

#: S3 APIs that count against a prefix's read rate (the others are writes).
READ_OPERATIONS = frozenset(
    {
        "GetObject",
        "GetObjectAttributes",
        "GetObjectTagging",
        "HeadBucket",
        "HeadObject",
        "ListMultipartUploads",
        "ListObjectsV2",
        "ListParts",
    }
)

#: Multiplicative decrease: the rate after a throttle, as a fraction of the rate before.
DECREASE = 0.5
#: Additive increase: per second of successes, this fraction of the rate at which S3 first
#: throttled (so the way back to that rate takes about 1 / RECOVERY * DECREASE seconds).
RECOVERY = 0.25
#: At most one cut per this many seconds: answers to requests sent just after a cut still
#: reflect the burst before it (about one round trip of a copy request).
COOLDOWN = 0.25
#: The rate never drops below this many requests per second.
MIN_RATE = 2.0
#: The send rate is measured over this many trailing seconds.
RATE_WINDOW = 1.0
#: Token bucket depth, in seconds' worth of the rate: small, so a cut takes effect at once.
BURST_SECONDS = 0.1
#: How often a waiting request wakes to notice a cancel.
WAKE_SECONDS = 0.2


def prefix_scope(operation: str, bucket: str, key: str) -> Scope:
    """The scope of a request: its bucket, the key up to the first "/", read or write."""
    head, slash, _ = key.partition("/")
    kind: Literal["read", "write"] = "read" if operation in READ_OPERATIONS else "write"
    return bucket, head + slash if slash else "", kind


@dataclass(frozen=True)
class RateChange:
    """The gate changed a scope's rate (``rate`` requests/second) at ``at`` (clock seconds)."""

    at: float
    scope: Scope
    rate: float
    reason: Literal["throttled", "recovered"]


class AimdRate:
    """The send rate of one scope: unlimited until throttled, then AIMD with a token bucket.

    Pure bookkeeping: every method takes ``now``, so tests drive it with a fake clock.
    Not thread-safe on its own; :class:`AdaptiveGate` holds its lock around calls.
    """

    def __init__(
        self,
        *,
        decrease: float = DECREASE,
        recovery: float = RECOVERY,
        min_rate: float = MIN_RATE,
        window: float = RATE_WINDOW,
        burst_seconds: float = BURST_SECONDS,
        cooldown: float = COOLDOWN,
    ) -> None:
        if not 0 < decrease < 1:
            raise ValueError("decrease must be between 0 and 1")
        self.decrease = decrease
        self.recovery = recovery
        self.cooldown = cooldown
        self.min_rate = min_rate
        self.window = window
        self.burst_seconds = burst_seconds
        #: Requests per second allowed; None while this scope has never been throttled.
        self.rate: float | None = None
        self.sent = 0
        self.throttles = 0
        self.decreases = 0
        self._sends: collections.deque[float] = collections.deque()
        self._first_send: float | None = None
        self._tokens = 0.0
        self._refilled = 0.0
        self._updated = 0.0
        self._decrease_mark = 0
        self._last_cut = float("-inf")
        #: The rate at which S3 first throttled in this episode: recovery aims back at it.
        self._peak = 0.0

    # --- measuring ----------------------------------------------------------------------

    def measured(self, now: float) -> float:
        """Requests sent per second over the trailing window."""
        while self._sends and self._sends[0] <= now - self.window:
            self._sends.popleft()
        if self._first_send is None:
            return 0.0
        span = min(self.window, max(now - self._first_send, self.window / 20))
        return len(self._sends) / span

    def on_send(self, now: float) -> int:
        """Count a request being sent; return its ticket (how many were sent before it)."""
        ticket = self.sent
        self.sent += 1
        if self._first_send is None:
            self._first_send = now
        self._sends.append(now)
        while self._sends[0] <= now - self.window:  # keep only the window: memory stays flat
            self._sends.popleft()
        return ticket

    # --- the token bucket ---------------------------------------------------------------

    def try_take(self, now: float) -> float:
        """Take a token and return 0, or return how many seconds to wait for one."""
        if self.rate is None:
            return 0.0
        capacity = max(1.0, self.rate * self.burst_seconds)
        self._tokens = min(capacity, self._tokens + (now - self._refilled) * self.rate)
        self._refilled = now
        if self._tokens >= 1.0 - 1e-9:  # tolerate float error, or a wait could round to 0
            self._tokens = max(0.0, self._tokens - 1.0)
            return 0.0
        return (1.0 - self._tokens) / self.rate

    # --- AIMD ---------------------------------------------------------------------------

    def on_throttle(self, now: float, ticket: int) -> bool:
        """S3 throttled the request with ``ticket``; cut the rate unless already cut for it.

        A request sent before the last cut, or answered within a round trip of it, says
        nothing yet about the new rate, so it does not cut again (one decrease per
        round, as TCP's congestion control does).
        """
        self.throttles += 1
        if self.rate is not None and (
            ticket < self._decrease_mark or now - self._last_cut < self.cooldown
        ):
            return False
        measured = self.measured(now)
        base = measured if self.rate is None else min(self.rate, measured or self.rate)
        base = max(base, self.min_rate)
        if self.rate is None or self.rate >= self._peak:
            self._peak = base  # a new episode: throttled at this rate
        self.rate = max(self.min_rate, base * self.decrease)
        self._tokens = min(self._tokens, 1.0)
        self._refilled = now
        self._updated = now
        self._last_cut = now
        self._decrease_mark = self.sent
        self.decreases += 1
        return True

    def on_success(self, now: float) -> bool:
        """A request succeeded: grow the rate linearly with time; True when it changed."""
        if self.rate is None:
            return False
        elapsed = now - self._updated
        self._updated = now
        if elapsed <= 0:
            return False
        step = max(1.0, self.recovery * self._peak) * elapsed
        # Never run far ahead of what is really sent, or an idle scope would build
        # a rate it never tested (botocore caps at twice the measured rate too).
        ceiling = max(self.min_rate, 2 * self.measured(now), self.rate)
        new = min(self.rate + step, ceiling)
        changed = new != self.rate
        self.rate = new
        return changed


@dataclass(frozen=True)
class GateStats:
    """What the gate saw: throttled answers, rate cuts, the lowest rate set, the peak load."""

    requests: int
    throttled: int
    decreases: int
    #: The lowest rate (requests/second) any scope was cut to; None when never throttled.
    lowest_rate: float | None
    #: The highest send rate measured in a scope just before it was cut.
    rate_before_first_cut: float | None
    max_in_flight: int
    changes: tuple[RateChange, ...]


class AdaptiveGate:
    """A :class:`~s3xcopy.calls.RequestGate`: at most ``max_in_flight`` requests, AIMD rates.

    ``acquire`` first waits for its scope's rate token, then for a slot (first come,
    first served); a set ``cancel`` event makes waiting requests raise
    :class:`~s3xcopy.errors.CopyInterruptedError`. ``listener`` hears each rate change.
    """

    def __init__(
        self,
        max_in_flight: int,
        *,
        scope: ScopeFunction = prefix_scope,
        clock: Clock = time.monotonic,
        cancel: threading.Event | None = None,
        listener: Callable[[RateChange], None] | None = None,
        rate_factory: Callable[[], AimdRate] = AimdRate,
        history: int = 512,
    ) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self.max_in_flight = max_in_flight
        self.scope = scope
        self.clock = clock
        self.cancel = cancel or threading.Event()
        self.listener = listener
        self._rate_factory = rate_factory
        self._lock = threading.Lock()
        self._rates: dict[Scope, AimdRate] = {}
        self._in_flight = 0
        self._max_seen = 0
        #: Requests waiting for a slot, first come first served; a release hands its
        #: slot straight to the head (no stampede of waiters, no barging).
        self._waiting: collections.deque[threading.Event] = collections.deque()
        self._requests = 0
        self._lowest: float | None = None
        self._first_cut_from: float | None = None
        self._changes: collections.deque[RateChange] = collections.deque(maxlen=history)
        self._local = threading.local()

    # --- RequestGate --------------------------------------------------------------------

    def acquire(self, operation: str, bucket: str, key: str) -> None:
        """Wait for this scope's rate, then for a slot in the shared budget."""
        scope = self.scope(operation, bucket, key)
        while True:
            self._check_cancel()
            with self._lock:
                rate = self._rates.get(scope)
                if rate is None:
                    rate = self._rates[scope] = self._rate_factory()
                now = self.clock()
                delay = rate.try_take(now)
                if delay <= 0:
                    if self._in_flight < self.max_in_flight and not self._waiting:
                        # A free slot: take it and count the send under the same lock hold
                        # (one lock round per request; contention costs CPU under the GIL).
                        self._in_flight += 1
                        self._sent(scope, rate, now)
                        return
                    turn = threading.Event()
                    self._waiting.append(turn)
                    break
            self.cancel.wait(min(delay, WAKE_SECONDS))
        self._wait_turn(turn)
        with self._lock:
            self._sent(scope, rate, self.clock())

    def _sent(self, scope: Scope, rate: AimdRate, now: float) -> None:
        """Count a request that got its slot (lock held)."""
        self._requests += 1
        self._max_seen = max(self._max_seen, self._in_flight)
        self._local.sent = (scope, rate.on_send(now))

    def release(self, operation: str, bucket: str, key: str, *, throttled: bool) -> None:
        """Give the slot back; a throttled answer cuts the scope's rate, a success grows it."""
        scope = self.scope(operation, bucket, key)
        sent = getattr(self._local, "sent", None)
        self._local.sent = None
        with self._lock:
            self._free_slot()
            rate = self._rates.get(scope)
            if rate is not None:
                now = self.clock()
                ticket = sent[1] if sent is not None and sent[0] == scope else rate.sent
                if throttled:
                    before = rate.measured(now) if rate.rate is None else rate.rate
                    if rate.on_throttle(now, ticket):
                        assert rate.rate is not None
                        if self._first_cut_from is None:
                            self._first_cut_from = before
                        self._lowest = (
                            rate.rate if self._lowest is None else min(self._lowest, rate.rate)
                        )
                        self._changed(RateChange(now, scope, rate.rate, "throttled"))
                elif rate.on_success(now) and rate.rate is not None:
                    self._changed(RateChange(now, scope, rate.rate, "recovered"), quiet=True)

    # --- inspection ---------------------------------------------------------------------

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    @property
    def waiting(self) -> int:
        """Requests waiting for a slot."""
        with self._lock:
            return len(self._waiting)

    def rate_of(self, scope: Scope) -> float | None:
        """The current rate limit of ``scope`` (None: not limited)."""
        with self._lock:
            rate = self._rates.get(scope)
            return rate.rate if rate is not None else None

    def stats(self) -> GateStats:
        with self._lock:
            return GateStats(
                requests=self._requests,
                throttled=sum(r.throttles for r in self._rates.values()),
                decreases=sum(r.decreases for r in self._rates.values()),
                lowest_rate=self._lowest,
                rate_before_first_cut=self._first_cut_from,
                max_in_flight=self._max_seen,
                changes=tuple(self._changes),
            )

    # --- internals ----------------------------------------------------------------------

    def _check_cancel(self) -> None:
        if self.cancel.is_set():
            raise CopyInterruptedError("interrupted while waiting to send a request")

    def _wait_turn(self, turn: threading.Event) -> None:
        """Wait until a release hands this request a slot (or the run is cancelled)."""
        while not turn.wait(WAKE_SECONDS):
            if self.cancel.is_set():
                with self._lock:
                    if turn.is_set():
                        self._free_slot()  # handed over just now: pass it on
                    else:
                        self._waiting.remove(turn)
                raise CopyInterruptedError("interrupted while waiting to send a request")

    def _free_slot(self) -> None:
        """A slot is free: hand it to the first waiter, or return it (lock held)."""
        if self._waiting:
            self._waiting.popleft().set()  # the slot moves on; in_flight stays the same
        else:
            self._in_flight -= 1

    def _changed(self, change: RateChange, *, quiet: bool = False) -> None:
        # Recoveries happen on every success; keep the history to cuts and every
        # tenth of a second of recovery, so it stays readable and small.
        if quiet and self._changes and change.at - self._changes[-1].at < 0.1:
            return
        self._changes.append(change)
        if self.listener is not None:
            self.listener(change)
