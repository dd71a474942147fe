"""The clocks services are given: the mock one moves only when told, and wakes sleepers in order."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from redline.domain.clock import SYSTEM_CLOCK, MockClock, settle

pytestmark = pytest.mark.anyio
START = datetime(2030, 1, 1, tzinfo=UTC)


async def test_time_stands_still_until_advanced():
    clock = MockClock(START)
    assert clock.now() == START and clock.monotonic() == 0.0
    await settle()
    assert clock.now() == START
    await clock.advance(2.5)
    assert clock.now() == START + timedelta(seconds=2.5) and clock.monotonic() == 2.5


async def test_the_default_start_is_fixed_and_utc():
    assert MockClock().now() == MockClock().now()
    assert MockClock().now().tzinfo is UTC


async def test_a_clock_does_not_go_backwards():
    clock = MockClock(START)
    with pytest.raises(ValueError):
        await clock.advance(-1)


async def test_sleepers_wake_in_order_each_seeing_its_own_due_time():
    clock = MockClock(START)
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.monotonic()))

    tasks = [asyncio.ensure_future(sleeper(n, s)) for n, s in (("late", 3.0), ("early", 1.0), ("mid", 2.0))]
    await settle()
    await clock.advance(0.5)
    assert woke == []
    await clock.advance(2.0)
    assert woke == [("early", 1.0), ("mid", 2.0)]
    assert clock.monotonic() == 2.5
    await clock.advance(10)
    assert woke[-1] == ("late", 3.0) and clock.monotonic() == 12.5
    await asyncio.gather(*tasks)


async def test_a_sleeper_that_sleeps_again_is_woken_within_the_same_advance():
    clock = MockClock(START)
    ticks: list[float] = []

    async def ticker() -> None:
        while True:
            await clock.sleep(1.0)
            ticks.append(clock.monotonic())

    task = asyncio.ensure_future(ticker())
    await settle()
    await clock.advance(3.5)
    assert ticks == [1.0, 2.0, 3.0]
    task.cancel()


async def test_zero_sleep_only_yields():
    clock = MockClock(START)
    await clock.sleep(0)
    await clock.sleep(-1)
    assert clock.monotonic() == 0.0


async def test_wait_returns_true_when_the_event_is_set_before_the_timeout():
    clock = MockClock(START)
    event = asyncio.Event()
    waiter = asyncio.ensure_future(clock.wait(event, 5.0))
    await settle()
    await clock.advance(1.0)
    assert not waiter.done()
    event.set()
    await settle()
    assert waiter.done() and waiter.result() is True
    assert await clock.wait(event, 5.0) is True  # set already: no waiting at all


async def test_wait_returns_false_when_the_timeout_passes_first():
    clock = MockClock(START)
    event = asyncio.Event()
    waiter = asyncio.ensure_future(clock.wait(event, 5.0))
    await settle()
    await clock.advance(4.9)
    assert not waiter.done()
    await clock.advance(0.1)
    assert waiter.done() and waiter.result() is False


async def test_a_cancelled_sleeper_is_not_woken_and_does_not_block_others():
    clock = MockClock(START)
    cancelled = asyncio.ensure_future(clock.sleep(1.0))
    other = asyncio.ensure_future(clock.sleep(2.0))
    await settle()
    cancelled.cancel()
    await clock.advance(3.0)
    assert cancelled.cancelled() and other.done()


async def test_the_system_clock_is_the_machine_clock():
    before = datetime.now(UTC)
    assert before <= SYSTEM_CLOCK.now() <= datetime.now(UTC)
    assert SYSTEM_CLOCK.monotonic() <= SYSTEM_CLOCK.monotonic()
    event = asyncio.Event()
    assert await SYSTEM_CLOCK.wait(event, 0.001) is False
    event.set()
    assert await SYSTEM_CLOCK.wait(event, 0.001) is True
    await SYSTEM_CLOCK.sleep(0)
