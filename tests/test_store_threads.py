"""Threads in the store, on SQLite and PostgreSQL: replies by id, a conversation with depths in
order and paged, and the unanswered requests both ways."""

from __future__ import annotations

from redline.domain.messages import Direction, MessageKind
from redline.store.station import Store
from tests.test_store import insert, record, run

REQ = '{"code": "REQ-01", "params": {"minutes": 5}, "catalogue": "2026.1"}'
REP = '{"code": "REP-01", "params": {}, "catalogue": "2026.1"}'


def _at(second: int) -> str:
    return f"2026-01-01T00:00:{second:02d}.000Z"


def test_threads_replies_and_unanswered_requests(url: str) -> None:
    async def scenario(store: Store) -> None:
        phrase = MessageKind.PHRASE
        ours = record(1, kind=phrase, body=REQ, expects_reply=True, stored_at=_at(1))
        theirs = record(1, Direction.INBOUND, kind=phrase, body=REQ, expects_reply=True, stored_at=_at(2))
        reply = record(2, Direction.INBOUND, kind=phrase, body=REP, in_reply_to=ours.id, stored_at=_at(3))
        deeper = record(2, in_reply_to=reply.id, stored_at=_at(4))
        await insert(store, ours, theirs, reply, deeper)

        assert await store.replies_to([ours.id, theirs.id]) == {ours.id: [reply.id]}
        thread = await store.thread(ours.id, 10)
        assert [(r.id, d) for r, d in thread] == [(ours.id, 0), (reply.id, 1), (deeper.id, 2)]
        assert thread[1][0].in_reply_to == ours.id and thread[0][0].expects_reply
        after = (thread[0][0].stored_at, thread[0][0].id)
        assert [r.id for r, _ in await store.thread(ours.id, 1, after)] == [reply.id]

        assert [r.id for r in await store.unanswered(None, 10)] == [theirs.id]
        assert [r.id for r in await store.unanswered(Direction.INBOUND, 10)] == [theirs.id]
        assert await store.unanswered(Direction.OUTBOUND, 10) == []

    run(url, scenario)
