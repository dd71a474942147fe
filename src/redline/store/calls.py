"""Call requests: each call's envelopes (``call_events``) and its cached row (``calls``).

:class:`CallWrites` is the part of a station write transaction that records a call move in
the same transaction as its envelope; :class:`CallReads` pages the calls and finds those
whose reply deadline passed on our side.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import and_, insert, select, update

from redline.domain.calls import Call, CallEvent, CallRecord
from redline.store import schema as t
from redline.store.audit import insert_audit
from redline.store.database import Database, Executor, past

c = t.calls.c
e = t.call_events.c


def _event(row: Any) -> CallEvent:
    return CallEvent(message_id=row.message_id, station=row.station, ts=row.ts, body=json.loads(row.body))


def _cache(call: Call) -> dict[str, Any]:
    return {"state": call.state.value, "awaiting": call.awaiting, "reply_by": call.reply_by}


class CallWrites:
    conn: Executor

    async def call_record(self, call_id: str) -> CallRecord | None:
        """The call as stored now, inside this transaction."""
        row = (await self.conn.execute(select(t.calls).where(c.call_id == call_id))).first()
        if row is None:
            return None
        rows = await self.conn.execute(select(t.call_events).where(e.call_id == call_id))
        return CallRecord(
            row.call_id, row.peer_id, row.callee, tuple(_event(r) for r in rows), row.escalated_at
        )

    async def record_call_event(self, peer_id: str, event: CallEvent, call: Call) -> None:
        """Store ``event`` and the call's row as ``call`` (the fold including it) leaves it."""
        await self.conn.execute(
            insert(t.call_events).values(
                message_id=event.message_id,
                call_id=call.call_id,
                station=event.station,
                ts=event.ts,
                body=json.dumps(event.body, ensure_ascii=False, sort_keys=True),
            )
        )
        found = (await self.conn.execute(select(c.call_id).where(c.call_id == call.call_id))).first()
        if found is None:
            await self.conn.execute(
                insert(t.calls).values(
                    call_id=call.call_id,
                    peer_id=peer_id,
                    caller=call.caller,
                    callee=call.callee,
                    requested_at=call.requested_at,
                    updated_at=event.ts,
                    **_cache(call),
                )
            )
        else:
            await self.conn.execute(
                update(t.calls).where(c.call_id == call.call_id).values(updated_at=event.ts, **_cache(call))
            )


class CallReads:
    database: Database

    async def _records(self, rows: Sequence[Any]) -> list[CallRecord]:
        ids = [r.call_id for r in rows]
        events: dict[str, list[CallEvent]] = {i: [] for i in ids}
        if ids:
            for row in await self.database.fetch(select(t.call_events).where(e.call_id.in_(ids))):
                events[row.call_id].append(_event(row))
        return [
            CallRecord(r.call_id, r.peer_id, r.callee, tuple(events[r.call_id]), r.escalated_at) for r in rows
        ]

    async def call(self, call_id: str) -> CallRecord | None:
        rows = await self.database.fetch(select(t.calls).where(c.call_id == call_id))
        found = await self._records(rows)
        return found[0] if found else None

    async def calls(
        self, limit: int, after: tuple[str, str] | None = None, peer_id: str | None = None
    ) -> list[CallRecord]:
        """Newest requested first by (requested_at, call_id), strictly past ``after``."""
        query = select(t.calls)
        if peer_id is not None:
            query = query.where(c.peer_id == peer_id)
        if after is not None:
            query = query.where(past((c.requested_at, c.call_id), after, descending=True))
        rows = await self.database.fetch(query.order_by(c.requested_at.desc(), c.call_id.desc()).limit(limit))
        return await self._records(rows)

    async def calls_awaiting(self, station: str, pending: Sequence[str], limit: int) -> list[CallRecord]:
        """Calls whose answer is due from ``station``, soonest reply deadline first."""
        query = (
            select(t.calls)
            .where(c.awaiting == station, c.state.in_(list(pending)))
            .order_by(c.reply_by, c.call_id)
            .limit(limit)
        )
        return await self._records(await self.database.fetch(query))

    async def escalated_calls(
        self,
        station: str,
        pending: Sequence[str],
        limit: int,
        after: tuple[str, str] | None = None,
        active: bool | None = None,
    ) -> list[CallRecord]:
        """Calls escalated here, newest escalation first by (escalated_at, call_id), strictly past
        ``after``; ``active``: only those still awaiting ``station``'s answer (or only those not)."""
        query = select(t.calls).where(c.escalated_at.is_not(None))
        waiting = and_(c.awaiting == station, c.state.in_(list(pending)))
        if active is not None:
            query = query.where(waiting if active else ~waiting)
        if after is not None:
            query = query.where(past((c.escalated_at, c.call_id), after, descending=True))
        query = query.order_by(c.escalated_at.desc(), c.call_id.desc()).limit(limit)
        return await self._records(await self.database.fetch(query))

    async def escalate_calls(self, station: str, now: str, pending: Sequence[str]) -> list[CallRecord]:
        """Mark escalated the calls awaiting ``station``'s answer past their reply deadline; the
        calls marked (each once)."""
        due = and_(
            c.awaiting == station, c.escalated_at.is_(None), c.reply_by < now, c.state.in_(list(pending))
        )
        # Read first: most scans find nothing, and a write would wake every live page for nothing.
        if not await self.database.fetch(select(c.call_id).where(due).limit(1)):
            return []
        async with self.database.transaction() as conn:
            rows = (await conn.execute(select(t.calls).where(due))).all()
            if rows:
                await conn.execute(
                    update(t.calls).where(c.call_id.in_([r.call_id for r in rows])).values(escalated_at=now)
                )
                audit = [
                    (
                        now,
                        "system",
                        "call_escalated",
                        {"call": r.call_id, "peer": r.peer_id, "reply_by": r.reply_by},
                    )
                    for r in rows
                ]
                await insert_audit(conn, audit)
        return [replace(r, escalated_at=now) for r in await self._records(rows)]
