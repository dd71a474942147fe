"""Receiving a batch from a peer: verify everything, then store and receipt in one commit.

Order of checks, each refusing the whole batch before the store is touched:
shape and size, sender and recipient, every signature, every payload. Then
one transaction classifies the batch against the inbound chain
(:func:`redline.protocol.plan_batch`), stores what is new, records an
equivocation if there is one, and signs a receipt for what it stored. The
receipt leaves only after the commit: "delivered" means durably stored here.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from redline.crypto.keys import parse_signing_key
from redline.domain.clock import format_ts, parse_ts, utc_now
from redline.domain.delivery import DeliveryEvent, initial_state
from redline.domain.messages import Direction, MessageKind
from redline.domain.payloads import check_payload
from redline.domain.records import MessageRecord
from redline.domain.stations import PeerRecord
from redline.errors import Conflict, InputError, MalformedEnvelope, UnknownPeer, WrongRecipient
from redline.geo import parse_notice
from redline.protocol import InboundChain, plan_batch
from redline.services.deconfliction import check_peer_notice, notice_row
from redline.services.ports import StationStore, WriteTransaction
from redline.services.station import StationIdentity
from redline.wire.codec import expect_object, load_json
from redline.wire.envelope import Envelope, open_payload, parse_envelope, verify_envelope
from redline.wire.receipt import issue_receipt

log = logging.getLogger(__name__)
MAX_BATCH = 1024
MAX_BODY_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class BatchAnswer:
    """What goes back to the sender: receipts, and a gap or equivocation notice."""

    body: dict[str, Any]
    equivocation: bool


def _check_body(env: Envelope, body: dict[str, Any]) -> dict[str, Any]:
    try:
        checked = check_payload(env.kind, body)
        if env.kind.is_notice:
            check_peer_notice(env.kind, env.sender, checked)
        return checked
    except InputError as exc:
        raise MalformedEnvelope(f"envelope {env.id}: payload: {exc.message}") from None


Accepted = list[tuple[Envelope, dict[str, Any]]]


class InboundService:
    def __init__(
        self,
        store: StationStore,
        me: StationIdentity,
        on_accepted: Callable[[PeerRecord, Accepted], None] = lambda _peer, _accepted: None,
    ) -> None:
        self._store = store
        self._me = me
        self._on_accepted = on_accepted
        self._deadlines = me.config.deadlines()

    def parse_batch(self, peer: PeerRecord, raw: bytes) -> list[tuple[Envelope, dict[str, Any]]]:
        """Everything that can be checked without the database; raises on the first fault."""
        request = expect_object(load_json(raw, "batch"), "batch", frozenset({"envelopes"}))
        items = request["envelopes"]
        if not isinstance(items, list) or not 0 < len(items) <= MAX_BATCH:
            raise MalformedEnvelope(f"batch.envelopes: expected a list of 1 to {MAX_BATCH} envelopes")
        key = parse_signing_key(peer.signing_key)
        parsed: list[tuple[Envelope, dict[str, Any]]] = []
        for item in items:
            env = parse_envelope(item)
            if parsed and env.seq <= parsed[-1][0].seq:
                raise MalformedEnvelope(
                    f"batch.envelopes: seq {env.seq} follows seq {parsed[-1][0].seq}; "
                    "seqs must strictly increase"
                )
            if env.sender != peer.station_id:
                raise UnknownPeer(
                    f"envelope {env.id} claims to be from {env.sender!r} but arrived on the link "
                    f"of {peer.station_id!r}"
                )
            if env.recipient != self._me.station_id:
                raise WrongRecipient(
                    f"envelope {env.id} is addressed to {env.recipient!r}, this station is "
                    f"{self._me.station_id!r}"
                )
            verify_envelope(env, key)
            parsed.append((env, _check_body(env, open_payload(env, self._me.keys.encryption))))
        return parsed

    async def receive(self, peer: PeerRecord, raw: bytes) -> BatchAnswer:
        parsed = self.parse_batch(peer, raw)
        by_seq = {env.seq: (env, body) for env, body in parsed}
        now = utc_now()
        at = format_ts(now)
        receipt_id = uuid.uuid4().hex
        async with self._store.write() as tx:
            chains = await tx.link_chains(peer.station_id)
            chain = InboundChain(chains.in_next_seq, chains.in_last_digest)
            positions = await tx.inbound_positions(
                peer.station_id, [e.seq for e, _ in parsed if e.seq < chain.next_seq]
            )
            plan = plan_batch(chain, [e.header for e, _ in parsed], {s: d for s, (d, _) in positions.items()})
            accepted = [by_seq[h.seq] for h in plan.accepted]
            receipt_bodies: list[str] = []
            if accepted:
                entries = [(env.seq, env.digest) for env, _ in accepted]
                receipt = issue_receipt(
                    self._me.keys, receipt_id, self._me.station_id, peer.station_id, at, entries
                )
                receipt_text = json.dumps(receipt.to_json(), sort_keys=True)
                try:
                    await tx.insert_messages(
                        [self._row(peer, env, body, now, receipt_id) for env, body in accepted]
                    )
                except Conflict:
                    # plan_batch found the chain positions free, so an id was used before.
                    ids = ", ".join(env.id for env, _ in accepted)
                    raise MalformedEnvelope(f"message id(s) among {ids} were used before") from None
                await tx.insert_receipt(receipt_id, peer.station_id, "issued", receipt_text, at)
                receipt_bodies.append(receipt_text)
                for env, body in accepted:
                    await self._apply_effects(tx, peer, env, body, at)
            duplicate_receipts = {positions[h.seq][1] for h in plan.duplicates} - {None}
            receipt_bodies.extend(await tx.receipts_by_id(r for r in duplicate_receipts if r))
            if plan.equivocation is not None:
                eq = plan.equivocation
                first = await tx.insert_equivocation(
                    peer.station_id,
                    eq.header.seq,
                    eq.known_digest,
                    json.dumps(by_seq[eq.header.seq][0].to_json(), sort_keys=True),
                    eq.reason,
                    at,
                )
                if first:
                    log.error("EQUIVOCATION from %s: %s", peer.station_id, eq.reason)
            chains.in_next_seq, chains.in_last_digest = chain.next_seq, chain.last_digest
            await tx.save_link_chains(chains)
        answer: dict[str, Any] = {
            "receipts": [json.loads(b) for b in receipt_bodies],
            "gap": {"expected_seq": plan.gap.expected_seq} if plan.gap else None,
            "equivocation": None,
        }
        if plan.equivocation is not None:
            answer["equivocation"] = {"seq": plan.equivocation.header.seq, "reason": plan.equivocation.reason}
        if accepted:
            self._on_accepted(peer, accepted)
        return BatchAnswer(answer, plan.equivocation is not None)

    def _row(
        self, peer: PeerRecord, env: Envelope, body: dict[str, Any], now: datetime, receipt_id: str
    ) -> MessageRecord:
        deadline = None
        if env.kind.needs_human_ack:
            deadline = format_ts(parse_ts(env.ts, "ts") + self._deadlines[env.precedence])
        return MessageRecord(
            id=env.id,
            direction=Direction.INBOUND,
            peer_id=peer.station_id,
            seq=env.seq,
            kind=env.kind,
            precedence=env.precedence,
            ts=env.ts,
            body=json.dumps(body, ensure_ascii=False),
            envelope=env.encode().decode("utf-8"),
            digest=env.digest,
            state=initial_state(Direction.INBOUND, DeliveryEvent.STORED),
            deadline=deadline,
            created_by=None,
            stored_at=format_ts(now),
            sent_at=None,
            delivered_at=format_ts(now),
            receipt_id=receipt_id,
            ack_of=body.get("ack_of") or body.get("test_of"),
            acked_at=None,
            acked_by=None,
            ack_message_id=None,
        )

    async def _apply_effects(
        self, tx: WriteTransaction, peer: PeerRecord, env: Envelope, body: dict[str, Any], at: str
    ) -> None:
        """What an accepted envelope changes besides its own row, in the same transaction."""
        if env.kind is MessageKind.ACK:
            await self._mark_answered(
                tx,
                peer,
                body["ack_of"],
                None,
                f"{peer.station_id}/{body['by']}",
                body["at"],
                env.id,
            )
        elif env.kind is MessageKind.LINK_TEST_REPLY:
            await self._mark_answered(
                tx, peer, body["test_of"], MessageKind.LINK_TEST, peer.station_id, at, env.id
            )
        elif env.kind is MessageKind.LINK_TEST and body["scorecard"] is not None:
            await tx.set_peer_scorecard(peer.station_id, json.dumps(body["scorecard"], sort_keys=True))
        elif env.kind in (MessageKind.NOTICE_FILED, MessageKind.NOTICE_AMENDED):
            notice = parse_notice(body["notice"])
            await tx.upsert_notice(notice_row(notice, at, f"{peer.station_id}", shared=True))
        elif env.kind is MessageKind.NOTICE_CANCELLED:
            by = f"{peer.station_id}/{body['by']}"
            await tx.cancel_notice(body["notice_id"], peer.station_id, body["version"], at, by)
        elif env.kind is MessageKind.SERVICE and body["action"] == "remind":
            log.warning("ALARM %s reminds: %s", peer.station_id, body["reason"])
        elif env.kind is MessageKind.SERVICE:
            suspended_at = env.ts if body["action"] == "suspend" else None
            await tx.set_suspension(
                peer.station_id, suspended_at, f"{peer.station_id}/{body['by']}", peers=True
            )
            log.warning("%s %sed the link: %s", peer.station_id, body["action"], body["reason"])
        if env.kind is MessageKind.SERVICE:
            detail = {"message": env.id, "peer": peer.station_id, "reason": body["reason"]}
            await tx.audit(at, f"{peer.station_id}/{body['by']}", f"peer_{body['action']}", detail)

    async def _mark_answered(
        self,
        tx: WriteTransaction,
        peer: PeerRecord,
        target_id: str,
        kind: MessageKind | None,
        by: str,
        at: str,
        answer_id: str,
    ) -> None:
        target = await tx.message(target_id)
        if (
            target is None
            or target.direction is not Direction.OUTBOUND
            or target.peer_id != peer.station_id
            or (kind is not None and target.kind is not kind)
            or (kind is None and not target.kind.needs_human_ack)
        ):
            what = kind.value if kind else "message needing acknowledgement"
            log.warning("%s answered %s, which is not a %s we sent it", peer.station_id, target_id, what)
            return
        await tx.mark_acknowledged(target_id, Direction.OUTBOUND, by, at, answer_id)
