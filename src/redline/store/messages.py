"""Messages and receipts: the outbox and inbox of every link, and their delivery states.

A message's stored state changes only as :mod:`redline.domain.delivery`'s
transition table says: each update selects the rows whose state accepts the
event (:func:`states_accepting`) and sets the state with a CASE built from
the same table (:func:`moved_by`), so no state name is written into SQL here.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from redline.domain.delivery import DeliveryEvent, initial_state, moved_by, states_accepting
from redline.domain.messages import DeliveryState, Direction, MessageKind, Precedence
from redline.domain.records import MessageRecord
from redline.domain.search import SEARCHED_KINDS, search_text
from redline.errors import Conflict, LocalProtocolError
from redline.store import schema as t
from redline.store.database import Database, Executor, past

m = t.messages.c

# The event that brings a message of each direction into the store.
ENTERING = {Direction.OUTBOUND: DeliveryEvent.COMMITTED, Direction.INBOUND: DeliveryEvent.STORED}
# The precedences the needs-action list puts first, in this order (``MessageReads.awaiting_ack``).
URGENT = (Precedence.FLASH, Precedence.IMMEDIATE)


def message_record(row: Any) -> MessageRecord:
    return MessageRecord(
        id=row.id,
        direction=Direction(row.direction),
        peer_id=row.peer_id,
        seq=row.seq,
        kind=MessageKind(row.kind),
        precedence=Precedence(row.precedence),
        ts=row.ts,
        body=row.body,
        envelope=row.envelope,
        digest=row.digest,
        state=DeliveryState(row.state),
        deadline=row.deadline,
        created_by=row.created_by,
        stored_at=row.stored_at,
        sent_at=row.sent_at,
        delivered_at=row.delivered_at,
        receipt_id=row.receipt_id,
        ack_of=row.ack_of,
        acked_at=row.acked_at,
        acked_by=row.acked_by,
        ack_message_id=row.ack_message_id,
        escalated_at=row.escalated_at,
        in_reply_to=row.in_reply_to,
        expects_reply=bool(row.expects_reply),
    )


# The record's fields; the search text is made from its body (domain.search) as it is stored.
_COLUMNS = tuple(column.name for column in t.messages.columns if column.name != "search_text")


def _values(record: MessageRecord) -> dict[str, Any]:
    entering = initial_state(record.direction, ENTERING[record.direction])
    if record.state is not entering:
        raise LocalProtocolError(
            f"a new {record.direction.value} message starts {entering.value}, not {record.state.value}"
        )
    values = {name: getattr(record, name) for name in _COLUMNS}
    for name in ("direction", "kind", "precedence", "state"):
        values[name] = values[name].value
    searched = record.kind in SEARCHED_KINDS  # parse the body only where there is text to find
    values["search_text"] = search_text(record.kind, json.loads(record.body)) if searched else ""
    return values


def _ours(peer_id: str, *conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    """Our envelopes to ``peer_id`` that meet ``conditions``."""
    return and_(m.peer_id == peer_id, m.direction == Direction.OUTBOUND.value, *conditions)


@functools.cache
def accepting(event: DeliveryEvent) -> ColumnElement[bool]:
    """The rows whose stored state ``event`` may move (built once per event: the table is fixed)."""
    return m.state.in_(sorted(state.value for state in states_accepting(event)))


@functools.cache
def state_after(event: DeliveryEvent) -> Any:
    """The new state of each row ``event`` moves, as the transition table says."""
    moves = sorted(moved_by(event).items())
    return case(*((m.state == before.value, after.value) for before, after in moves), else_=m.state)


class MessageWrites:
    """Messages and receipts inside a write transaction."""

    conn: Executor
    postgres: bool

    async def insert_messages(self, records: Sequence[MessageRecord]) -> None:
        if records:
            try:
                await self.conn.execute(insert(t.messages), [_values(r) for r in records])
            except IntegrityError:
                raise Conflict("a message id or chain position is already taken") from None

    async def inbound_positions(self, peer_id: str, seqs: Iterable[int]) -> dict[int, tuple[str, str | None]]:
        """seq -> (digest, receipt id) for envelopes already stored from ``peer_id``."""
        wanted = sorted(set(seqs))
        if not wanted:
            return {}
        rows = await self.conn.execute(
            select(m.seq, m.digest, m.receipt_id).where(
                and_(m.peer_id == peer_id, m.direction == Direction.INBOUND.value, m.seq.in_(wanted))
            )
        )
        return {r.seq: (r.digest, r.receipt_id) for r in rows}

    async def insert_receipt(self, receipt_id: str, peer_id: str, direction: str, body: str, at: str) -> None:
        """Store a receipt; storing the same receipt again (a retransmitted answer) does nothing."""
        dialect_insert = postgresql.insert if self.postgres else sqlite.insert
        await self.conn.execute(
            dialect_insert(t.receipts)
            .values(id=receipt_id, peer_id=peer_id, direction=direction, body=body, at=at)
            .on_conflict_do_nothing(index_elements=["id"])
        )

    async def receipts_by_id(self, ids: Iterable[str]) -> list[str]:
        wanted = sorted(set(ids))
        if not wanted:
            return []
        rows = await self.conn.execute(select(t.receipts.c.body).where(t.receipts.c.id.in_(wanted)))
        return [r.body for r in rows]

    async def mark_delivered(
        self, peer_id: str, seqs: Sequence[int], receipt_id: str, at: str, sent_at: str
    ) -> None:
        """Apply the peer's receipt to our envelopes ``seqs`` (``DeliveryEvent.RECEIPTED``).

        The peer's answer (an acknowledgement, a link-test reply) may overtake the receipt:
        the receipt is still recorded, and the table keeps the state from going backwards.
        """
        event = DeliveryEvent.RECEIPTED
        await self.conn.execute(
            update(t.messages)
            .where(_ours(peer_id, m.seq.in_(list(seqs)), m.receipt_id.is_(None), accepting(event)))
            .values(
                state=state_after(event),
                delivered_at=at,
                receipt_id=receipt_id,
                sent_at=func.coalesce(m.sent_at, sent_at),
            )
        )

    async def mark_acknowledged(
        self, message_id: str, direction: Direction, by: str, at: str, ack_message_id: str
    ) -> bool:
        """Record a human acknowledgement once (``DeliveryEvent.ACKNOWLEDGED``); False if it
        was already acknowledged."""
        event = DeliveryEvent.ACKNOWLEDGED
        result = await self.conn.execute(
            update(t.messages)
            .where(
                and_(
                    m.id == message_id, m.direction == direction.value, m.acked_at.is_(None), accepting(event)
                )
            )
            .values(state=state_after(event), acked_at=at, acked_by=by, ack_message_id=ack_message_id)
        )
        return bool(result.rowcount)

    async def message(self, message_id: str) -> MessageRecord | None:
        row = (await self.conn.execute(select(t.messages).where(m.id == message_id))).first()
        return message_record(row) if row else None


class MessageReads:
    database: Database

    async def message(self, message_id: str) -> MessageRecord | None:
        rows = await self.database.fetch(select(t.messages).where(m.id == message_id))
        return message_record(rows[0]) if rows else None

    async def messages(
        self,
        direction: Direction,
        limit: int,
        peer_id: str | None = None,
        kinds: Sequence[MessageKind] | None = None,
    ) -> list[MessageRecord]:
        """Newest first by (stored_at, id), at most ``limit`` (searching and paging:
        ``search_messages``)."""
        query = select(t.messages).where(m.direction == direction.value)
        if kinds is not None:
            query = query.where(m.kind.in_([k.value for k in kinds]))
        if peer_id is not None:
            query = query.where(m.peer_id == peer_id)
        query = query.order_by(m.stored_at.desc(), m.id.desc()).limit(limit)
        return [message_record(r) for r in await self.database.fetch(query)]

    async def link_messages(
        self,
        peer_id: str,
        limit: int,
        kinds: Sequence[MessageKind],
        *,
        after: tuple[str, str] | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> list[MessageRecord]:
        """Both directions of one link, oldest first by (stored_at, id), at most ``limit``,
        strictly past ``after``; stored at or after ``since`` and before ``until``."""
        query = select(t.messages).where(m.peer_id == peer_id, m.kind.in_([k.value for k in kinds]))
        if since is not None:
            query = query.where(m.stored_at >= since)
        if until is not None:
            query = query.where(m.stored_at < until)
        if after is not None:
            query = query.where(past((m.stored_at, m.id), after, descending=False))
        query = query.order_by(m.stored_at, m.id).limit(limit)
        return [message_record(r) for r in await self.database.fetch(query)]

    async def awaiting_ack(self, direction: Direction, limit: int) -> tuple[list[MessageRecord], int, int]:
        """Messages of ``direction`` whose human acknowledgement is still due, the most urgent
        first (FLASH, then IMMEDIATE, then the rest; each by deadline), at most ``limit``; with how
        many there are in all and how many of them are FLASH, counted in the same statement (window
        functions run before the LIMIT), so the counts always agree with the rows."""
        pending = and_(m.direction == direction.value, m.deadline.is_not(None), m.acked_at.is_(None))
        rank = case(*((m.precedence == p.value, i) for i, p in enumerate(URGENT)), else_=len(URGENT))
        total = func.count().over().label("pending_total")
        is_flash = case((m.precedence == Precedence.FLASH.value, 1), else_=0)
        flash = func.sum(is_flash).over().label("pending_flash")
        rows = await self.database.fetch(
            select(t.messages, total, flash).where(pending).order_by(rank, m.deadline, m.id).limit(limit)
        )
        if not rows:
            return [], 0, 0
        return [message_record(r) for r in rows], int(rows[0].pending_total), int(rows[0].pending_flash)

    async def chain(self, peer_id: str, direction: Direction) -> list[tuple[int, str, str]]:
        """(seq, prev digest from the envelope, digest) in order: the transcript of one direction."""
        rows = await self.database.fetch(
            select(m.seq, m.envelope, m.digest)
            .where(and_(m.peer_id == peer_id, m.direction == direction.value))
            .order_by(m.seq)
        )
        return [(r.seq, json.loads(r.envelope)["prev"], r.digest) for r in rows]

    async def log_digests(
        self, peer_id: str, direction: Direction, size: int | None = None
    ) -> list[tuple[int, str]]:
        """(seq, digest) of one direction of one link by seq, those with seq <= ``size`` if given:
        the leaves of its Merkle log (services/queries/logs.py), without the envelopes."""
        query = select(m.seq, m.digest).where(and_(m.peer_id == peer_id, m.direction == direction.value))
        if size is not None:
            query = query.where(m.seq <= size)
        return [(r.seq, r.digest) for r in await self.database.fetch(query.order_by(m.seq))]

    async def undelivered(self, peer_id: str, from_seq: int, limit: int) -> list[tuple[int, str]]:
        """(seq, envelope JSON) of outbound envelopes from ``from_seq`` on, in order."""
        rows = await self.database.fetch(
            select(m.seq, m.envelope).where(_ours(peer_id, m.seq >= from_seq)).order_by(m.seq).limit(limit)
        )
        return [(r.seq, r.envelope) for r in rows]

    async def first_unreceipted_seq(self, peer_id: str) -> tuple[int, int]:
        """(lowest outbound seq a receipt would still move or 0, highest outbound seq or 0)."""
        awaiting = [s.value for s, after in moved_by(DeliveryEvent.RECEIPTED).items() if after is not s]
        rows = await self.database.fetch(
            select(func.min(m.seq).filter(m.state.in_(sorted(awaiting))), func.max(m.seq)).where(
                _ours(peer_id)
            )
        )
        low, high = rows[0]
        return int(low or 0), int(high or 0)

    async def mark_sent(self, peer_id: str, seqs: Sequence[int], at: str) -> None:
        """``DeliveryEvent.TRANSMITTED`` for our envelopes ``seqs`` (only queued ones move)."""
        event = DeliveryEvent.TRANSMITTED
        async with self.database.transaction() as conn:
            await conn.execute(
                update(t.messages)
                .where(_ours(peer_id, m.seq.in_(list(seqs)), accepting(event)))
                .values(state=state_after(event), sent_at=at)
            )

    async def outbound_digests(self, peer_id: str, seqs: Iterable[int]) -> dict[int, str]:
        """seq -> digest of our own envelopes to ``peer_id``."""
        wanted = sorted(set(seqs))
        if not wanted:
            return {}
        rows = await self.database.fetch(select(m.seq, m.digest).where(_ours(peer_id, m.seq.in_(wanted))))
        return {r.seq: r.digest for r in rows}

    async def receipt(self, receipt_id: str) -> str | None:
        rows = await self.database.fetch(select(t.receipts.c.body).where(t.receipts.c.id == receipt_id))
        return str(rows[0].body) if rows else None

    async def answered_history(self, peer_id: str, kind: MessageKind, limit: int) -> list[MessageRecord]:
        """Our latest messages of ``kind`` to ``peer_id``, newest first."""
        rows = await self.database.fetch(
            select(t.messages).where(_ours(peer_id, m.kind == kind.value)).order_by(m.seq.desc()).limit(limit)
        )
        return [message_record(r) for r in rows]

    async def receipt_counts(self, direction: Direction) -> tuple[int, int]:
        """(messages in ``direction`` on every link, of which receipted): how far delivery has come."""
        rows = await self.database.fetch(
            select(func.count(), func.count(m.receipt_id)).where(m.direction == direction.value)
        )
        return int(rows[0][0]), int(rows[0][1])

    async def kind_counts(self, peer_id: str, kind: MessageKind, direction: Direction) -> tuple[int, int]:
        """(messages of ``kind``, of which answered) on the link with ``peer_id``."""
        rows = await self.database.fetch(
            select(func.count(), func.count(m.acked_at)).where(
                and_(m.peer_id == peer_id, m.direction == direction.value, m.kind == kind.value)
            )
        )
        return int(rows[0][0]), int(rows[0][1])
