"""What one caller may take of the API (pure, with an injectable clock): a request rate per
principal, failed token attempts per client address, and open event streams per principal.

A limit says how long to wait (the ``Retry-After`` of the 429), never blocks. Buckets of idle
callers are forgotten once many are kept, so guessing from many addresses cannot grow memory
without bound.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_KEYS = 50_000  # buckets kept before the full (idle) ones are forgotten


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """A token bucket per key: ``rate`` a second, bursts of ``burst``."""

    def __init__(self, rate: float, burst: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self._clock = rate, max(1.0, burst), clock
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str) -> float:
        """0 when ``key`` may go on now (a token is taken), else the seconds until it may."""
        now = self._clock()
        b = self._buckets.get(key)
        if b is None:
            if len(self._buckets) >= MAX_KEYS:
                self._forget_idle(now)
            b = self._buckets[key] = _Bucket(self.burst, now)
        b.tokens = min(self.burst, b.tokens + (now - b.at) * self.rate)
        b.at = now
        if b.tokens >= 1.0:
            b.tokens -= 1.0
            return 0.0
        return (1.0 - b.tokens) / self.rate

    def _forget_idle(self, now: float) -> None:
        full = [k for k, b in self._buckets.items()
                if b.tokens + (now - b.at) * self.rate >= self.burst]
        for k in full:
            del self._buckets[k]


class StreamSlots:
    """At most ``limit`` open streams per principal."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open: dict[str, int] = {}

    def acquire(self, name: str) -> bool:
        n = self.open.get(name, 0)
        if n >= self.limit:
            return False
        self.open[name] = n + 1
        return True

    def release(self, name: str) -> None:
        n = self.open.get(name, 0) - 1
        if n > 0:
            self.open[name] = n
        else:
            self.open.pop(name, None)


@dataclass
class Limits:
    rate: float = 50.0  # requests a second per principal
    max_streams: int = 20  # open event streams per principal
    clock: Callable[[], float] = time.monotonic
    requests: RateLimiter = field(init=False)
    failed_tokens: RateLimiter = field(init=False)  # per client address
    streams: StreamSlots = field(init=False)

    def __post_init__(self) -> None:
        self.requests = RateLimiter(self.rate, 2 * self.rate, self.clock)
        self.failed_tokens = RateLimiter(self.rate / 5, 2 * self.rate / 5, self.clock)
        self.streams = StreamSlots(self.max_streams)


def retry_after(wait_s: float) -> str:
    """A ``Retry-After`` value: whole seconds, at least 1."""
    return str(max(1, math.ceil(wait_s)))
