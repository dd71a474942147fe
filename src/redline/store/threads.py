"""Threads over the messages table: a message's replies, a whole conversation, unanswered requests.

``messages.in_reply_to`` is set only when the answered message is on the same link (the
outbox's caller checks it before sending; the inbound service before storing a peer's
reply), so following it never crosses from one link to another.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, exists, literal, select
from sqlalchemy.orm import aliased

from redline.domain.messages import Direction
from redline.domain.records import MessageRecord
from redline.store import schema as t
from redline.store.database import Database, Executor, past
from redline.store.messages import message_record

m = t.messages.c
MAX_THREAD_DEPTH = 256  # a guard: ids are unique and replies name earlier messages, so no cycles


class ThreadWrites:
    conn: Executor

    async def messages_on_link(self, peer_id: str, ids: Iterable[str]) -> set[str]:
        """Which of ``ids`` are messages on the link with ``peer_id`` (either direction)."""
        wanted = sorted(set(ids))
        if not wanted:
            return set()
        rows = await self.conn.execute(select(m.id).where(m.peer_id == peer_id, m.id.in_(wanted)))
        return {r.id for r in rows}


class ThreadReads:
    database: Database

    async def replies_to(self, ids: Sequence[str]) -> dict[str, list[str]]:
        """id -> the ids of the messages answering it, oldest first (only ids that have any)."""
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        rows = await self.database.fetch(
            select(m.in_reply_to, m.id).where(m.in_reply_to.in_(wanted)).order_by(m.stored_at, m.id)
        )
        found: dict[str, list[str]] = {}
        for row in rows:
            found.setdefault(row.in_reply_to, []).append(row.id)
        return found

    async def messages_by_id(self, ids: Sequence[str]) -> dict[str, MessageRecord]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        rows = await self.database.fetch(select(t.messages).where(m.id.in_(wanted)))
        return {r.id: message_record(r) for r in rows}

    async def thread(
        self, root_id: str, limit: int, after: tuple[str, str] | None = None
    ) -> list[tuple[MessageRecord, int]]:
        """The conversation rooted at ``root_id``: it and every reply to it or to a reply, with
        their depth below the root, oldest first by (stored_at, id), at most ``limit``, strictly
        past ``after``."""
        base = select(m.id, literal(0).label("depth")).where(m.id == root_id).cte("thread", recursive=True)
        step = select(m.id, (base.c.depth + 1).label("depth")).where(
            m.in_reply_to == base.c.id, base.c.depth < MAX_THREAD_DEPTH
        )
        tree = base.union_all(step)
        query = select(t.messages, tree.c.depth).join(tree, tree.c.id == m.id)
        if after is not None:
            query = query.where(past((m.stored_at, m.id), after, descending=False))
        rows = await self.database.fetch(query.order_by(m.stored_at, m.id).limit(limit))
        return [(message_record(r), int(r.depth)) for r in rows]

    async def unanswered(
        self,
        direction: Direction | None,
        limit: int,
        *,
        peer_id: str | None = None,
        after: tuple[str, str] | None = None,
    ) -> list[MessageRecord]:
        """Requests nothing has answered yet, newest first by (stored_at, id), at most ``limit``,
        strictly past ``after``; ``direction`` None for both (ours and the peers')."""
        reply = aliased(t.messages)
        answered = exists().where(reply.c.in_reply_to == m.id)
        conditions: list[Any] = [m.expects_reply.is_(True), ~answered]
        if direction is not None:
            conditions.append(m.direction == direction.value)
        if peer_id is not None:
            conditions.append(m.peer_id == peer_id)
        if after is not None:
            conditions.append(past((m.stored_at, m.id), after, descending=True))
        query = select(t.messages).where(and_(*conditions)).order_by(m.stored_at.desc(), m.id.desc())
        return [message_record(r) for r in await self.database.fetch(query.limit(limit))]
