"""The watch in SQLAlchemy Core: held positions, the watch log, and the peers' reported watch.

Each change of a position is one transaction holding the position's row change, its
watch-log row and its audit event, so the log, the audit trail and the position never
disagree. "At most one officer per position" is the primary key of ``watch_posts``;
a handover moves the row only if it is still held by the outgoing officer with the same
note awaiting (a conditional UPDATE), so of two officers accepting at once one wins.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from redline.domain.watch import PeerWatch, Position, WatchAction, WatchEvent, WatchPost
from redline.store import schema as t
from redline.store.audit import insert_audit
from redline.store.database import Database, Executor

if TYPE_CHECKING:  # station.py imports PeerWatchWrites from here
    from redline.store.station import Store

p = t.watch_posts.c
w = t.watch_log.c


def _event(row: Any) -> WatchEvent:
    return WatchEvent(
        id=row.id,
        at=row.at,
        position=Position(row.position),
        officer=row.officer,
        action=WatchAction(row.action),
        detail=json.loads(row.detail),
    )


async def _log(
    conn: Executor,
    at: str,
    position: Position,
    officer: str,
    action: WatchAction,
    detail: dict[str, Any],
    actor: str | None = None,
) -> int:
    """One watch-log row and its audit event (by ``actor``, the officer unless given); the row's id."""
    result = await conn.execute(
        insert(t.watch_log)
        .values(
            at=at, position=position.value, officer=officer, action=action.value, detail=json.dumps(detail)
        )
        .returning(w.id)
    )
    event_id = int(result.scalar_one())
    audited = {"position": position.value, "watch_event": event_id, "officer": officer}
    audited.update({k: v for k, v in detail.items() if k in ("from", "note_id", "relieved_by")})
    await insert_audit(conn, [(at, actor or officer, f"watch_{action.value}", audited)])
    return event_id


class WatchStore:
    """Implements ``redline.services.ports.WatchTables``."""

    def __init__(self, store: Store) -> None:
        self.database: Database = store.database

    async def posts(self) -> list[WatchPost]:
        o = t.operators.c
        query = (
            select(p.position, p.officer, p.since, p.handover_id, o.display_name)
            .select_from(t.watch_posts.outerjoin(t.operators, o.name == p.officer))
            .order_by(p.position)
        )
        return [
            WatchPost(Position(r.position), r.officer, r.display_name or r.officer, r.since, r.handover_id)
            for r in await self.database.fetch(query)
        ]

    async def sign_on(self, position: Position, officer: str, at: str) -> bool:
        """Take a free position; False if someone holds it."""
        try:
            async with self.database.transaction() as conn:
                await conn.execute(
                    insert(t.watch_posts).values(position=position.value, officer=officer, since=at)
                )
                await _log(conn, at, position, officer, WatchAction.SIGN_ON, {})
        except IntegrityError:
            return False
        return True

    async def sign_off(
        self, position: Position, officer: str, at: str, relieved_by: str | None = None
    ) -> bool:
        """``officer`` leaves ``position`` (or a supervisor, ``relieved_by``, relieves them, who is
        then the audit event's actor); False if ``officer`` does not hold it."""
        async with self.database.transaction() as conn:
            gone = await conn.execute(
                delete(t.watch_posts).where(p.position == position.value, p.officer == officer)
            )
            if gone.rowcount != 1:
                return False
            detail = {"relieved_by": relieved_by} if relieved_by else {}
            await _log(conn, at, position, officer, WatchAction.SIGN_OFF, detail, actor=relieved_by)
            return True

    async def write_handover_note(
        self, position: Position, officer: str, at: str, detail: dict[str, Any]
    ) -> int | None:
        """The holder's handover note (replacing one not yet accepted); its id, or None if
        ``officer`` does not hold ``position``."""
        async with self.database.transaction() as conn:
            held = await conn.execute(
                select(p.officer).where(p.position == position.value, p.officer == officer)
            )
            if held.first() is None:
                return None
            note_id = await _log(conn, at, position, officer, WatchAction.HANDOVER_NOTE, detail)
            await conn.execute(
                update(t.watch_posts).where(p.position == position.value).values(handover_id=note_id)
            )
            return note_id

    async def accept_handover(
        self, position: Position, incoming: str, outgoing: str, note_id: int, at: str
    ) -> bool:
        """Move the position to ``incoming`` if ``outgoing`` still holds it with note ``note_id``."""
        async with self.database.transaction() as conn:
            moved = await conn.execute(
                update(t.watch_posts)
                .where(p.position == position.value, p.officer == outgoing, p.handover_id == note_id)
                .values(officer=incoming, since=at, handover_id=None)
            )
            if moved.rowcount != 1:
                return False
            detail = {"from": outgoing, "note_id": note_id, "acknowledged": True}
            await _log(conn, at, position, incoming, WatchAction.HANDOVER, detail)
            return True

    async def event(self, event_id: int) -> WatchEvent | None:
        rows = await self.database.fetch(select(t.watch_log).where(w.id == event_id))
        return _event(rows[0]) if rows else None

    async def log(self, limit: int, after: int | None = None) -> list[WatchEvent]:
        """Newest first by id (which only grows), strictly older than event ``after``."""
        query = select(t.watch_log)
        if after is not None:
            query = query.where(w.id < after)
        rows = await self.database.fetch(query.order_by(w.id.desc()).limit(limit))
        return [_event(r) for r in rows]

    async def peer_watch(self) -> list[PeerWatch]:
        pw = t.peer_watch.c
        rows = await self.database.fetch(select(t.peer_watch).order_by(pw.peer_id, pw.position))
        return [PeerWatch(r.peer_id, Position(r.position), r.officer, r.name, r.since) for r in rows]


class PeerWatchWrites:
    """What a peer says of its watch, inside the transaction that stores its service envelope."""

    conn: Executor

    async def set_peer_watch(self, peer_id: str, entries: Sequence[dict[str, Any]]) -> None:
        """Replace everything known of ``peer_id``'s watch with ``entries`` (checked already)."""
        await self.conn.execute(delete(t.peer_watch).where(t.peer_watch.c.peer_id == peer_id))
        if entries:
            await self.conn.execute(
                insert(t.peer_watch),
                [
                    {
                        "peer_id": peer_id,
                        "position": e["position"],
                        "officer": e["officer"],
                        "name": e["name"],
                        "since": e["since"],
                    }
                    for e in entries
                ],
            )
