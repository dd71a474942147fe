"""Link tests, suspension, notices and conflict alerts between two in-process stations."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest

from redline.domain.messages import Direction, MessageKind
from redline.domain.records import MessageRecord
from redline.domain.stations import Role
from redline.errors import Conflict, Forbidden
from redline.runtime import Station
from redline.services.assurance import change_suspension
from redline.services.deconfliction import EXPIRY_SCAN_SECONDS
from redline.web.app import create_api_app
from tests.support.inprocess import InProcessPair, eventually, inprocess_pair
from tests.support.records import circle_notice

pytestmark = pytest.mark.anyio


async def _inbound(station: Station, kind: str) -> list[MessageRecord]:
    peer = "beijing" if station.me.station_id == "washington" else "washington"
    return await station.store.messages(Direction.INBOUND, 200, peer, [MessageKind(kind)])


async def test_link_tests_at_start_are_answered_both_ways_with_scorecards(pair: InProcessPair):
    w, b = pair
    for station, peer in ((w, "beijing"), (b, "washington")):
        status = station.testers[peer].status()
        assert status["state"] == "up" and status["last_rtt_ms"] is not None
        assert status["last_sent_at"] and status["last_answered_at"]

    async def scorecards_shared() -> bool:
        rows = [await s.store.link_row(p) for s, p in ((w, "beijing"), (b, "washington"))]
        return all(r is not None and r.peer_scorecard for r in rows)

    await eventually(scorecards_shared, "each side holding the other's scorecard")
    row = await w.store.link_row("beijing")
    assert row is not None
    theirs = json.loads(row.peer_scorecard or "null")
    assert theirs["ack_deadlines"] == b.me.config.ack_deadlines and "median_rtt_ms" in theirs

    # An operator's test on demand is answered too.
    test_id = await w.testers["beijing"].send_test()

    async def answered() -> bool:
        return (await w.messaging.get(test_id)).acked_at is not None

    await eventually(answered, "the test on demand answered")


async def test_a_suspended_link_carries_no_text_until_resumed(pair: InProcessPair):
    w, b = pair
    peer_b, peer_w = await w.peers.get("beijing"), await b.peers.get("washington")
    assert peer_b is not None and peer_w is not None
    operator_like = pair.duty(w)
    with pytest.raises(Forbidden):
        await change_suspension(
            w.outbox, w.store, replace(operator_like, role=Role.OPERATOR), peer_b, True, ""
        )
    await change_suspension(w.outbox, w.store, pair.duty(w), peer_b, True, "exercise")

    async def suspended_at_beijing() -> bool:
        row = await b.store.link_row("washington")
        return bool(row and row.peer_suspended_at and row.peer_suspended_by == "washington/duty")

    await eventually(suspended_at_beijing, "beijing to learn of the suspension")
    for station, peer in ((w, "beijing"), (b, "washington")):
        with pytest.raises(Conflict, match="suspended"):
            await station.messaging.send_text(pair.duty(station), peer, "ROUTINE", "should not go", "en")
    with pytest.raises(Conflict, match="already suspended"):
        await change_suspension(w.outbox, w.store, pair.duty(w), peer_b, True, "twice")
    with pytest.raises(Conflict, match="which alone can resume"):
        await change_suspension(b.outbox, b.store, pair.duty(b), peer_w, False, "not mine")

    await change_suspension(w.outbox, w.store, pair.duty(w), peer_b, False, "review complete")

    async def resumed_at_beijing() -> bool:
        row = await b.store.link_row("washington")
        return bool(row and not row.peer_suspended_at)

    await eventually(resumed_at_beijing, "beijing to learn of the resumption")
    mid = await w.messaging.send_text(pair.duty(w), "beijing", "ROUTINE", "traffic resumed", "en")

    async def delivered() -> bool:
        return (await w.messaging.get(mid)).state == "delivered"

    await eventually(delivered, "a text after resumption")


async def test_overlapping_notices_raise_one_conflict_and_an_alert_on_each_side(pair: InProcessPair):
    w, b = pair
    await eventually(lambda: _ready(w, b), "deconfliction loaded")
    ours = await w.deconfliction.file(pair.duty(w), circle_notice(179.5, 12.0, 50_000))
    theirs = await b.deconfliction.file(pair.duty(b), circle_notice(-179.8, 12.1, 40_000))  # across 180°
    far = await b.deconfliction.file(pair.duty(b), circle_notice(10.0, 50.0, 1_000))

    async def conflicts(station: Station) -> set[tuple[str, str]]:
        return {(c.notice_a, c.notice_b) for c in await station.notices.open_conflicts()}

    async def same_conflict_both_sides() -> bool:
        here, there = await conflicts(w), await conflicts(b)
        return len(here) == 1 and here == there

    await eventually(same_conflict_both_sides, "the conflict on both stations")
    ((a, b_id),) = await conflicts(w)
    assert {a, b_id} == {ours.id, theirs.id} and far.id not in (a, b_id)

    async def alerted() -> bool:
        return all([len(await _inbound(s, "conflict_alert")) == 1 for s in (w, b)])

    await eventually(alerted, "a conflict alert at each party")
    for station in (w, b):
        (alert,) = await _inbound(station, "conflict_alert")
        assert alert.precedence == "IMMEDIATE" and alert.acked_at is None


async def _ready(w: Station, b: Station) -> bool:
    return w.deconfliction.ready.is_set() and b.deconfliction.ready.is_set()


async def test_the_api_apps_lifespan_runs_the_station(tmp_path):
    async with inprocess_pair(tmp_path, links_up=False) as pair:
        w = pair.washington
        assert w.started.is_set()
        with pytest.raises(RuntimeError, match="running already"):
            async with w.running():
                pass
    # Outside the pair both stations are stopped; the API app's lifespan starts one again.
    async with Station.open(
        tmp_path / "washington", clock=pair.clock, transport=pair.links["washington"]
    ) as w:
        assert not w.started.is_set()
        app = create_api_app(w.services(), lifespan=w.lifespan)
        async with app.router.lifespan_context(app):
            assert w.started.is_set() and set(w.workers) == {"beijing"}
            background = set(w._background)
            assert background and all(not t.done() for t in background)
        assert not w.started.is_set()
        assert all(t.done() for t in background)  # nothing outlives the lifespan
        w.spawn(_never_started(), "a late reaction")  # after the lifespan: dropped, not leaked


async def _never_started() -> None:
    raise AssertionError("a coroutine spawned outside the lifespan ran")


async def test_notices_expire_on_the_clock_and_their_conflict_closes_on_both_sides(pair: InProcessPair):
    w, b = pair
    await eventually(lambda: _ready(w, b), "deconfliction loaded")
    now = pair.clock.now()

    def window(minutes: int) -> dict[str, str]:
        stamp = "%Y-%m-%dT%H:%M:%SZ"
        start, end = now + timedelta(minutes=1), now + timedelta(minutes=minutes)
        return {"start": start.strftime(stamp), "end": end.strftime(stamp)}

    ours = await w.deconfliction.file(pair.duty(w), circle_notice(30.0, 40.0, 20_000, window=window(60)))
    theirs = await b.deconfliction.file(pair.duty(b), circle_notice(30.1, 40.0, 20_000, window=window(90)))

    async def open_on(station: Station) -> int:
        return len(await station.notices.open_conflicts())

    async def both_open() -> bool:
        return await open_on(w) == await open_on(b) == 1

    await eventually(both_open, "the conflict on both stations")

    async def ours_expired_everywhere() -> bool:
        states = [await _notice_state(s, ours.id) for s in (w, b)]
        return states == ["expired", "expired"] and await open_on(w) == await open_on(b) == 0

    _, waited = await pair.advance_until(ours_expired_everywhere, "expiry of our notice", step=30, limit=7200)
    # The window ended 60 min after filing; the expiry scan runs every EXPIRY_SCAN_SECONDS.
    assert 59 * 60 <= waited <= 60 * 60 + 2 * EXPIRY_SCAN_SECONDS
    assert await _notice_state(w, theirs.id) == "active"  # 30 minutes to go


async def _notice_state(station: Station, notice_id: str) -> str | None:
    stored = await station.notices.notice(notice_id)
    return None if stored is None else stored.state
