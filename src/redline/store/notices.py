"""Activity notices and conflicts, in SQLAlchemy Core over the station's database.

:class:`NoticeWrites` is the part of a station write transaction that stores
a peer's notice in the same transaction as its envelope; :class:`NoticeStore`
is everything else (our own notices, expiry, conflicts), each method one
transaction of its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, insert, or_, select, update

from redline.domain.records import ConflictDetail, ConflictRecord, NoticeRecord
from redline.store import schema as t
from redline.store.audit import insert_audit
from redline.store.database import Executor, past

if TYPE_CHECKING:
    from redline.store.station import Store

LIVE = ("active", "amended")


def notice_record(row: Any) -> NoticeRecord:
    return NoticeRecord(
        id=row.id,
        party=row.party,
        version=row.version,
        state=row.state,
        activity=row.activity,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        body=row.body,
        shared=bool(row.shared),
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


def conflict_record(row: Any) -> ConflictRecord:
    return ConflictRecord(
        pair=row.pair,
        key=row.key,
        notice_a=row.notice_a,
        notice_b=row.notice_b,
        state=row.state,
        detail=row.detail,
        opened_at=row.opened_at,
        updated_at=row.updated_at,
        closed_at=row.closed_at,
    )


def _values(record: NoticeRecord) -> dict[str, Any]:
    values = {column.name: getattr(record, column.name) for column in t.notices.columns}
    values["shared"] = int(record.shared)
    return values


class NoticeWrites:
    conn: Executor

    async def upsert_notice(self, record: NoticeRecord) -> bool:
        """Store a notice version unless we hold this or a later one; True if it was stored."""
        query = select(t.notices.c.version).where(t.notices.c.id == record.id)
        found = (await self.conn.execute(query)).first()
        if found is None:
            await self.conn.execute(insert(t.notices).values(**_values(record)))
        elif record.version > found.version:
            await self.conn.execute(
                update(t.notices).where(t.notices.c.id == record.id).values(**_values(record))
            )
        return found is None or record.version > found.version

    async def cancel_notice(self, notice_id: str, party: str, version: int, at: str, by: str) -> bool:
        """A party's cancellation of its notice (a later version than we hold)."""
        n = t.notices.c
        result = await self.conn.execute(
            update(t.notices)
            .where(and_(n.id == notice_id, n.party == party, n.version < version))
            .values(state="cancelled", version=version, updated_at=at, updated_by=by)
        )
        return bool(result.rowcount)


class _Writes(NoticeWrites):
    def __init__(self, conn: Executor) -> None:
        self.conn = conn


