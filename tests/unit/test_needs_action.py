"""The needs-action query (``MessageQueries.needs_action``): what awaits acknowledgement, both ways.

The console's needs-action panel and its FLASH alarm are drawn from this query, never from the
newest rows of a box, so a FLASH stays in it however much traffic follows.
"""

from __future__ import annotations

import pytest

from redline.errors import InputError
from redline.runtime import Station
from redline.services.queries.messages import NeedsAction
from tests.support.inprocess import InProcessPair, eventually

pytestmark = pytest.mark.anyio


async def _needs(station: Station, limit: int = 10) -> NeedsAction:
    return await station.services().messages.needs_action(limit, "en", station.clock.now())


async def _send(pair: InProcessPair, precedence: str, text: str) -> str:
    """A text from washington to beijing, one second after the previous one (distinct deadlines)."""
    await pair.clock.advance(1.0)
    w = pair.washington
    return await w.messaging.send_text(pair.duty(w), "beijing", precedence, text, "en")


async def test_flash_and_immediate_come_first_then_the_deadline_in_both_directions(pair: InProcessPair):
    w, b = pair
    routine = await _send(pair, "ROUTINE", "r")
    flash_1 = await _send(pair, "FLASH", "f1")
    priority = await _send(pair, "PRIORITY", "p")
    immediate = await _send(pair, "IMMEDIATE", "i")
    flash_2 = await _send(pair, "FLASH", "f2")
    sent = [routine, flash_1, priority, immediate, flash_2]
    ours = await b.messaging.send_text(pair.duty(b), "washington", "PRIORITY", "back", "en")

    async def arrived() -> NeedsAction | None:
        needs = await _needs(b)
        return needs if needs.inbound_total == len(sent) and needs.outbound_total == 1 else None

    needs = await eventually(arrived, "five messages awaiting beijing's acknowledgement")
    assert [v.id for v in needs.inbound] == [flash_1, flash_2, immediate, priority, routine]
    assert needs.flash == 2
    assert [v.id for v in needs.outbound] == [ours]
    assert all(v.awaiting_ack and v.direction == "inbound" for v in needs.inbound)

    async def back_at_washington() -> NeedsAction | None:
        needs = await _needs(w)
        return needs if needs.inbound_total == 1 else None

    at_washington = await eventually(back_at_washington, "beijing's message at washington")
    assert [v.id for v in at_washington.outbound] == [flash_1, flash_2, immediate, priority, routine]
    assert [v.id for v in at_washington.inbound] == [ours] and at_washington.flash == 0

    # Acknowledged at beijing: off beijing's list at once, off washington's once the ack arrives.
    await b.messaging.acknowledge(pair.duty(b), flash_1)
    needs = await _needs(b)
    assert flash_1 not in [v.id for v in needs.inbound] and needs.flash == 1

    async def off_washington() -> bool:
        return flash_1 not in [v.id for v in (await _needs(w)).outbound]

    await eventually(off_washington, "the acknowledgement at washington")


async def test_a_message_past_its_deadline_shows_overdue(pair: InProcessPair):
    _w, b = pair
    flash = await _send(pair, "FLASH", "late")
    routine = await _send(pair, "ROUTINE", "not late")

    async def arrived() -> bool:
        return (await _needs(b)).inbound_total == 2

    await eventually(arrived, "both at beijing")
    assert [v.state for v in (await _needs(b)).inbound] != ["overdue", "overdue"]
    await pair.clock.advance(5 * 60 + 5)  # past FLASH's 5 minutes, far inside ROUTINE's 24 hours
    needs = await _needs(b)
    assert [(v.id, v.state) for v in needs.inbound] == [(flash, "overdue"), (routine, "delivered")]
    assert needs.flash == 1  # overdue is still awaiting acknowledgement: the alarm holds


async def test_the_total_is_stated_when_more_wait_than_are_shown(pair: InProcessPair):
    _w, b = pair
    ids = [await _send(pair, "ROUTINE", f"n{i}") for i in range(5)]
    flash = await _send(pair, "FLASH", "after the routine ones")

    async def arrived() -> bool:
        return (await _needs(b, 2)).inbound_total == 6

    await eventually(arrived, "six at beijing")
    needs = await _needs(b, 2)
    assert [v.id for v in needs.inbound] == [flash, ids[0]]  # the FLASH first, however late it came
    assert needs.inbound_total == 6 and needs.outbound_total == 0 and needs.flash == 1
    with pytest.raises(InputError, match="limit"):
        await _needs(b, 0)
