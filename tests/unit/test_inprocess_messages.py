"""Messages between two in-process stations: text and phrases delivered, acknowledged, receipted."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest

from redline.domain.messages import Direction, MessageKind
from redline.domain.search import MessageSearch
from redline.errors import Conflict
from redline.runtime import Station
from redline.services.paging import PageRequest
from redline.services.queries import BOX_KINDS
from redline.services.views import message_json
from tests.support.inprocess import InProcessPair, eventually

pytestmark = pytest.mark.anyio


async def _state(station: Station, message_id: str) -> str:
    return str((await station.messaging.get(message_id)).state)


async def _delivered(station: Station, message_id: str) -> bool:
    return await _state(station, message_id) == "delivered"


async def test_a_text_is_delivered_and_an_acknowledgement_lands_on_both_sides(pair: InProcessPair):
    w, b = pair
    mid = await w.messaging.send_text(pair.duty(w), "beijing", "FLASH", "Respond now.", "en")
    await eventually(lambda: _delivered(w, mid), "delivered at washington")
    inbound = await b.messaging.get(mid)
    assert inbound.direction == "inbound" and inbound.peer_id == "washington"
    assert inbound.precedence == "FLASH" and inbound.acked_at is None

    ack_id = await b.messaging.acknowledge(pair.duty(b), mid)
    assert ack_id != mid

    async def acknowledged() -> bool:
        sent, received = [await s.messaging.get(mid) for s in (w, b)]
        return sent.state == received.state == "acknowledged" and sent.acked_by == "beijing/duty"

    await eventually(acknowledged, "the acknowledgement on both sides")
    with pytest.raises(Conflict, match="already acknowledged"):
        await b.messaging.acknowledge(pair.duty(b), mid)
    with pytest.raises(Conflict, match="only the recipient"):
        await w.messaging.acknowledge(pair.duty(w), mid)


async def test_a_phrase_travels_as_code_and_parameters(pair: InProcessPair):
    w, b = pair
    mid = await w.messaging.send_phrase(pair.duty(w), "beijing", "PRIORITY", "REQ-01", {"minutes": 15})

    async def arrived() -> bool:
        rows = await b.store.messages(Direction.INBOUND, 50, "washington", [MessageKind.PHRASE])
        return any(r.id == mid for r in rows)

    await eventually(arrived, "the phrase at beijing")
    await eventually(lambda: _delivered(w, mid), "the phrase receipted at washington")


async def test_a_burst_arrives_in_order_with_every_message_receipted(pair: InProcessPair):
    w, b = pair
    ids = [await w.messaging.send_text(pair.duty(w), "beijing", "ROUTINE", f"n{i}", "en") for i in range(30)]

    async def all_delivered() -> bool:
        return all([await _state(w, m) == "delivered" for m in ids])

    await eventually(all_delivered, "30 messages delivered")
    rows = {r.id: r for r in await b.store.messages(Direction.INBOUND, 100, "washington", [MessageKind.TEXT])}
    seqs = [rows[m].seq for m in ids]
    assert seqs == list(range(seqs[0], seqs[0] + len(ids)))  # in the order sent, none missing


async def test_a_shown_receipt_and_acknowledgement_are_verified_again_on_read(pair: InProcessPair):
    """``signature_verified`` is a check made while answering, not a constant: altering the stored
    receipt or acknowledgement at rest (outside the station) turns it false with the reason."""
    w, b = pair
    mid = await w.messaging.send_text(pair.duty(w), "beijing", "FLASH", "Hold position.", "en")
    await eventually(lambda: _delivered(w, mid), "delivered at washington")
    await b.messaging.acknowledge(pair.duty(b), mid)

    async def acknowledged() -> bool:
        return (await w.messaging.get(mid)).acked_at is not None

    await eventually(acknowledged, "the acknowledgement at washington")

    async def shown(station: Station) -> dict[str, Any]:
        return message_json(await station.services().messages.message(mid))

    for station in (w, b):  # the peer's receipt and ack at washington, our own at beijing
        seen = await shown(station)
        assert seen["receipt"]["signature_verified"] is True, seen["receipt"]
        assert seen["acknowledgement"]["signature_verified"] is True, seen["acknowledgement"]
    outbox = MessageSearch(Direction.OUTBOUND, kinds=BOX_KINDS)
    listed = await w.services().messages.box(PageRequest(10), outbox)
    receipts = [message_json(v)["receipt"] for v in listed.items]
    assert receipts and all(r and "signature_verified" not in r for r in receipts), receipts

    database = w.me.files.root / "redline.db"
    receipt_id = (await shown(w))["receipt"]["id"]
    with sqlite3.connect(database) as db:  # someone with the file edits the receipt's time
        (body,) = db.execute("SELECT body FROM receipts WHERE id = ?", (receipt_id,)).fetchone()
        altered = {**json.loads(body), "at": "2020-01-01T00:00:00.000000Z"}
        db.execute("UPDATE receipts SET body = ? WHERE id = ?", (json.dumps(altered), receipt_id))
    receipt = (await shown(w))["receipt"]
    assert receipt["signature_verified"] is False
    assert "does not verify" in receipt["verification_problem"], receipt

    ack_id = (await shown(w))["acknowledgement"]["message_id"]
    with sqlite3.connect(database) as db:  # ... and points the acknowledgement at another message
        db.execute("UPDATE messages SET ack_of = ? WHERE id = ?", ("0" * 32, ack_id))
    ack = (await shown(w))["acknowledgement"]
    assert ack["signature_verified"] is False and "acknowledges" in ack["verification_problem"], ack
