"""The audit log: every write path appends its events in the same transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, insert, select

from redline.domain.records import AuditEvent
from redline.store import schema as t
from redline.store.database import Database, Executor

AuditEntry = tuple[str, str, str, dict[str, Any]]  # at, actor, action, detail


async def insert_audit(conn: Executor, events: Sequence[AuditEntry]) -> None:
    if events:
        await conn.execute(
            insert(t.audit_log),
            [
                {"at": at, "actor": actor, "action": action, "detail": json.dumps(detail, sort_keys=True)}
                for at, actor, action, detail in events
            ],
        )


class AuditWrites:
    """Audit events inside a write transaction."""

    conn: Executor

    async def audit(self, at: str, actor: str, action: str, detail: dict[str, Any]) -> None:
        await insert_audit(self.conn, [(at, actor, action, detail)])

    async def audit_many(self, events: Sequence[AuditEntry]) -> None:
        await insert_audit(self.conn, events)


class AuditReads:
    database: Database

    async def audit_log(
        self,
        limit: int = 200,
        after: int | None = None,
        actor: str | None = None,
        actions: Sequence[str] | None = None,
    ) -> list[AuditEvent]:
        """Newest first (by id, which only grows), strictly older than event ``after``."""
        a = t.audit_log.c
        query = select(t.audit_log)
        if after is not None:
            query = query.where(a.id < after)
        if actor is not None:
            query = query.where(a.actor == actor)
        if actions is not None:
            query = query.where(a.action.in_(list(actions)))
        query = query.order_by(a.id.desc()).limit(limit)
        return [
            AuditEvent(id=r.id, at=r.at, actor=r.actor, action=r.action, detail=r.detail)
            for r in await self.database.fetch(query)
        ]

    async def counts(self) -> dict[str, int]:
        """Row counts per table: what tests compare to prove a refusal changed nothing."""
        result: dict[str, int] = {}
        for table in (t.peers, t.operators, t.links, t.messages, t.receipts, t.equivocations):
            rows = await self.database.fetch(select(func.count()).select_from(table))
            result[table.name] = int(rows[0][0])
        return result