class NoticeStore:
    def __init__(self, store: Store) -> None:
        self.database = store.database

    async def save(self, record: NoticeRecord, actor: str, action: str) -> bool:
        async with self.database.transaction() as conn:
            stored = await _Writes(conn).upsert_notice(record)
            if stored:
                detail = {"notice": record.id, "version": record.version, "state": record.state}
                await insert_audit(conn, [(record.updated_at, actor, action, detail)])
            return stored

    async def mark_shared(self, notice_id: str, version: int) -> None:
        async with self.database.transaction() as conn:
            await conn.execute(
                update(t.notices)
                .where(and_(t.notices.c.id == notice_id, t.notices.c.version == version))
                .values(shared=1)
            )

    async def notice(self, notice_id: str) -> NoticeRecord | None:
        rows = await self.database.fetch(select(t.notices).where(t.notices.c.id == notice_id))
        return notice_record(rows[0]) if rows else None

    async def notices(
        self,
        party: str | None = None,
        states: Sequence[str] | None = None,
        limit: int | None = None,
        in_force_at: str | None = None,
        after: tuple[str, str] | None = None,
    ) -> list[NoticeRecord]:
        """Notices by (start time, id), strictly past ``after``; ``in_force_at``: only live ones
        whose window contains that moment."""
        n = t.notices.c
        query = select(t.notices)
        if in_force_at is not None:
            query = query.where(
                n.state.in_(LIVE),
                n.starts_at <= in_force_at,
                or_(n.ends_at.is_(None), n.ends_at >= in_force_at),
            )
        if party is not None:
            query = query.where(n.party == party)
        if states is not None:
            query = query.where(n.state.in_(list(states)))
        if after is not None:
            query = query.where(past((n.starts_at, n.id), after, descending=False))
        query = query.order_by(n.starts_at, n.id)
        if limit is not None:
            query = query.limit(limit)
        return [notice_record(r) for r in await self.database.fetch(query)]

    async def unshared(self, party: str) -> list[NoticeRecord]:
        """Our notices whose latest version is not yet in the outbox (a crash came between)."""
        query = select(t.notices).where(
            and_(t.notices.c.party == party, t.notices.c.shared == 0, t.notices.c.state != "draft")
        )
        return [notice_record(r) for r in await self.database.fetch(query)]

    async def expire(self, ids: Iterable[str], at: str) -> None:
        ids = list(ids)
        if not ids:
            return
        async with self.database.transaction() as conn:
            await conn.execute(
                update(t.notices)
                .where(and_(t.notices.c.id.in_(ids), t.notices.c.state.in_(LIVE)))
                .values(state="expired", updated_at=at, updated_by="system")
            )
            await insert_audit(conn, [(at, "system", "notices_expired", {"notices": ids})])

    # -- conflicts ------------------------------------------------------------

    async def open_conflicts(self, involving: str | None = None) -> list[ConflictRecord]:
        query = select(t.conflicts).where(t.conflicts.c.state == "open")
        if involving is not None:
            query = query.where(or_(t.conflicts.c.notice_a == involving, t.conflicts.c.notice_b == involving))
        return [conflict_record(r) for r in await self.database.fetch(query)]

    async def conflicts(
        self,
        state: str | None = None,
        limit: int = 1000,
        involving: str | None = None,
        after: tuple[str, str] | None = None,
    ) -> list[ConflictRecord]:
        """Newest opened first, by (opened_at, pair), strictly past ``after``."""
        c = t.conflicts.c
        query = select(t.conflicts)
        if state is not None:
            query = query.where(c.state == state)
        if involving is not None:
            query = query.where(or_(c.notice_a == involving, c.notice_b == involving))
        if after is not None:
            query = query.where(past((c.opened_at, c.pair), after, descending=True))
        query = query.order_by(c.opened_at.desc(), c.pair.desc()).limit(limit)
        return [conflict_record(r) for r in await self.database.fetch(query)]

    async def record_conflicts(
        self, upserts: Sequence[ConflictDetail], closes: Sequence[str], at: str
    ) -> None:
        """Open or update the given conflicts and close the given pairs, in one transaction."""
        if not upserts and not closes:
            return
        async with self.database.transaction() as conn:
            for c in upserts:
                pair = f"{c['notice_a']}~{c['notice_b']}"
                found = (
                    await conn.execute(select(t.conflicts.c.state).where(t.conflicts.c.pair == pair))
                ).first()
                values = {"key": c["key"], "state": "open", "detail": json.dumps(c, sort_keys=True)}
                if found is None:
                    await conn.execute(
                        insert(t.conflicts).values(
                            pair=pair,
                            notice_a=c["notice_a"],
                            notice_b=c["notice_b"],
                            opened_at=at,
                            updated_at=at,
                            **values,
                        )
                    )
                else:
                    opened = {"opened_at": at} if found.state != "open" else {}
                    await conn.execute(
                        update(t.conflicts)
                        .where(t.conflicts.c.pair == pair)
                        .values(updated_at=at, closed_at=None, **values, **opened)
                    )
            for pair in closes:
                await conn.execute(
                    update(t.conflicts)
                    .where(and_(t.conflicts.c.pair == pair, t.conflicts.c.state == "open"))
                    .values(state="closed", closed_at=at, updated_at=at)
                )
            detail = {"opened_or_updated": [c["key"] for c in upserts], "closed": list(closes)}
            await insert_audit(conn, [(at, "system", "conflicts", detail)])
