"""Links: both chain heads, both sides' suspensions and the peer's shared scorecard.

The chain heads are read and written only inside a write transaction
(:class:`LinkWrites`), with the row locked on PostgreSQL, so two writers
never hand out the same sequence number.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from redline.domain.records import LinkRecord
from redline.domain.stations import LinkChains
from redline.errors import StoreError
from redline.protocol import GENESIS_DIGEST
from redline.store import schema as t
from redline.store.database import Database, Executor


def _link(row: Any) -> LinkRecord:
    return LinkRecord(
        peer_id=row.peer_id,
        out_next_seq=row.out_next_seq,
        out_last_digest=row.out_last_digest,
        in_next_seq=row.in_next_seq,
        in_last_digest=row.in_last_digest,
        suspended_at=row.suspended_at,
        suspended_by=row.suspended_by,
        peer_suspended_at=row.peer_suspended_at,
        peer_suspended_by=row.peer_suspended_by,
        peer_scorecard=row.peer_scorecard,
    )


class LinkWrites:
    conn: Executor
    postgres: bool

    async def link_chains(self, peer_id: str) -> LinkChains:
        """The link's row, locked for this transaction (created at genesis on first use)."""
        query = select(t.links).where(t.links.c.peer_id == peer_id)
        if self.postgres:
            query = query.with_for_update()
        row = (await self.conn.execute(query)).first()
        if row is None:
            # Two transactions can both find no row (a link test going out while the peer's first
            # batch comes in): a plain INSERT would fail one of them. Insert if still missing, then
            # read it locked; PostgreSQL makes the second wait for the first and then see its row.
            dialect_insert = postgresql.insert if self.postgres else sqlite.insert
            await self.conn.execute(
                dialect_insert(t.links)
                .values(
                    peer_id=peer_id,
                    out_next_seq=1,
                    out_last_digest=GENESIS_DIGEST,
                    in_next_seq=1,
                    in_last_digest=GENESIS_DIGEST,
                )
                .on_conflict_do_nothing(index_elements=["peer_id"])
            )
            row = (await self.conn.execute(query)).first()
            if row is None:
                raise StoreError(f"the link row of {peer_id} vanished while it was being created")
        suspended = None
        if row.suspended_at or row.peer_suspended_at:
            at, by = (
                (row.suspended_at, row.suspended_by)
                if row.suspended_at
                else (row.peer_suspended_at, row.peer_suspended_by)
            )
            suspended = f"since {at} by {by}"
        return LinkChains(
            row.peer_id, row.out_next_seq, row.out_last_digest, row.in_next_seq, row.in_last_digest, suspended
        )

    async def save_link_chains(self, chains: LinkChains) -> None:
        await self.conn.execute(
            update(t.links)
            .where(t.links.c.peer_id == chains.peer_id)
            .values(
                out_next_seq=chains.out_next_seq,
                out_last_digest=chains.out_last_digest,
                in_next_seq=chains.in_next_seq,
                in_last_digest=chains.in_last_digest,
            )
        )

    async def set_suspension(self, peer_id: str, suspended_at: str | None, by: str, *, peers: bool) -> None:
        """Record this station's suspension of the link, or (``peers``) the peer's."""
        values = (
            {"peer_suspended_at": suspended_at, "peer_suspended_by": by}
            if peers
            else {"suspended_at": suspended_at, "suspended_by": by}
        )
        await self.conn.execute(update(t.links).where(t.links.c.peer_id == peer_id).values(**values))

    async def set_peer_scorecard(self, peer_id: str, scorecard: str) -> None:
        await self.conn.execute(
            update(t.links).where(t.links.c.peer_id == peer_id).values(peer_scorecard=scorecard)
        )


class LinkReads:
    database: Database

    async def link_row(self, peer_id: str) -> LinkRecord | None:
        rows = await self.database.fetch(select(t.links).where(t.links.c.peer_id == peer_id))
        return _link(rows[0]) if rows else None
