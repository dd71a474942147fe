"""Link alarms (a link degraded or down, a peer's clock off) and equivocations (a peer signed two envelopes
for one chain position): what supervisors are shown until someone deals with it."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, insert, select, update

from redline.domain.link_health import HEALTH_ALARMS
from redline.domain.records import EquivocationRecord, LinkAlarm
from redline.store import schema as t
from redline.store.database import Database, Executor


class EquivocationWrites:
    conn: Executor

    async def insert_equivocation(
        self, peer_id: str, seq: int, known_digest: str, envelope: str, reason: str, at: str
    ) -> bool:
        """Record an equivocation once; False if this very envelope was recorded before."""
        e = t.equivocations.c
        seen = await self.conn.execute(
            select(e.id).where(and_(e.peer_id == peer_id, e.seq == seq, e.envelope == envelope))
        )
        if seen.first() is not None:
            return False
        await self.conn.execute(
            insert(t.equivocations).values(
                peer_id=peer_id,
                seq=seq,
                known_digest=known_digest,
                envelope=envelope,
                reason=reason,
                detected_at=at,
            )
        )
        return True


class AlarmStore:
    database: Database

    async def raise_link_alarm(
        self, peer_id: str, state: str, detail: str, at: str, replaces: Sequence[str] = HEALTH_ALARMS
    ) -> None:
        """Raise an alarm for the link, clearing the open ones of the states it ``replaces``.

        If an alarm of this state is open already, only its detail is brought up to date:
        a condition that persists (a refusal repeated at every retry) is one alarm, not many.
        """
        a = t.link_alarms.c
        async with self.database.transaction() as conn:
            open_same = and_(a.peer_id == peer_id, a.state == state, a.cleared_at.is_(None))
            updated = await conn.execute(update(t.link_alarms).where(open_same).values(detail=detail))
            if updated.rowcount:
                return
            await conn.execute(
                update(t.link_alarms)
                .where(and_(a.peer_id == peer_id, a.state.in_(list(replaces)), a.cleared_at.is_(None)))
                .values(cleared_at=at)
            )
            await conn.execute(
                insert(t.link_alarms).values(peer_id=peer_id, state=state, detail=detail, raised_at=at)
            )

    async def clear_link_alarms(self, peer_id: str, at: str, states: Sequence[str] = HEALTH_ALARMS) -> None:
        """Clear the link's open alarms of these states."""
        a = t.link_alarms.c
        async with self.database.transaction() as conn:
            await conn.execute(
                update(t.link_alarms)
                .where(and_(a.peer_id == peer_id, a.state.in_(list(states)), a.cleared_at.is_(None)))
                .values(cleared_at=at)
            )

    async def link_alarms(
        self, limit: int = 200, after: int | None = None, active: bool | None = None
    ) -> list[LinkAlarm]:
        """Newest first (by id), strictly older than alarm ``after``; ``active``: only those not
        cleared (False: only cleared ones)."""
        a = t.link_alarms.c
        query = select(t.link_alarms)
        if after is not None:
            query = query.where(a.id < after)
        if active is not None:
            query = query.where(a.cleared_at.is_(None) if active else a.cleared_at.is_not(None))
        query = query.order_by(a.id.desc()).limit(limit)
        # The records' fields are the tables' columns, name for name.
        return [LinkAlarm(**r._mapping) for r in await self.database.fetch(query)]

    async def equivocations(self, limit: int = 200, after: int | None = None) -> list[EquivocationRecord]:
        """Newest first (by id), strictly older than record ``after``."""
        e = t.equivocations.c
        query = select(t.equivocations)
        if after is not None:
            query = query.where(e.id < after)
        query = query.order_by(e.id.desc()).limit(limit)
        return [EquivocationRecord(**r._mapping) for r in await self.database.fetch(query)]
