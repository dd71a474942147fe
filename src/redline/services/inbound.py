"""Receiving a batch from a peer: verify everything, then store and receipt in one commit.

Order of checks, each refusing the whole batch before the store is touched:
shape and size, sender and recipient, every signature, every payload (its kind's
check in :mod:`redline.services.kinds`). Then one transaction classifies the batch
against the inbound chain (:func:`redline.protocol.plan_batch`), refuses it if a new
envelope's timestamp lies outside the clock window (:mod:`redline.domain.link_clock`:
an error the sender sees, which keeps the envelope queued, and a ``clock_refused``
link alarm here until the link accepts again), stores what is new, runs each
accepted envelope's receiver effect, records an equivocation if there is one, and
signs a receipt for what it stored; what the answer holds is decided by
:func:`redline.protocol.plan_answer`. The answer leaves only after the
commit: "delivered" means durably stored here. Then each accepted envelope's kind
reacts (a link test is answered, a notice checked for conflicts, ...).
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from redline.crypto.keys import parse_signing_key
from redline.crypto.tls import valid_since
from redline.domain.clock import SYSTEM_CLOCK, Clock, format_ts, parse_ts
from redline.domain.link_clock import CLOCK_REFUSAL, REFUSAL_ALARMS, window_fault
from redline.domain.messages import Direction
from redline.domain.records import MessageRecord
from redline.domain.stations import PeerRecord
from redline.errors import (
    Conflict,
    InputError,
    MalformedEnvelope,
    OutsideClockWindow,
    UnknownPeer,
    WrongRecipient,
)
from redline.protocol import InboundChain, answer_body, plan_answer, plan_batch
from redline.services.kinds.base import KindRegistry, Reactions, Received
from redline.services.kinds.rows import message_record
from redline.services.ports import StationStore, WriteTransaction
from redline.services.station import StationIdentity
from redline.wire.codec import expect_object, load_json
from redline.wire.envelope import Envelope, open_payload, parse_envelope, verify_envelope
from redline.wire.receipt import issue_receipt

log = logging.getLogger(__name__)
MAX_BATCH = 1024
MAX_BODY_BYTES = 16 * 1024 * 1024

Accepted = list[tuple[Envelope, dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class BatchAnswer:
    """What goes back to the sender: receipts, and a gap or equivocation notice."""

    body: dict[str, Any]
    equivocation: bool


class InboundService:
    def __init__(
        self,
        store: StationStore,
        me: StationIdentity,
        *,
        kinds: KindRegistry,
        reactions: Reactions,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._store = store
        self._me = me
        self._kinds = kinds
        self._reactions = reactions
        self._clock = clock
        self._deadlines = me.config.deadlines()
        self._window = me.config.clock_window()
        # peer certificate fingerprint -> when the later of the link's two sets of keys was made
        self._keys_since: dict[str, datetime] = {}
        # Peers whose clock refusal alarm is known to be clear; after a start-up every peer's might be open.
        self._refusal_clear: set[str] = set()

    def parse_batch(self, peer: PeerRecord, raw: bytes) -> Accepted:
        """Everything that can be checked without the database; raises on the first fault."""
        request = expect_object(load_json(raw, "batch"), "batch", frozenset({"envelopes"}))
        items = request["envelopes"]
        if not isinstance(items, list) or not 0 < len(items) <= MAX_BATCH:
            raise MalformedEnvelope(f"batch.envelopes: expected a list of 1 to {MAX_BATCH} envelopes")
        key = parse_signing_key(peer.signing_key)
        parsed: Accepted = []
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
            body = open_payload(env, self._me.keys.encryption)
            try:
                checked = self._kinds[env.kind].check_from_peer(env.sender, body)
            except InputError as exc:
                raise MalformedEnvelope(f"envelope {env.id}: payload: {exc.message}") from None
            parsed.append((env, checked))
        return parsed

    async def receive(self, peer: PeerRecord, raw: bytes) -> BatchAnswer:
        try:
            answer, accepted = await self._receive(peer, raw)
        except OutsideClockWindow as exc:
            await self._refused_for_clock(peer, exc)
            raise
        if accepted:
            if peer.station_id not in self._refusal_clear:
                await self._clear_refusal(peer)
            self._react(peer, accepted)
        return answer

    async def _receive(self, peer: PeerRecord, raw: bytes) -> tuple[BatchAnswer, list[Received]]:
        parsed = self.parse_batch(peer, raw)
        by_seq = {env.seq: (env, body) for env, body in parsed}
        now = self._clock.now()
        at = format_ts(now)
        receipt_id = uuid.uuid4().hex
        async with self._store.write() as tx:
            chains = await tx.link_chains(peer.station_id)
            chain = InboundChain(chains.in_next_seq, chains.in_last_digest)
            positions = await tx.inbound_positions(
                peer.station_id, [e.seq for e, _ in parsed if e.seq < chain.next_seq]
            )
            plan = plan_batch(chain, [e.header for e, _ in parsed], {s: d for s, (d, _) in positions.items()})
            answer = plan_answer(plan, positions)
            accepted = [Received(peer, env, body, at) for env, body in (by_seq[h.seq] for h in plan.accepted)]
            receipts: list[dict[str, Any]] = []
            if accepted:
                self._check_clock_window(peer, [r.envelope for r in accepted], now)
                receipt = issue_receipt(
                    self._me.keys,
                    receipt_id,
                    self._me.station_id,
                    peer.station_id,
                    at,
                    list(answer.new_entries),
                )
                receipt_text = json.dumps(receipt.to_json(), sort_keys=True)
                try:
                    await tx.insert_messages(
                        await _threaded(tx, peer, [self._row(r, receipt_id) for r in accepted])
                    )
                except Conflict:
                    # plan_batch found the chain positions free, so an id was used before.
                    ids = ", ".join(r.envelope.id for r in accepted)
                    raise MalformedEnvelope(f"message id(s) among {ids} were used before") from None
                await tx.insert_receipt(receipt_id, peer.station_id, "issued", receipt_text, at)
                receipts.append(json.loads(receipt_text))
                for received in accepted:
                    await self._kinds[received.envelope.kind].on_accept(tx, received)
            receipts.extend(json.loads(b) for b in await tx.receipts_by_id(answer.earlier_receipts))
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
        return BatchAnswer(answer_body(answer, receipts), answer.equivocation is not None), accepted

    def _check_clock_window(self, peer: PeerRecord, envelopes: list[Envelope], now: datetime) -> None:
        """Refuse the batch if a new envelope is dated outside the window (domain.link_clock)."""
        keys_since = self._link_keys_since(peer)
        for env in envelopes:
            ts = parse_ts(env.ts, "envelope.ts")
            fault = window_fault(ts, now, self._window, keys_since=keys_since)
            if fault is not None:
                raise OutsideClockWindow(
                    f"envelope {env.id} (seq {env.seq}) from {peer.station_id} refused by "
                    f"{self._me.station_id}'s clock policy: {fault}. Check the sender's clock; the "
                    "envelope stays queued at the sender and is accepted once the clocks agree"
                )

    def _link_keys_since(self, peer: PeerRecord) -> datetime:
        """When the later of the two stations' keys was made: nothing on the link can be older."""
        since = self._keys_since.get(peer.tls_fingerprint)
        if since is None:
            since = max(valid_since(self._me.tls_certificate), valid_since(peer.tls_certificate))
            self._keys_since[peer.tls_fingerprint] = since
        return since

    async def _refused_for_clock(self, peer: PeerRecord, exc: OutsideClockWindow) -> None:
        """An operator must see a refusal: a link alarm, kept (not repeated) while retries go on."""
        log.error("CLOCK refused a batch from %s: %s", peer.station_id, exc.message)
        self._refusal_clear.discard(peer.station_id)
        try:
            await self._store.raise_link_alarm(
                peer.station_id, CLOCK_REFUSAL, exc.message, format_ts(self._clock.now()), REFUSAL_ALARMS
            )
        except Exception:  # the refusal itself still goes back to the sender
            log.exception("could not raise the clock alarm for %s", peer.station_id)

    async def _clear_refusal(self, peer: PeerRecord) -> None:
        try:
            await self._store.clear_link_alarms(peer.station_id, format_ts(self._clock.now()), REFUSAL_ALARMS)
        except Exception:  # the batch is stored and receipted: the answer must still leave
            log.exception("could not clear the clock alarm for %s", peer.station_id)
            return
        self._refusal_clear.add(peer.station_id)

    def _row(self, received: Received, receipt_id: str) -> MessageRecord:
        env, spec = received.envelope, self._kinds[received.envelope.kind]
        deadline = None
        if spec.needs_human_ack:
            # From receipt, as New START dates a notification by its receipt: the sender's stamp
            # may be hours old (store-and-forward) or, within the window, from a wrong clock.
            deadline = format_ts(parse_ts(received.at, "at") + self._deadlines[env.precedence])
        return message_record(
            env,
            Direction.INBOUND,
            received.body,
            stored_at=received.at,
            deadline=deadline,
            answers=spec.answers(received.body),
            receipt_id=receipt_id,
        )

    def _react(self, peer: PeerRecord, accepted: list[Received]) -> None:
        """After the commit: each accepted envelope's kind starts what the station does about it."""
        self._reactions.heard_from(peer.station_id)
        for received in accepted:
            try:
                self._kinds[received.envelope.kind].react(self._reactions, received)
            except (
                Exception
            ):  # the batch is stored and receipted: a failing reaction must not lose the answer
                log.exception("reacting to %s from %s failed", received.envelope.id, peer.station_id)


async def _threaded(tx: WriteTransaction, peer: PeerRecord, rows: list[MessageRecord]) -> list[MessageRecord]:
    """A peer's reply to an id unknown on this link is kept (it was signed and receipted) but not
    linked: its ``in_reply_to`` column stays empty and its body keeps the claim, so the view flags it."""
    claimed = {r.in_reply_to for r in rows if r.in_reply_to is not None}
    if not claimed:
        return rows
    known = await tx.messages_on_link(peer.station_id, claimed) | {r.id for r in rows}
    for row in rows:
        if row.in_reply_to is not None and row.in_reply_to not in known:
            log.warning(
                "%s replied to %s, unknown on this link; kept unlinked", peer.station_id, row.in_reply_to
            )
            row.in_reply_to = None
    return rows
