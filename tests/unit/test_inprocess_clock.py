"""The link's clock policy on two in-process stations, one of them with a wrong clock.

An envelope dated outside the receiver's window is refused with a clear error the
sender keeps retrying (nothing is lost) and a ``clock_refused`` alarm at the receiver;
an envelope delayed by a long outage is accepted and its deadline runs from receipt;
link tests measure the peer's clock offset and alarm above ``clock_alarm_seconds``.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest

from redline.crypto.keys import parse_encryption_key
from redline.domain.clock import format_ts, parse_ts
from redline.domain.link_clock import CLOCK_ALARM, CLOCK_REFUSAL
from redline.domain.messages import DEFAULT_ACK_DEADLINES, Direction, MessageKind, Precedence
from redline.errors import RemoteProtocolError
from redline.runtime import Station
from redline.web.console.render import render_text
from redline.wire.envelope import build_envelope
from tests.support.inprocess import InProcessPair, eventually

pytestmark = pytest.mark.anyio
WINDOW = 120.0  # the default clock_window_seconds


async def _open_alarms(station: Station, peer: str, state: str) -> list[str]:
    return [
        a.detail
        for a in await station.store.link_alarms()
        if a.peer_id == peer and a.state == state and a.cleared_at is None
    ]


async def _state(station: Station, message_id: str) -> str | None:
    row = await station.store.message(message_id)
    return None if row is None else row.state.value


async def _forge(pair: InProcessPair, ts: str) -> bytes:
    """A text washington signs with its real keys at the next place of its chain, dated ``ts``."""
    w, b = pair
    head = await w.store.link_row("beijing")
    assert head is not None
    envelope = build_envelope(
        w.me.keys,
        parse_encryption_key(b.me.card().encryption_key),
        message_id=uuid.uuid4().hex,
        sender="washington",
        recipient="beijing",
        seq=head.out_next_seq,
        prev=head.out_last_digest,
        ts=ts,
        precedence=Precedence.PRIORITY,
        kind=MessageKind.TEXT,
        body={"text": "Forged date.", "lang": "en"},
    )
    return json.dumps({"envelopes": [envelope.to_json()]}).encode()


async def test_an_envelope_from_a_clock_ahead_is_refused_alarmed_kept_queued_and_delivered_later(
    pair: InProcessPair,
):
    w, b = pair
    pair.skew("washington", 300)  # washington's clock five minutes fast: beyond the 120 s window
    mid = await w.messaging.send_text(pair.duty(w), "beijing", "PRIORITY", "From a fast clock.", "en")

    async def refused() -> str | None:
        error = w.workers["beijing"].last_error
        return error if error and "clock policy" in error else None

    error = await eventually(refused, "washington told of the refusal")
    assert "HTTP 400" in error and "ahead of this station's clock" in error and mid in error
    assert "stays queued" in error
    # Retries go on (every few seconds): still refused, still queued, one alarm at beijing.
    await pair.clock.advance(30)
    assert await _state(w, mid) in ("queued", "sent")
    assert await _state(b, mid) is None
    [detail] = await _open_alarms(b, "washington", CLOCK_REFUSAL)
    assert mid in detail and "ahead of this station's clock" in detail

    # The clock is put right; the envelope keeps its signed date, so it is accepted once beijing's
    # clock reaches it less the window, and nothing is lost.
    pair.skew("washington", 0)

    async def delivered() -> bool:
        return await _state(w, mid) == "delivered"

    _, waited = await pair.advance_until(delivered, "delivered once inside the window", step=5, limit=400)
    assert 300 - WINDOW - 30 - 10 <= waited <= 300 - WINDOW, waited
    assert await _state(b, mid) == "delivered"
    await eventually(lambda: _no_alarm(b, "washington", CLOCK_REFUSAL), "the refusal alarm cleared")


async def _no_alarm(station: Station, peer: str, state: str) -> bool:
    return not await _open_alarms(station, peer, state)


async def test_forged_dates_are_refused_with_a_clear_error_and_the_link_goes_on(pair: InProcessPair):
    w, b = pair
    beijing = await w.peers.get("beijing")
    assert beijing is not None
    now = pair.clock.now()
    cases = {
        "25 years back": (now - timedelta(days=25 * 365), "before this link's keys existed"),
        "a year ahead": (now + timedelta(days=365), "ahead of this station's clock"),
    }
    before = await b.store.kind_counts("washington", MessageKind.TEXT, Direction.INBOUND)
    for what, (moment, reason) in cases.items():
        with pytest.raises(RemoteProtocolError) as refused:
            await pair.links["washington"].deliver(beijing, await _forge(pair, format_ts(moment)))
        message = refused.value.message
        assert "HTTP 400" in message and "clock policy" in message and reason in message, what
        [detail] = await _open_alarms(b, "washington", CLOCK_REFUSAL)
        assert reason in detail, what
    assert await b.store.kind_counts("washington", MessageKind.TEXT, Direction.INBOUND) == before

    # An envelope dated a little ahead, within the window, is accepted; the alarm clears.
    answer = await pair.links["washington"].deliver(
        beijing, await _forge(pair, format_ts(now + timedelta(seconds=WINDOW - 10)))
    )
    assert b'"receipts"' in answer
    assert await _open_alarms(b, "washington", CLOCK_REFUSAL) == []


async def test_a_message_held_up_two_days_is_accepted_and_its_deadline_runs_from_receipt(
    pair: InProcessPair,
):
    w, b = pair
    pair.silence()
    mid = await w.messaging.send_text(pair.duty(w), "beijing", "FLASH", "Held up by the outage.", "en")
    sent = await w.store.message(mid)
    assert sent is not None
    # Two days pass on both stations' wall clocks. (Not on the shared mock clock the delivery
    # worker backs off on: that would only replay some 35,000 failed retries, one per 5 s.)
    for station in ("washington", "beijing"):
        pair.skew(station, 2 * 24 * 3600)
    await pair.clock.advance(30)
    assert await _state(w, mid) in ("queued", "sent")
    pair.silence(False)

    async def delivered() -> bool:
        return await _state(w, mid) == "delivered"

    await pair.advance_until(delivered, "delivered after the outage", step=1, limit=60)
    received = await b.store.message(mid)
    assert received is not None and received.ts == sent.ts  # the sender's stamp, two days old
    flash = DEFAULT_ACK_DEADLINES[Precedence.FLASH]
    assert received.deadline == format_ts(parse_ts(received.stored_at, "stored_at") + flash)
    assert parse_ts(received.deadline, "deadline") > pair.clock.now(), "not overdue on arrival"
    await pair.clock.advance(60)  # an escalation scan or two
    assert [e for e in await b.store.escalations() if e.id == mid] == []


async def _measured_after_a_test(pair: InProcessPair) -> dict[str, Any]:
    w = pair.washington
    tester = w.testers["beijing"]
    before = tester.clock_offset
    await tester.send_test()

    async def measured() -> bool:
        return tester.clock_offset is not None and tester.clock_offset is not before

    await eventually(measured, "the reply measured beijing's clock")
    link = await w.services().links.link("beijing")
    return dict(link["clock"])


async def test_link_tests_measure_the_peers_clock_offset_and_alarm_above_the_threshold(pair: InProcessPair):
    w, b = pair
    clock = await _measured_after_a_test(pair)
    assert clock["offset_s"] == 0 and clock["alarm"] is False
    assert clock["alarm_above_s"] == 5.0 and clock["window_s"] == WINDOW

    pair.skew("beijing", 30.0)  # beijing's clock 30 s fast: inside the window, above the alarm
    clock = await _measured_after_a_test(pair)
    assert abs(clock["offset_s"] - 30.0) <= clock["uncertainty_s"] + 0.001, clock
    assert clock["alarm"] is True and clock["measured_at"] is not None
    # The console's link panel shows it, in both languages.
    link = await w.services().links.link("beijing")
    english = render_text("_links.html", "en", links=[link])
    assert "+30.000 s (± 0.000 s) from ours" in english and "CLOCK ALARM: above 5 s" in english
    assert "与本站相差 +30.000 秒" in render_text("_links.html", "zh-Hans", links=[link])
    [detail] = await eventually(lambda: _open_alarms(w, "beijing", CLOCK_ALARM), "the clock alarm")
    assert "30.000 s" in detail and "ahead of ours" in detail
    # beijing sees washington's clock 30 s behind its own, and alarms too.
    b_test = await b.testers["washington"].send_test()
    assert b_test
    await eventually(lambda: _open_alarms(b, "washington", CLOCK_ALARM), "the clock alarm at beijing")
    assert b.testers["washington"].clock_offset is not None
    assert b.testers["washington"].clock_offset.offset == pytest.approx(-30.0, abs=0.01)

    # A second measurement while still off keeps one alarm; one back in range clears it.
    await _measured_after_a_test(pair)
    assert len(await _open_alarms(w, "beijing", CLOCK_ALARM)) == 1
    pair.skew("beijing", 2.0)  # within the 5 s threshold
    clock = await _measured_after_a_test(pair)
    assert clock["alarm"] is False and abs(clock["offset_s"] - 2.0) <= clock["uncertainty_s"] + 0.001
    await eventually(lambda: _no_alarm(w, "beijing", CLOCK_ALARM), "the clock alarm cleared")
    # A link-health answer never cleared the clock alarm (nor does the clock alarm touch health).
    assert (await w.services().links.link("beijing"))["state"] == "up"


async def test_the_offset_is_measured_within_the_round_trip(pair: InProcessPair):
    """With time passing between test and reply, the offset is still the injected skew within ± rtt/2."""
    w, _ = pair
    pair.skew("beijing", -12.5)
    pair.silence()
    tester = w.testers["beijing"]
    start_up = tester.clock_offset
    await tester.send_test()
    await pair.clock.advance(8)  # the test waits 8 s for the link to come back
    pair.silence(False)

    async def measured() -> bool:
        return tester.clock_offset is not start_up

    await pair.advance_until(measured, "measured once the link is back", step=0.5, limit=30)
    reading = tester.clock_offset
    assert reading is not None and reading.uncertainty > 0
    assert abs(reading.offset - (-12.5)) <= reading.uncertainty + 0.001
    assert reading.beyond(5.0) is (abs(reading.offset) - reading.uncertainty > 5.0)
