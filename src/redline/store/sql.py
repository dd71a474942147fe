"""The SQLAlchemy Core implementation of the station store."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Connection, CursorResult, Engine, Executable, and_, case, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from redline.domain.stations import LinkChains, OperatorRecord, PeerRecord, Role
from redline.errors import Conflict, StoreError
from redline.protocol import GENESIS_DIGEST
from redline.store import schema as t
from redline.store.engine import make_engine, migrate

Row = dict[str, Any]


def _peer(row: Any) -> PeerRecord:
    return PeerRecord(
        station_id=row.station_id,
        name=row.name,
        signing_key=row.signing_key,
        encryption_key=row.encryption_key,
        tls_fingerprint=row.tls_fingerprint,
        tls_certificate=row.tls_certificate,
        endpoints=tuple(json.loads(row.endpoints)),
        card=row.card,
        added_at=row.added_at,
        verified_at=row.verified_at,
    )


class _LoopThreadConnection:
    """A synchronous SQLite connection behind the same awaitable ``execute`` as AsyncConnection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        if parameters is None:
            return self._conn.execute(statement)
        return self._conn.execute(statement, parameters)


Executor = AsyncConnection | _LoopThreadConnection


class WriteTx:
    """Every row change happens through one of these, inside one transaction."""

    def __init__(self, conn: Executor, postgres: bool) -> None:
        self._conn = conn
        self._postgres = postgres

    async def execute(self, statement: Executable) -> CursorResult[Any]:
        """Run one statement of a store module outside this file (e.g. ``store.console``)."""
        return await self._conn.execute(statement)

    async def upsert_notice(self, row: Row) -> bool:
        """Store a notice version unless we hold this or a later one; True if it was stored."""
        query = select(t.notices.c.version).where(t.notices.c.id == row["id"])
        found = (await self._conn.execute(query)).first()
        if found is None:
            await self._conn.execute(insert(t.notices).values(**row))
        elif row["version"] > found.version:
            await self._conn.execute(update(t.notices).where(t.notices.c.id == row["id"]).values(**row))
        return found is None or row["version"] > found.version

    async def cancel_notice(self, notice_id: str, party: str, version: int, at: str, by: str) -> bool:
        """A party's cancellation of its notice (a later version than we hold)."""
        result = await self._conn.execute(
            update(t.notices)
            .where(
                and_(t.notices.c.id == notice_id, t.notices.c.party == party, t.notices.c.version < version)
            )
            .values(state="cancelled", version=version, updated_at=at, updated_by=by)
        )
        return bool(result.rowcount)

    async def link_chains(self, peer_id: str) -> LinkChains:
        query = select(t.links).where(t.links.c.peer_id == peer_id)
        if self._postgres:
            query = query.with_for_update()
        row = (await self._conn.execute(query)).first()
        if row is None:
            await self._conn.execute(
                insert(t.links).values(
                    peer_id=peer_id,
                    out_next_seq=1,
                    out_last_digest=GENESIS_DIGEST,
                    in_next_seq=1,
                    in_last_digest=GENESIS_DIGEST,
                )
            )
            return LinkChains(peer_id, 1, GENESIS_DIGEST, 1, GENESIS_DIGEST)
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
        await self._conn.execute(
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
        await self._conn.execute(update(t.links).where(t.links.c.peer_id == peer_id).values(**values))

    async def set_peer_scorecard(self, peer_id: str, scorecard: str) -> None:
        await self._conn.execute(
            update(t.links).where(t.links.c.peer_id == peer_id).values(peer_scorecard=scorecard)
        )

    async def insert_messages(self, rows: Sequence[Row]) -> None:
        if rows:
            try:
                await self._conn.execute(insert(t.messages), list(rows))
            except IntegrityError:
                raise Conflict("a message id or chain position is already taken") from None

    async def inbound_positions(self, peer_id: str, seqs: Iterable[int]) -> dict[int, tuple[str, str | None]]:
        """seq -> (digest, receipt id) for envelopes already stored from ``peer_id``."""
        wanted = sorted(set(seqs))
        if not wanted:
            return {}
        rows = await self._conn.execute(
            select(t.messages.c.seq, t.messages.c.digest, t.messages.c.receipt_id).where(
                and_(
                    t.messages.c.peer_id == peer_id,
                    t.messages.c.direction == "inbound",
                    t.messages.c.seq.in_(wanted),
                )
            )
        )
        return {r.seq: (r.digest, r.receipt_id) for r in rows}

    async def insert_receipt(self, receipt_id: str, peer_id: str, direction: str, body: str, at: str) -> None:
        """Store a receipt; storing the same receipt again (a retransmitted answer) does nothing."""
        dialect_insert = postgresql.insert if self._postgres else sqlite.insert
        await self._conn.execute(
            dialect_insert(t.receipts)
            .values(id=receipt_id, peer_id=peer_id, direction=direction, body=body, at=at)
            .on_conflict_do_nothing(index_elements=["id"])
        )

    async def receipts_by_id(self, ids: Iterable[str]) -> list[str]:
        wanted = sorted(set(ids))
        if not wanted:
            return []
        rows = await self._conn.execute(select(t.receipts.c.body).where(t.receipts.c.id.in_(wanted)))
        return [r.body for r in rows]

    async def mark_delivered(
        self, peer_id: str, seqs: Sequence[int], receipt_id: str, at: str, sent_at: str
    ) -> None:
        m = t.messages.c
        await self._conn.execute(
            update(t.messages)
            .where(
                and_(
                    m.peer_id == peer_id,
                    m.direction == "outbound",
                    m.seq.in_(list(seqs)),
                    m.receipt_id.is_(None),
                )
            )
            .values(
                # The peer's answer (an acknowledgement, a link-test reply) may overtake the
                # receipt: the receipt is still recorded, and the state never goes backwards.
                state=case((m.state.in_(("queued", "sent")), "delivered"), else_=m.state),
                delivered_at=at,
                receipt_id=receipt_id,
                sent_at=func.coalesce(m.sent_at, sent_at),
            )
        )

    async def mark_acknowledged(
        self, message_id: str, direction: str, by: str, at: str, ack_message_id: str
    ) -> bool:
        """Record a human acknowledgement once; False if it was already acknowledged."""
        result = await self._conn.execute(
            update(t.messages)
            .where(
                and_(
                    t.messages.c.id == message_id,
                    t.messages.c.direction == direction,
                    t.messages.c.acked_at.is_(None),
                )
            )
            .values(state="acknowledged", acked_at=at, acked_by=by, ack_message_id=ack_message_id)
        )
        return bool(result.rowcount)

    async def message(self, message_id: str) -> Row | None:
        row = (await self._conn.execute(select(t.messages).where(t.messages.c.id == message_id))).first()
        return dict(row._mapping) if row else None

    async def insert_equivocation(
        self, peer_id: str, seq: int, known_digest: str, envelope: str, reason: str, at: str
    ) -> bool:
        """Record an equivocation once; False if this very envelope was recorded before."""
        seen = await self._conn.execute(
            select(t.equivocations.c.id).where(
                and_(
                    t.equivocations.c.peer_id == peer_id,
                    t.equivocations.c.seq == seq,
                    t.equivocations.c.envelope == envelope,
                )
            )
        )
        if seen.first() is not None:
            return False
        await self._conn.execute(
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

    async def audit(self, at: str, actor: str, action: str, detail: dict[str, Any]) -> None:
        await self.audit_many([(at, actor, action, detail)])

    async def audit_many(self, events: Sequence[tuple[str, str, str, dict[str, Any]]]) -> None:
        if events:
            await self._conn.execute(
                insert(t.audit_log),
                [
                    {"at": at, "actor": actor, "action": action, "detail": json.dumps(detail, sort_keys=True)}
                    for at, actor, action, detail in events
                ],
            )


async def _dispose(engine: Engine | AsyncEngine) -> None:
    if isinstance(engine, AsyncEngine):
        await engine.dispose()
    else:
        engine.dispose()


class Store:
    """A station's database. Open with :meth:`open`; close with :meth:`close`."""

    def __init__(self, engine: Engine | AsyncEngine) -> None:
        self._engine = engine
        self.postgres = isinstance(engine, AsyncEngine)
        # SQLite has one writer at a time. Queue our own writers here rather than in
        # SQLite's busy handler, which sleeps in growing steps and wrecks latency.
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, url: str) -> Store:
        engine = make_engine(url)
        try:
            await migrate(engine)
        except (SQLAlchemyError, OSError) as exc:
            await _dispose(engine)
            raise StoreError(f"cannot open database {url!r}: {exc}") from None
        return cls(engine)

    async def close(self) -> None:
        await _dispose(self._engine)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[WriteTx]:
        """One transaction; commits on success, rolls back on any exception."""
        if isinstance(self._engine, AsyncEngine):
            async with self._engine.connect() as conn:
                conn = await conn.execution_options(redline_write=True)
                async with conn.begin():
                    yield WriteTx(conn, postgres=True)
            return
        async with self._write_lock:
            with self._engine.connect() as sync_conn:
                sync_conn = sync_conn.execution_options(redline_write=True)
                transaction = sync_conn.begin()
                try:
                    yield WriteTx(_LoopThreadConnection(sync_conn), postgres=False)
                except BaseException:
                    transaction.rollback()
                    raise
                # The commit waits for fsync: let the loop serve requests meanwhile (they queue
                # up for the next group commit). The write lock keeps the connection ours.
                await asyncio.to_thread(transaction.commit)

    async def read(self, query: Any) -> list[Any]:
        """Rows of one query, for store modules outside this file."""
        return await self._all(query)

    async def _all(self, query: Any) -> list[Any]:
        if isinstance(self._engine, AsyncEngine):
            async with self._engine.connect() as conn:
                return list(await conn.execute(query))
        with self._engine.connect() as sync_conn:
            return list(sync_conn.execute(query))

    # -- peers --------------------------------------------------------------

    async def add_peer(self, values: Row) -> None:
        try:
            async with self.write() as tx:
                await tx._conn.execute(insert(t.peers).values(**values))
                await tx.audit(values["added_at"], "admin", "peer_add", {"peer": values["station_id"]})
        except IntegrityError:
            raise Conflict(
                f"peer {values['station_id']!r} (or its TLS certificate) is already known; "
                "remove it first to replace its card"
            ) from None

    async def replace_unverified_peer(self, values: Row) -> None:
        async with self.write() as tx:
            await tx._conn.execute(
                update(t.peers)
                .where(and_(t.peers.c.station_id == values["station_id"], t.peers.c.verified_at.is_(None)))
                .values(**values)
            )

    async def peer(self, station_id: str) -> PeerRecord | None:
        rows = await self._all(select(t.peers).where(t.peers.c.station_id == station_id))
        return _peer(rows[0]) if rows else None

    async def peers(self) -> list[PeerRecord]:
        return [_peer(r) for r in await self._all(select(t.peers).order_by(t.peers.c.station_id))]

    async def mark_peer_verified(self, station_id: str, at: str) -> None:
        async with self.write() as tx:
            await tx._conn.execute(
                update(t.peers).where(t.peers.c.station_id == station_id).values(verified_at=at)
            )
            await tx.audit(at, "admin", "peer_verify", {"peer": station_id})

    # -- operators ----------------------------------------------------------

    async def add_operator(self, name: str, role: Role, token_hash: str, at: str) -> None:
        try:
            async with self.write() as tx:
                await tx._conn.execute(
                    insert(t.operators).values(
                        name=name, role=role.value, token_hash=token_hash, created_at=at
                    )
                )
                await tx.audit(at, "admin", "operator_add", {"operator": name, "role": role.value})
        except IntegrityError:
            raise Conflict(f"operator {name!r} already exists") from None

    async def operator_by_token_hash(self, token_hash: str) -> OperatorRecord | None:
        rows = await self._all(select(t.operators).where(t.operators.c.token_hash == token_hash))
        return OperatorRecord(rows[0].id, rows[0].name, Role(rows[0].role)) if rows else None

    # -- messages -----------------------------------------------------------

    async def message(self, message_id: str) -> Row | None:
        rows = await self._all(select(t.messages).where(t.messages.c.id == message_id))
        return dict(rows[0]._mapping) if rows else None

    async def messages(
        self, direction: str, limit: int, peer_id: str | None = None, kinds: Sequence[str] | None = None
    ) -> list[Row]:
        query = select(t.messages).where(t.messages.c.direction == direction)
        if kinds is not None:
            query = query.where(t.messages.c.kind.in_(list(kinds)))
        if peer_id is not None:
            query = query.where(t.messages.c.peer_id == peer_id)
        query = query.order_by(t.messages.c.stored_at.desc(), t.messages.c.seq.desc()).limit(limit)
        return [dict(r._mapping) for r in await self._all(query)]

    async def chain(self, peer_id: str, direction: str) -> list[tuple[int, str, str]]:
        """(seq, prev digest from the envelope, digest) in order: the transcript of one direction."""
        rows = await self._all(
            select(t.messages.c.seq, t.messages.c.envelope, t.messages.c.digest)
            .where(and_(t.messages.c.peer_id == peer_id, t.messages.c.direction == direction))
            .order_by(t.messages.c.seq)
        )
        return [(r.seq, json.loads(r.envelope)["prev"], r.digest) for r in rows]

    async def undelivered(self, peer_id: str, from_seq: int, limit: int) -> list[tuple[int, str]]:
        """(seq, envelope JSON) of outbound envelopes from ``from_seq`` on, in order."""
        rows = await self._all(
            select(t.messages.c.seq, t.messages.c.envelope)
            .where(
                and_(
                    t.messages.c.peer_id == peer_id,
                    t.messages.c.direction == "outbound",
                    t.messages.c.seq >= from_seq,
                )
            )
            .order_by(t.messages.c.seq)
            .limit(limit)
        )
        return [(r.seq, r.envelope) for r in rows]

    async def first_unreceipted_seq(self, peer_id: str) -> tuple[int, int]:
        """(lowest outbound seq without a receipt or 0, highest outbound seq or 0)."""
        rows = await self._all(
            select(
                func.min(t.messages.c.seq).filter(t.messages.c.state.in_(("queued", "sent"))),
                func.max(t.messages.c.seq),
            ).where(and_(t.messages.c.peer_id == peer_id, t.messages.c.direction == "outbound"))
        )
        low, high = rows[0]
        return int(low or 0), int(high or 0)

    async def mark_sent(self, peer_id: str, seqs: Sequence[int], at: str) -> None:
        async with self.write() as tx:
            await tx._conn.execute(
                update(t.messages)
                .where(
                    and_(
                        t.messages.c.peer_id == peer_id,
                        t.messages.c.direction == "outbound",
                        t.messages.c.seq.in_(list(seqs)),
                        t.messages.c.state == "queued",
                    )
                )
                .values(state="sent", sent_at=at)
            )

    async def outbound_digests(self, peer_id: str, seqs: Iterable[int]) -> dict[int, str]:
        """seq -> digest of our own envelopes to ``peer_id``."""
        wanted = sorted(set(seqs))
        if not wanted:
            return {}
        rows = await self._all(
            select(t.messages.c.seq, t.messages.c.digest).where(
                and_(
                    t.messages.c.peer_id == peer_id,
                    t.messages.c.direction == "outbound",
                    t.messages.c.seq.in_(wanted),
                )
            )
        )
        return {r.seq: r.digest for r in rows}

    async def escalate_overdue(self, now: str) -> list[Row]:
        """Mark every unacknowledged message past its deadline as escalated, once; return them."""
        m = t.messages.c
        due = and_(m.acked_at.is_(None), m.escalated_at.is_(None), m.deadline.is_not(None), m.deadline < now)
        # The scan runs every few seconds: look first, and take the write lock (and a commit's
        # fsync) only when something is due.
        if not await self._all(select(m.id).where(due).limit(1)):
            return []
        async with self.write() as tx:
            rows = [dict(r._mapping) for r in await tx._conn.execute(select(t.messages).where(due))]
            if rows:
                await tx._conn.execute(
                    update(t.messages).where(m.id.in_([r["id"] for r in rows])).values(escalated_at=now)
                )
                await tx.audit_many(
                    [
                        (
                            now,
                            "system",
                            "escalate",
                            {
                                "message": r["id"],
                                "peer": r["peer_id"],
                                "direction": r["direction"],
                                "deadline": r["deadline"],
                            },
                        )
                        for r in rows
                    ]
                )
        return rows

    async def escalations(self, limit: int = 200) -> list[Row]:
        m = t.messages.c
        query = (
            select(m.id, m.direction, m.peer_id, m.precedence, m.ts, m.deadline, m.escalated_at, m.acked_at)
            .where(m.escalated_at.is_not(None))
            .order_by(m.escalated_at.desc())
            .limit(limit)
        )
        return [dict(r._mapping) for r in await self._all(query)]

    async def link_row(self, peer_id: str) -> Row | None:
        rows = await self._all(select(t.links).where(t.links.c.peer_id == peer_id))
        return dict(rows[0]._mapping) if rows else None

    async def answered_history(self, peer_id: str, kind: str, limit: int) -> list[Row]:
        """Our latest messages of ``kind`` to ``peer_id``: precedence, ts, acked_at, deadline."""
        m = t.messages.c
        rows = await self._all(
            select(m.precedence, m.ts, m.acked_at, m.deadline)
            .where(and_(m.peer_id == peer_id, m.direction == "outbound", m.kind == kind))
            .order_by(m.seq.desc())
            .limit(limit)
        )
        return [dict(r._mapping) for r in rows]

    async def kind_counts(self, peer_id: str, kind: str, direction: str) -> tuple[int, int]:
        """(messages of ``kind``, of which answered) on the link with ``peer_id``."""
        m = t.messages.c
        rows = await self._all(
            select(func.count(), func.count(m.acked_at)).where(
                and_(m.peer_id == peer_id, m.direction == direction, m.kind == kind)
            )
        )
        return int(rows[0][0]), int(rows[0][1])

    async def raise_link_alarm(self, peer_id: str, state: str, detail: str, at: str) -> None:
        async with self.write() as tx:
            await tx._conn.execute(
                update(t.link_alarms)
                .where(and_(t.link_alarms.c.peer_id == peer_id, t.link_alarms.c.cleared_at.is_(None)))
                .values(cleared_at=at)
            )
            await tx._conn.execute(
                insert(t.link_alarms).values(peer_id=peer_id, state=state, detail=detail, raised_at=at)
            )

    async def clear_link_alarms(self, peer_id: str, at: str) -> None:
        async with self.write() as tx:
            await tx._conn.execute(
                update(t.link_alarms)
                .where(and_(t.link_alarms.c.peer_id == peer_id, t.link_alarms.c.cleared_at.is_(None)))
                .values(cleared_at=at)
            )

    async def link_alarms(self, limit: int = 200) -> list[Row]:
        query = select(t.link_alarms).order_by(t.link_alarms.c.id.desc()).limit(limit)
        return [dict(r._mapping) for r in await self._all(query)]

    async def receipt(self, receipt_id: str) -> str | None:
        rows = await self._all(select(t.receipts.c.body).where(t.receipts.c.id == receipt_id))
        return str(rows[0].body) if rows else None

    async def equivocations(self) -> list[Row]:
        return [
            dict(r._mapping) for r in await self._all(select(t.equivocations).order_by(t.equivocations.c.id))
        ]

    async def audit_log(self, limit: int = 200) -> list[Row]:
        query = select(t.audit_log).order_by(t.audit_log.c.id.desc()).limit(limit)
        return [dict(r._mapping) for r in await self._all(query)]

    async def counts(self) -> dict[str, int]:
        """Row counts per table: what tests compare to prove a refusal changed nothing."""
        result: dict[str, int] = {}
        for table in (t.peers, t.operators, t.links, t.messages, t.receipts, t.equivocations):
            rows = await self._all(select(func.count()).select_from(table))
            result[table.name] = int(rows[0][0])
        return result
