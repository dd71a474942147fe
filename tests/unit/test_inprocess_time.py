"""Deadlines, escalation and link health on a mock clock: instant, and never racing the machine.

These replace the subprocess versions that waited out real deadlines and froze a station with
SIGSTOP; what needs real processes (a station killed with -9 and restarted, real TLS) stays in
tests/test_link_assurance.py and tests/test_escalation.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from redline.domain.clock import parse_ts
from redline.domain.link_health import DOWN_AFTER
from redline.domain.messages import Direction, MessageKind, visible_state
from redline.runtime import Station
from redline.services.escalation import SCAN_SECONDS
from tests.support.inprocess import InProcessPair, eventually, inprocess_pair

pytestmark = pytest.mark.anyio
SHORT = {"FLASH": 2.0, "IMMEDIATE": 600.0, "PRIORITY": 3600.0, "ROUTINE": 86400.0}
INTERVAL = 1.0


async def _visible(pair: InProcessPair, station: Station, mid: str) -> str:
    row = await station.messaging.get(mid)
    deadline = parse_ts(row.deadline, "deadline") if row.deadline else None
    return visible_state(
        row.state, row.kind, deadline, pair.clock.now()
    ).value


async def _escalated(station: Station, mid: str) -> list[dict]:
    return [e for e in await station.store.escalations() if e.id == mid]


async def test_overdue_flash_is_escalated_once_on_both_sides_reminded_and_a_late_ack_lands(tmp_path: Path):
    async with inprocess_pair(tmp_path, ack_deadlines=SHORT) as pair:
        w, b = pair
        mid = await w.messaging.send_text(pair.duty(w), "beijing", "FLASH", "Respond now.", "en")
        routine = await w.messaging.send_text(pair.duty(w), "beijing", "ROUTINE", "Later.", "en")

        async def delivered() -> bool:
            return (await w.messaging.get(routine)).state == "delivered"

        await eventually(delivered, "both messages delivered")
        deadline = parse_ts((await w.messaging.get(mid)).deadline, "deadline")
        assert parse_ts((await b.messaging.get(mid)).deadline, "deadline") == deadline

        # Just before the deadline: not overdue, and no scan escalates it.
        await pair.advance_to(deadline)
        await pair.clock.advance(0)  # the scans due by now have run
        for station in (w, b):
            assert await _visible(pair, station, mid) == "delivered"
            assert await _escalated(station, mid) == []

        # Past it: overdue on both sides at once, escalated at the next scan, routine untouched.
        await pair.clock.advance(0.001)
        for station in (w, b):
            assert await _visible(pair, station, mid) == "overdue"
        _, took = await pair.advance_until(
            lambda: _both(w, b, mid), "escalation on both sides", step=0.5, limit=10 * SCAN_SECONDS
        )
        assert took <= SCAN_SECONDS + 0.5
        for station, direction in ((w, "outbound"), (b, "inbound")):
            (escalation,) = await _escalated(station, mid)
            assert escalation.direction == direction
            assert await _escalated(station, routine) == []

        # The sender reminded the peer with a signed service message naming the message.
        async def reminders() -> list[dict]:
            rows = await b.store.messages(Direction.INBOUND, 50, "washington", [MessageKind.SERVICE])
            return [
                r
                for r in rows
                if json.loads(r.body)["action"] == "remind" and mid in json.loads(r.body)["reason"]
            ]

        (reminder,) = await eventually(reminders, "a reminder at beijing")
        assert reminder.precedence == "FLASH" and json.loads(reminder.body)["by"] == "system"

        # Escalated once, not at every scan.
        for _ in range(5):
            await pair.clock.advance(SCAN_SECONDS)
        await eventually(lambda: _both(w, b, mid), "escalations still listed")
        for station in (w, b):
            assert len(await _escalated(station, mid)) == 1
        assert len(await reminders()) == 1

        # A late acknowledgement still lands and ends the overdue state on both sides.
        await b.messaging.acknowledge(pair.duty(b), mid)

        async def acknowledged() -> bool:
            return all([await _visible(pair, s, mid) == "acknowledged" for s in (w, b)])

        await eventually(acknowledged, "the late acknowledgement on both sides")


async def _both(w: Station, b: Station, mid: str) -> bool:
    return bool(await _escalated(w, mid)) and bool(await _escalated(b, mid))


async def _state(station: Station, peer: str) -> str:
    return str(station.testers[peer].status()["state"])


async def _active_alarms(station: Station, peer: str) -> list[dict]:
    return [a for a in await station.store.link_alarms() if a.peer_id == peer and a.cleared_at is None]


async def _silence_is_seen(pair: InProcessPair, observer: Station, silent: Station) -> None:
    """Cut the link: ``observer`` sees it degraded after one missed test and down after three, with an
    alarm; restored: up again, the alarm cleared, on both sides."""
    peer = silent.me.station_id
    seen: list[str] = []

    async def observe() -> bool:
        now = await _state(observer, peer)
        if not seen or seen[-1] != now:
            seen.append(now)
        return now == "down"

    assert await _state(observer, peer) == "up"
    pair.silence()
    _, took = await pair.advance_until(observe, f"{observer.me.station_id} to see {peer} down", step=0.25)
    assert seen.index("degraded") < seen.index("down"), seen
    assert DOWN_AFTER * INTERVAL <= took <= (DOWN_AFTER + 2) * INTERVAL, took  # three 1 s misses

    assert observer.testers[peer].status()["consecutive_missed"] >= DOWN_AFTER
    active = await eventually(lambda: _down_alarm(observer, peer), "the down alarm")
    assert len(active) == 1 and active[0].cleared_at is None and "unanswered" in active[0].detail
    history = sorted(
        (a for a in await observer.store.link_alarms() if a.peer_id == peer), key=lambda a: a.id
    )
    assert [a.state for a in history[-2:]] == ["degraded", "down"]
    assert history[-2].cleared_at is not None  # the degraded alarm gave way to the down one

    pair.silence(False)

    async def recovered() -> bool:
        return (
            await _state(observer, peer) == "up"
            and await _state(silent, observer.me.station_id) == "up"
            and await _active_alarms(observer, peer) == []
            and await _active_alarms(silent, observer.me.station_id) == []
        )

    await pair.advance_until(recovered, "both sides up again with no alarm", step=0.25, limit=30)
    assert observer.testers[peer].status()["consecutive_missed"] == 0


async def _down_alarm(station: Station, peer: str) -> list[dict]:
    active = await _active_alarms(station, peer)
    return active if active and active[0].state == "down" else []


async def test_a_silent_peer_goes_degraded_then_down_with_an_alarm_and_comes_back_up(tmp_path: Path):
    async with inprocess_pair(tmp_path, test_interval=INTERVAL) as pair:
        await _silence_is_seen(pair, pair.washington, pair.beijing)
        await _silence_is_seen(pair, pair.beijing, pair.washington)
