"""Escalation: messages that missed their acknowledgement deadline, marked once."""

from __future__ import annotations

from sqlalchemy import and_, select, update

from redline.domain.messages import Direction, Precedence
from redline.domain.records import Escalation, MessageRecord
from redline.store import schema as t
from redline.store.audit import insert_audit
from redline.store.database import Database, past
from redline.store.messages import message_record

m = t.messages.c


class EscalationStore:
    database: Database

    async def escalate_overdue(self, now: str) -> list[MessageRecord]:
        """Mark every unacknowledged message past its deadline as escalated, once; return them
        as they were before (``escalated_at`` still None)."""
        due = and_(m.acked_at.is_(None), m.escalated_at.is_(None), m.deadline.is_not(None), m.deadline < now)
        # The scan runs every few seconds: look first, and take the write lock (and a commit's
        # fsync) only when something is due.
        if not await self.database.fetch(select(m.id).where(due).limit(1)):
            return []
        async with self.database.transaction() as conn:
            records = [message_record(r) for r in await conn.execute(select(t.messages).where(due))]
            if records:
                await conn.execute(
                    update(t.messages).where(m.id.in_([r.id for r in records])).values(escalated_at=now)
                )
                await insert_audit(
                    conn,
                    [
                        (
                            now,
                            "system",
                            "escalate",
                            {
                                "message": r.id,
                                "peer": r.peer_id,
                                "direction": r.direction.value,
                                "deadline": r.deadline,
                            },
                        )
                        for r in records
                    ],
                )
        return records

    async def escalations(
        self, limit: int = 200, after: tuple[str, str] | None = None, active: bool | None = None
    ) -> list[Escalation]:
        """Newest first by (escalated_at, id), which never change once set, strictly past
        ``after``; ``active``: only those not yet acknowledged (False: only acknowledged ones)."""
        query = select(
            m.id, m.direction, m.peer_id, m.precedence, m.ts, m.deadline, m.escalated_at, m.acked_at
        ).where(m.escalated_at.is_not(None))
        if after is not None:
            query = query.where(past((m.escalated_at, m.id), after, descending=True))
        if active is not None:
            query = query.where(m.acked_at.is_(None) if active else m.acked_at.is_not(None))
        query = query.order_by(m.escalated_at.desc(), m.id.desc()).limit(limit)
        return [
            Escalation(
                id=r.id,
                direction=Direction(r.direction),
                peer_id=r.peer_id,
                precedence=Precedence(r.precedence),
                ts=r.ts,
                deadline=r.deadline,
                escalated_at=r.escalated_at,
                acked_at=r.acked_at,
            )
            for r in await self.database.fetch(query)
        ]
