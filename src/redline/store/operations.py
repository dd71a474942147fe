"""What operating a station reads: figures for ``GET /metrics``, readiness, clock readings.

Every figure is counted by the database at the moment it is asked for (a few ``GROUP BY``
queries), so a restarted station reports the same numbers as before it stopped.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, literal, select
from sqlalchemy.orm import aliased

from redline.domain.messages import DeliveryState, Direction, MessageKind
from redline.store import schema as t
from redline.store.database import Database
from redline.store.engine import database_revisions, migration_heads
from redline.store.search import HUMAN_KINDS

m = t.messages.c


class OperationsReads:
    database: Database

    async def message_figures(self) -> list[tuple[str, str, str, str, int]]:
        """(direction, kind, stored state, precedence, count) of every message."""
        query = select(m.direction, m.kind, m.state, m.precedence, func.count()).group_by(
            m.direction, m.kind, m.state, m.precedence
        )
        return [(r[0], r[1], r[2], r[3], int(r[4])) for r in await self.database.fetch(query)]

    async def overdue_figures(self, now: str) -> list[tuple[str, str, int]]:
        """(direction, precedence, count) of messages past their acknowledgement deadline."""
        overdue = and_(
            m.kind.in_(HUMAN_KINDS),
            m.state != DeliveryState.ACKNOWLEDGED.value,
            m.deadline.is_not(None),
            m.deadline < now,
        )
        query = (
            select(m.direction, m.precedence, func.count()).where(overdue).group_by(m.direction, m.precedence)
        )
        return [(r[0], r[1], int(r[2])) for r in await self.database.fetch(query)]

    async def queue_depths(self) -> dict[str, int]:
        """Outbound envelopes not yet receipted by the peer, per peer."""
        waiting = (DeliveryState.QUEUED.value, DeliveryState.SENT.value)
        query = (
            select(m.peer_id, func.count())
            .where(m.direction == Direction.OUTBOUND.value, m.state.in_(waiting))
            .group_by(m.peer_id)
        )
        return {r[0]: int(r[1]) for r in await self.database.fetch(query)}

    async def open_conflict_count(self) -> int:
        query = select(func.count()).select_from(t.conflicts).where(t.conflicts.c.state == "open")
        return int((await self.database.fetch(query))[0][0])

    async def ping(self) -> None:
        """One real query: raises if the database cannot answer."""
        await self.database.fetch(select(literal(1)))

    async def migration_state(self) -> dict[str, Any]:
        """The database's Alembic revisions and this code's heads."""
        at = await database_revisions(self.database.engine)
        heads = migration_heads()
        return {"database": sorted(at), "code": sorted(heads), "current": at == heads}

    async def clock_readings(self) -> dict[str, tuple[str, str, str]]:
        """Per peer, the latest answered link test: (our test's ts, the reply's signed ts, when the
        reply arrived); ``domain.link_clock.ClockOffset.measure`` makes the offset of these."""
        reply = aliased(t.messages)
        query = (
            select(m.peer_id, m.ts, reply.c.ts, m.acked_at)
            .join(reply, reply.c.id == m.ack_message_id)
            .where(
                m.direction == Direction.OUTBOUND.value,
                m.kind == MessageKind.LINK_TEST.value,
                m.acked_at.is_not(None),
            )
            .order_by(m.acked_at)
        )
        return {r[0]: (r[1], r[2], r[3]) for r in await self.database.fetch(query)}
