"""Searching the messages: one statement per page, filters and text search in SQL.

:class:`redline.domain.search.MessageSearch` says what is wanted; :func:`_where` turns it
into one condition. The text is matched with ``LIKE`` against each message's folded
search text (made when it was stored), its translation and its id's prefix; PostgreSQL
serves it from trigram indexes (migration 0007_find), SQLite scans, which a station's
box of some hundred thousand messages bears (``bench/search.py`` measures both).

A state an operator sees is the stored one except *overdue*, which depends on the time
(``domain.messages.visible_state``): the conditions below ask the same questions of the
row that ``visible_state`` asks of the record, at the ``now`` given.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, func, not_, or_, select, true

from redline.domain.messages import DeliveryState, Direction, MessageKind
from redline.domain.records import MessageRecord
from redline.domain.search import MessageSearch, fold, id_prefix
from redline.store import schema as t
from redline.store.database import Database, past
from redline.store.messages import message_record

m = t.messages.c
tr = t.translations.c

HUMAN_KINDS = sorted(k.value for k in MessageKind if k.needs_human_ack)


def _like(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere; its own % and _ and \\ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _text_matches(query: str) -> ColumnElement[bool]:
    pattern = _like(fold(query))
    translated = exists().where(tr.message_id == m.id, func.lower(tr.text).like(pattern, escape="\\"))
    found = [m.search_text.like(pattern, escape="\\"), translated]
    prefix = id_prefix(query)
    if prefix is not None:
        found.append(m.id.like(f"{prefix}%"))
    return or_(*found)


def _pending() -> ColumnElement[bool]:
    """A person's acknowledgement is due and not given."""
    return and_(m.kind.in_(HUMAN_KINDS), m.deadline.is_not(None), m.acked_at.is_(None))


def _overdue(now: str) -> ColumnElement[bool]:
    """Past its acknowledgement deadline without one: ``visible_state``'s overdue."""
    return and_(
        m.kind.in_(HUMAN_KINDS),
        m.state != DeliveryState.ACKNOWLEDGED.value,
        m.deadline.is_not(None),
        m.deadline < now,
    )


def _in_state(state: DeliveryState, now: str) -> ColumnElement[bool]:
    if state is DeliveryState.OVERDUE:
        return _overdue(now)
    return and_(m.state == state.value, not_(_overdue(now)))


def _flag(condition: ColumnElement[bool], wanted: bool | None) -> ColumnElement[bool]:
    if wanted is None:
        return true()
    return condition if wanted else not_(condition)


def _where(search: MessageSearch, now: str) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = []
    if search.direction is not None:
        conditions.append(m.direction == search.direction.value)
    if search.peer is not None:
        conditions.append(m.peer_id == search.peer)
    if search.kinds is not None:
        conditions.append(m.kind.in_(sorted(k.value for k in search.kinds)) if search.kinds else false())
    if search.precedences is not None:
        conditions.append(m.precedence.in_(sorted(p.value for p in search.precedences)))
    if search.states is not None:
        conditions.append(or_(false(), *(_in_state(s, now) for s in search.states)))
    if search.since is not None:
        conditions.append(m.stored_at >= search.since)
    if search.until is not None:
        conditions.append(m.stored_at < search.until)
    conditions.append(_flag(_pending(), search.awaiting_ack))
    theirs = and_(m.direction == Direction.OUTBOUND.value, _pending())
    conditions.append(_flag(theirs, search.awaiting_theirs))
    conditions.append(_flag(_overdue(now), search.overdue))
    if search.text is not None:
        conditions.append(_text_matches(search.text))
    return and_(true(), *conditions)


class SearchReads:
    database: Database

    async def search_messages(
        self,
        search: MessageSearch,
        now: str,
        limit: int,
        after: tuple[str, str] | None = None,
        newer: bool = False,
    ) -> list[MessageRecord]:
        """Newest first by (stored_at, id), at most ``limit``, strictly older than ``after`` (with
        ``newer``: the ``limit`` rows just newer than ``after``, still shown newest first); the
        states and overdue filters as seen at ``now``."""
        query: Any = select(t.messages).where(_where(search, now))
        if after is not None:
            query = query.where(past((m.stored_at, m.id), after, descending=not newer))
        if newer:
            query = query.order_by(m.stored_at, m.id).limit(limit)
            return [message_record(r) for r in reversed(await self.database.fetch(query))]
        query = query.order_by(m.stored_at.desc(), m.id.desc()).limit(limit)
        return [message_record(r) for r in await self.database.fetch(query)]

    async def count_messages(self, search: MessageSearch, now: str) -> int:
        """How many messages the search finds in all (every page)."""
        rows = await self.database.fetch(
            select(func.count()).select_from(t.messages).where(_where(search, now))
        )
        return int(rows[0][0])
