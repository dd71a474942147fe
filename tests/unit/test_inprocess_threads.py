"""Threads between two in-process stations: a reply names its request, both sides link them, and
the unanswered list empties; a reply to an id unknown on the link is kept, receipted and flagged."""

from __future__ import annotations

import pytest

from redline.domain.messages import Direction, MessageKind, Precedence
from redline.domain.payloads import check_phrase, check_text
from redline.errors import InputError
from redline.services.kinds.base import OutboundDraft
from redline.services.paging import PageRequest
from redline.services.queries.threads import ThreadQueries
from redline.services.views import message_json, message_view
from tests.support.inprocess import InProcessPair, eventually

pytestmark = pytest.mark.anyio
OTHER = "0" * 32


async def _held(station, message_id: str) -> bool:
    return await station.store.message(message_id) is not None


def test_payloads_take_in_reply_to_and_stay_valid_without_it():
    assert check_text({"text": "hi", "lang": "en"}) == {"text": "hi", "lang": "en"}
    assert check_text({"text": "hi", "lang": "en", "in_reply_to": OTHER})["in_reply_to"] == OTHER
    body = {"code": "REP-01", "params": {}, "catalogue": "2026.1", "in_reply_to": OTHER}
    assert check_phrase(body)["in_reply_to"] == OTHER
    with pytest.raises(InputError, match=r"^in_reply_to"):
        check_text({"text": "hi", "lang": "en", "in_reply_to": "nope"})


async def test_a_reply_is_threaded_under_its_request_on_both_sides(pair: InProcessPair):
    w, b = pair
    req = await w.messaging.send_phrase(pair.duty(w), "beijing", "IMMEDIATE", "REQ-01", {"minutes": 15})
    await eventually(lambda: _held(b, req), "the request at beijing")
    page = PageRequest(limit=10, cursor=None)
    for station, box in ((w, Direction.OUTBOUND), (b, Direction.INBOUND)):
        open_ = await ThreadQueries(station.store, station.clock).unanswered(box, page)
        assert [v.id for v in open_.items] == [req]

    await pair.clock.advance(1)  # the thread is in the order stored: give each its own second
    with pytest.raises(InputError, match=r"^in_reply_to: no message"):
        await b.messaging.send_phrase(pair.duty(b), "washington", "ROUTINE", "REP-01", {}, OTHER)
    rep = await b.messaging.send_phrase(
        pair.duty(b), "washington", "IMMEDIATE", "REP-09", {"time": "2030-01-01T10:00:00Z"}, req
    )
    await eventually(lambda: _held(w, rep), "the reply at washington")
    await pair.clock.advance(1)
    text = await w.messaging.send_text(pair.duty(w), "beijing", "ROUTINE", "Calling at 10:00.", "en", rep)
    await eventually(lambda: _held(b, text), "the follow-up at beijing")

    for station in (w, b):
        threads = ThreadQueries(station.store, station.clock)
        thread = await threads.thread(text, page)
        assert [(e.view.id, e.depth) for e in thread.items] == [(req, 0), (rep, 1), (text, 2)]
        assert thread.items[0].view.replies == [rep]
        assert message_json(thread.items[1].view)["in_reply_to"] == req
        assert (await threads.unanswered(None, page)).items == []
    # paging: one at a time walks the same thread
    threads = ThreadQueries(w.store, w.clock)
    first = await threads.thread(req, PageRequest(limit=1, cursor=None))
    second = await threads.thread(req, PageRequest(limit=1, cursor=first.next))
    assert [e.view.id for e in first.items + second.items] == [req, rep]


async def test_a_reply_phrase_naming_a_message_answers_it(pair: InProcessPair):
    w, b = pair
    req = await w.messaging.send_phrase(pair.duty(w), "beijing", "ROUTINE", "REQ-06", {"message": OTHER})
    await eventually(lambda: _held(b, req), "the request at beijing")
    with pytest.raises(InputError, match=r"^in_reply_to: .* disagrees with params\.message"):
        await b.messaging.send_phrase(
            pair.duty(b), "washington", "ROUTINE", "REP-08", {"message": req}, OTHER
        )
    rep = await b.messaging.send_phrase(pair.duty(b), "washington", "ROUTINE", "REP-08", {"message": req})
    await eventually(lambda: _held(w, rep), "the reply at washington")
    assert (await w.store.message(rep)).in_reply_to == req
    assert (await w.store.replies_to([req])) == {req: [rep]}


async def test_a_peer_reply_to_an_unknown_id_is_kept_and_flagged(pair: InProcessPair):
    w, b = pair
    peer = await w.peers.get("beijing")
    draft = OutboundDraft(
        peer=peer,
        kind=MessageKind.TEXT,
        precedence=Precedence.ROUTINE,
        body={"text": "about that", "lang": "en", "in_reply_to": OTHER},
        created_by="duty",
    )
    mid = await w.outbox.submit(draft)  # past the sender's check, as a faulty peer would
    await eventually(lambda: _held(b, mid), "the reply at beijing")
    row = await b.store.message(mid)
    assert row.in_reply_to is None
    shown = message_json(message_view(row, b.clock.now()))
    assert shown["in_reply_to"] is None and shown["in_reply_to_unknown"] == OTHER
    # the link still flows
    later = await w.messaging.send_text(pair.duty(w), "beijing", "ROUTINE", "next", "en")
    await eventually(lambda: _held(b, later), "the next message at beijing")
