"""Time, injected: UTC timestamps as they travel, and the clocks services read.

Services, the runtime and the web layer never call ``datetime.now`` or
``time.monotonic`` themselves: they are handed a :class:`Clock`. A running
station uses :data:`SYSTEM_CLOCK`; tests of deadlines, escalation, link health
and expiry use :class:`MockClock` (modelled on Trio's ``MockClock``), whose
time moves only when the test calls :meth:`MockClock.advance`, so they run
instantly and never race the machine's load.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

from redline.errors import InputError, _t


class Clock(Protocol):
    def now(self) -> datetime:
        """The current UTC wall-clock time (what timestamps and deadlines use)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards (what intervals and timeouts use)."""
        ...

    async def sleep(self, seconds: float) -> None: ...

    async def wait(self, event: asyncio.Event, seconds: float) -> bool:
        """Wait until ``event`` is set (True) or ``seconds`` pass on this clock (False)."""
        ...


class SystemClock:
    """The machine's clocks."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def wait(self, event: asyncio.Event, seconds: float) -> bool:
        try:
            await asyncio.wait_for(event.wait(), seconds)
        except TimeoutError:
            return event.is_set()
        return True


SYSTEM_CLOCK: Clock = SystemClock()


class MockClock:
    """A clock that moves only when told to: ``advance(seconds)`` wakes every sleeper now due."""

    def __init__(self, start: datetime | None = None) -> None:
        self._start = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._elapsed = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._elapsed)

    def monotonic(self) -> float:
        return self._elapsed

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        wake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._elapsed + seconds, next(self._order), wake))
        await wake

    async def wait(self, event: asyncio.Event, seconds: float) -> bool:
        if event.is_set():
            return True
        waiter = asyncio.ensure_future(event.wait())
        sleeper = asyncio.ensure_future(self.sleep(seconds))
        try:
            await asyncio.wait({waiter, sleeper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            sleeper.cancel()
        return event.is_set()

    async def advance(self, seconds: float) -> None:
        """Move time forward, waking sleepers in order and letting each run before the next is due."""
        if seconds < 0:
            raise ValueError(_t("a clock does not go backwards"))
        target = self._elapsed + seconds
        while self._sleepers and self._sleepers[0][0] <= target:
            due, _, wake = heapq.heappop(self._sleepers)
            self._elapsed = max(self._elapsed, due)
            if not wake.done():
                wake.set_result(None)
            await settle()
        self._elapsed = target
        await settle()


async def settle(rounds: int = 20) -> None:
    """Let every task that is ready run (a few passes of the event loop)."""
    for _ in range(rounds):
        await asyncio.sleep(0)


def utc_now() -> datetime:
    """The machine's time. Only the composition root and CLI should need this; services use a Clock."""
    return SYSTEM_CLOCK.now()


def format_ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_ts(value: object, field: str) -> datetime:
    if not isinstance(value, str) or not value.endswith("Z"):
        raise InputError(
            _t("{field}: expected a UTC timestamp like 2026-01-31T12:00:00.000000Z", field=field)
        )
    try:
        return datetime.fromisoformat(value[:-1]).replace(tzinfo=UTC)
    except ValueError:
        raise InputError(
            _t("{field}: {value!r} is not an ISO 8601 timestamp", field=field, value=value)
        ) from None
