"""How fast a caller may ask: token buckets for the operator API.

Each caller has a bucket of ``burst`` requests that refills at ``rate`` requests
a second on the station's clock; a request takes one, and an empty bucket
refuses it with :class:`~redline.errors.RateLimited`, which says how many whole
seconds until the next request is welcome. A bucket that has refilled is the
same as no bucket, so memory holds only callers that asked within the last
``burst / rate`` seconds: when there are more than ``max_buckets``, the full
ones are dropped, and if that is not enough, the fullest half.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from redline.domain.clock import Clock
from redline.errors import RateLimited

MAX_BUCKETS = 10_000


@dataclass(frozen=True, slots=True)
class RateLimit:
    rate: float  # requests a second, sustained; 0 means no limit
    burst: int  # requests a caller may make at once after a pause

    @property
    def off(self) -> bool:
        return self.rate == 0


class RateLimiter:
    """Token buckets by key (``operator:NAME``, ``address:IP``), on an injected clock."""

    def __init__(self, limit: RateLimit, clock: Clock, max_buckets: int = MAX_BUCKETS) -> None:
        self.limit = limit
        self._clock = clock
        self._max = max_buckets
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (requests left, at monotonic time)

    def __len__(self) -> int:
        return len(self._buckets)

    def _level(self, key: str, now: float) -> float:
        left, at = self._buckets.get(key, (float(self.limit.burst), now))
        return min(float(self.limit.burst), left + (now - at) * self.limit.rate)

    def _refuse(self, level: float, who: str) -> RateLimited:
        wait = max(1, math.ceil((1.0 - level) / self.limit.rate))
        return RateLimited(
            f"{who} sent more than {self.limit.rate:g} requests a second (bursts up to "
            f"{self.limit.burst}); wait {wait} s (Retry-After) and send fewer",
            wait,
        )

    def check(self, key: str, who: str) -> None:
        """Raise RateLimited if ``key``'s bucket is empty, without taking from it."""
        if self.limit.off:
            return
        level = self._level(key, self._clock.monotonic())
        if level < 1.0:
            raise self._refuse(level, who)

    def take(self, key: str, who: str) -> None:
        """Take one request from ``key``'s bucket, or raise RateLimited when it is empty."""
        if self.limit.off:
            return
        now = self._clock.monotonic()
        level = self._level(key, now)
        if level < 1.0:
            raise self._refuse(level, who)
        self._buckets[key] = (level - 1.0, now)
        if len(self._buckets) > self._max:
            self._evict(now)

    def _evict(self, now: float) -> None:
        levels = {key: self._level(key, now) for key in self._buckets}
        burst = float(self.limit.burst)
        for key, level in levels.items():
            if level >= burst:
                del self._buckets[key]
        if len(self._buckets) > self._max:
            fullest = sorted(self._buckets, key=levels.__getitem__, reverse=True)
            for key in fullest[: len(fullest) // 2 + 1]:
                del self._buckets[key]
