"""Accepting outgoing messages: validate, then sign, seal and commit in groups.

Callers ``submit`` a draft and wait. One writer task drains all waiting drafts
into a single transaction: per peer it locks the link row, runs each draft's
sender effect (its kind's ``on_send`` in :mod:`redline.services.kinds`, which may
refuse that draft alone), numbers the envelopes, chains them to the previous
digest, signs and seals each, inserts them, and commits once. Only then do
callers get their message ids (the API's 201) and the delivery workers hear of
the new envelopes. A crash before the
commit loses nothing that was acknowledged to a caller; a crash after it
leaves the envelopes in the outbox for the workers to send on restart.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from redline.crypto.keys import parse_encryption_key
from redline.domain.clock import SYSTEM_CLOCK, Clock, format_ts
from redline.domain.messages import Direction
from redline.domain.records import MessageRecord
from redline.domain.stations import PeerRecord
from redline.errors import Conflict, RedlineError, StoreError, _t
from redline.services.kinds.base import KindRegistry, OutboundDraft, Sending
from redline.services.kinds.rows import message_record
from redline.services.ports import StationStore, WriteTransaction
from redline.services.station import StationIdentity
from redline.wire.envelope import build_envelope

log = logging.getLogger(__name__)
MAX_GROUP = 512
GATHER_YIELDS = 3
__all__ = ["Committed", "OutboundDraft", "Outbox"]


@dataclass(frozen=True, slots=True)
class Committed:
    peer_id: str
    seq: int
    envelope: str


class Outbox:
    def __init__(
        self,
        store: StationStore,
        me: StationIdentity,
        on_committed: Callable[[list[Committed]], None],
        *,
        kinds: KindRegistry,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._store = store
        self._me = me
        self._on_committed = on_committed
        self._kinds = kinds
        self._clock = clock
        self._queue: asyncio.Queue[OutboundDraft] = asyncio.Queue()
        self._keys: dict[tuple[str, str], X25519PublicKey] = {}
        self._deadlines = me.config.deadlines()

    async def submit(self, draft: OutboundDraft) -> str:
        """Queue ``draft`` and wait until it is committed; return its message id."""
        await self._queue.put(draft)
        return await draft.future

    async def run(self) -> None:
        while True:
            group = [await self._queue.get()]
            # Give requests that are already being handled a moment to join this group.
            for _ in range(GATHER_YIELDS):
                await asyncio.sleep(0)
            while len(group) < MAX_GROUP and not self._queue.empty():
                group.append(self._queue.get_nowait())
            await self._commit_group(group)

    async def _commit_group(self, group: list[OutboundDraft]) -> None:
        done: list[tuple[OutboundDraft, str]] = []
        refused: list[tuple[OutboundDraft, RedlineError]] = []
        committed: list[Committed] = []
        try:
            async with self._store.write() as tx:
                for peer_id in dict.fromkeys(d.peer.station_id for d in group):
                    drafts = [d for d in group if d.peer.station_id == peer_id]
                    await self._append(tx, peer_id, drafts, done, refused, committed)
        except Exception as exc:  # the whole group failed to commit: every caller hears of it
            log.exception("outbox commit failed")
            error = (
                exc
                if isinstance(exc, RedlineError)
                else StoreError(_t("could not store the message: {exc}", exc=exc))
            )
            for draft in group:
                if not draft.future.done():
                    draft.future.set_exception(error)
            return
        self._on_committed(committed)  # wake the delivery workers before the API answers
        for draft, message_id in done:
            if not draft.future.done():
                draft.future.set_result(message_id)
        for draft, error in refused:
            if not draft.future.done():
                draft.future.set_exception(error)

    def _recipient_key(self, peer: PeerRecord) -> X25519PublicKey:
        cache_key = (peer.station_id, peer.encryption_key)
        if cache_key not in self._keys:
            self._keys[cache_key] = parse_encryption_key(peer.encryption_key)
        return self._keys[cache_key]

    async def _append(
        self,
        tx: WriteTransaction,
        peer_id: str,
        drafts: list[OutboundDraft],
        done: list[tuple[OutboundDraft, str]],
        refused: list[tuple[OutboundDraft, RedlineError]],
        committed: list[Committed],
    ) -> None:
        chains = await tx.link_chains(peer_id)
        rows: list[MessageRecord] = []
        audit: list[tuple[str, str, str, dict[str, Any]]] = []
        now = self._clock.now()
        ts = format_ts(now)
        for draft in drafts:
            message_id = uuid.uuid4().hex
            spec = self._kinds[draft.kind]
            try:
                await spec.on_send(Sending(tx, draft, chains, message_id, ts))
            except Conflict as exc:
                refused.append((draft, exc))
                continue
            envelope = build_envelope(
                self._me.keys,
                self._recipient_key(draft.peer),
                message_id=message_id,
                sender=self._me.station_id,
                recipient=peer_id,
                seq=chains.out_next_seq,
                prev=chains.out_last_digest,
                ts=ts,
                precedence=draft.precedence,
                kind=draft.kind,
                body=draft.body,
            )
            encoded = envelope.encode().decode("utf-8")
            deadline = format_ts(now + self._deadlines[draft.precedence]) if spec.needs_human_ack else None
            record = message_record(
                envelope,
                Direction.OUTBOUND,
                draft.body,
                stored_at=ts,
                deadline=deadline,
                answers=spec.answers(draft.body),
                created_by=draft.created_by,
                encoded=encoded,
            )
            rows.append(record)
            chains.out_next_seq += 1
            chains.out_last_digest = envelope.digest
            done.append((draft, message_id))
            committed.append(Committed(peer_id, envelope.seq, encoded))
            if spec.audited:  # routine machine traffic is in the transcript; it would drown people's actions
                action, extra = spec.sent_audit(draft.body)
                detail: dict[str, Any] = {
                    "message": message_id,
                    "peer": peer_id,
                    "precedence": draft.precedence.value,
                    "kind": draft.kind.value,
                    **extra,
                }
                audit.append((ts, draft.created_by, action, detail))
        await tx.insert_messages(rows)  # rows as dicts until the store takes MessageRecord
        await tx.audit_many(audit)
        await tx.save_link_chains(chains)
