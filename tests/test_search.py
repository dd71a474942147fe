"""Finding messages (issue 11, item 4): text search and every filter of ``GET /api/v1/messages``,
run through the query service the API uses, on SQLite and PostgreSQL; paging both ways with
cursors bound to their search."""

from __future__ import annotations

import json

import pytest

from redline.crypto.keys import StationKeys
from redline.domain.messages import DeliveryState, Direction, MessageKind, Precedence
from redline.domain.search import MessageSearch
from redline.errors import InputError
from redline.services.paging import PageRequest, encode_cursor
from redline.services.queries.messages import MessageQueries
from redline.store.console import ConsoleStore
from redline.store.station import Store
from tests.test_store import insert, record, run

KEY = StationKeys.generate().signing_public
LATER = "2099-01-01T00:00:00.000000Z"  # a deadline still ahead: not overdue
PHRASE = {"code": "WRN-02", "params": {"callsign": "EAGLE7", "distance": 3}, "catalogue": "2026.1"}


def _text(words: str) -> str:
    return json.dumps({"text": words, "lang": "en"})


async def _fixture(store: Store) -> MessageQueries:
    await insert(
        store,
        record(1, id="a" * 32, body=_text("Unsafe INTERCEPT near Hainan"),
               stored_at="2026-01-01T00:00:01.000000Z"),
        record(2, id="b" * 32, body=_text("routine report"), precedence=Precedence.ROUTINE,
               deadline=LATER, stored_at="2026-01-01T00:00:02.000000Z"),
        record(1, Direction.INBOUND, id="c" * 32, body=_text("我方舰艇正在通过"), deadline=LATER,
               stored_at="2026-01-01T00:00:03.000000Z"),
        record(2, Direction.INBOUND, id="d" * 32, kind=MessageKind.PHRASE, body=json.dumps(PHRASE),
               stored_at="2026-01-01T00:00:04.000000Z"),
        record(3, Direction.INBOUND, id="e" * 32, body=_text("Bonjour"), deadline=LATER,
               stored_at="2026-01-01T00:00:05.000000Z"),
    )  # fmt: skip
    console = ConsoleStore(store)
    await console.save_translation("e" * 32, "Good morning, Commander", "en", "duty", "2026-01-01T00:01:00Z")
    async with store.write() as tx:
        await tx.mark_acknowledged("b" * 32, Direction.OUTBOUND, "li", "2026-01-01T00:02:00Z", "f" * 32)
    return MessageQueries(store, console, "washington", KEY)


async def _ids(queries: MessageQueries, **wanted: object) -> set[str]:
    search = MessageSearch(**{"kinds": None, **wanted})  # type: ignore[arg-type]
    found = await queries.box(PageRequest(100), search)
    return {v.id[0] for v in found.items}


def test_every_filter_finds_what_it_names(url: str) -> None:
    async def scenario(store: Store) -> None:
        q = await _fixture(store)
        assert await _ids(q) == set("abcde")
        assert await _ids(q, text="intercept") == {"a"}  # case-insensitive
        assert await _ids(q, text="舰艇") == {"c"}  # Chinese original
        assert await _ids(q, text="eagle7") == {"d"}  # a phrase parameter, rendered
        assert await _ids(q, text="unsafe distance") == {"d"}  # the phrase in English...
        assert await _ids(q, text="不安全距离") == {"d"}  # ...and in Chinese
        assert await _ids(q, text="commander") == {"e"}  # its translation
        assert await _ids(q, text="dddddd") == {"d"}  # an id prefix
        assert await _ids(q, text="100%") == set()  # LIKE's wildcards are taken literally
        assert await _ids(q, direction=Direction.INBOUND) == set("cde")
        assert await _ids(q, precedences=(Precedence.ROUTINE,)) == {"b"}
        assert await _ids(q, states=(DeliveryState.OVERDUE,)) == {"a", "d"}  # deadline 2026-01-01T00:00:01
        assert await _ids(q, states=(DeliveryState.ACKNOWLEDGED,)) == {"b"}
        assert await _ids(q, states=(DeliveryState.DELIVERED,)) == {"c", "e"}
        assert await _ids(q, states=(DeliveryState.QUEUED,)) == set()  # "a" is queued but overdue
        assert await _ids(q, overdue=True) == {"a", "d"}
        assert await _ids(q, overdue=False) == {"b", "c", "e"}
        assert await _ids(q, awaiting_ack=True) == {"a", "c", "d", "e"}
        assert await _ids(q, awaiting_theirs=True) == {"a"}
        assert await _ids(q, direction=Direction.INBOUND, awaiting_ack=True, overdue=False) == {"c", "e"}
        assert await _ids(q, since="2026-01-01T00:00:02.000000Z", until="2026-01-01T00:00:04.000000Z") == {
            "b",
            "c",
        }
        assert await _ids(q, kinds=(MessageKind.PHRASE,)) == {"d"}
        assert await _ids(q, peer="moscow") == set()
        counted = await q.box(PageRequest(1), MessageSearch(kinds=None, awaiting_ack=True), total=True)
        assert counted.total == 4 and len(counted.items) == 1 and counted.next is not None

    run(url, scenario)


def test_pages_walk_older_and_back_newer_and_a_cursor_keeps_to_its_search(url: str) -> None:
    async def scenario(store: Store) -> None:
        q = await _fixture(store)
        search = MessageSearch(kinds=None)
        first = await q.box(PageRequest(2), search)
        assert [v.id[0] for v in first.items] == ["e", "d"] and first.previous is None
        second = await q.box(PageRequest(2, first.next), search)
        assert [v.id[0] for v in second.items] == ["c", "b"]
        last = await q.box(PageRequest(2, second.next), search)
        assert [v.id[0] for v in last.items] == ["a"] and last.next is None
        back = await q.box(PageRequest(2, last.previous), search)
        assert [v.id[0] for v in back.items] == ["c", "b"] and back.previous is not None
        newest = await q.box(PageRequest(2, back.previous), search)
        assert [v.id[0] for v in newest.items] == ["e", "d"] and newest.previous is None
        with pytest.raises(InputError, match="cursor: it pages another search"):
            await q.box(PageRequest(2, first.next), MessageSearch(kinds=None, text="routine"))
        with pytest.raises(InputError, match="cursor"):
            await q.box(PageRequest(2, encode_cursor("audit", (5,))), search)

    run(url, scenario)


def test_contradictory_searches_are_refused() -> None:
    with pytest.raises(InputError, match="until"):
        MessageSearch(since="2026-01-02T00:00:00.000000Z", until="2026-01-01T00:00:00.000000Z")
    with pytest.raises(InputError, match="awaiting_theirs"):
        MessageSearch(direction=Direction.INBOUND, awaiting_theirs=True)
