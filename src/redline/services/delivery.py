"""Delivery workers: one per verified peer, pushing the outbox until every envelope is receipted.

A worker sends at most one batch at a time, in sequence order, from the first
envelope without a receipt (:class:`redline.protocol.OutboundCursor`). It
checks every receipt's signature and that each receipted digest is the one we
sent, then marks those messages delivered in one commit. A failed path means
exponential backoff with full jitter, 50 ms doubling to a 5 s cap (a hotline
probes an absent peer often), cut short the moment the peer is heard from (it
delivered something to us, such as the link test every station sends when it
starts); a new message wakes an idle worker at once. On
start it rebuilds its cursor from the database, so a restart after kill -9
resumes exactly where the receipts stop; the peer answers anything it already
holds with the original receipt.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Iterable
from typing import Any

from redline.crypto.keys import parse_signing_key
from redline.domain.clock import SYSTEM_CLOCK, Clock, format_ts
from redline.domain.stations import PeerRecord
from redline.errors import BadReceipt, RedlineError, RemoteProtocolError, TransportError
from redline.json_input import parse_json
from redline.protocol import OutboundCursor, apply_answer, is_fresh, misreceipted, read_answer
from redline.services.metrics import StationMetrics
from redline.services.ports import LinkTransport, StationStore
from redline.services.station import StationIdentity
from redline.wire.codec import digest_text
from redline.wire.receipt import Receipt, parse_receipt, verify_receipt

log = logging.getLogger(__name__)
MAX_BATCH = 512
MAX_BATCH_BYTES = 8 * 1024 * 1024  # well under the receiver's 16 MiB request limit
MAX_CACHED = 20_000
SENT_MARK_AFTER = 0.25  # seconds a batch may be outstanding before its messages show "sent"


class Backoff:
    def __init__(self, first: float = 0.05, cap: float = 5.0) -> None:
        self.first, self.cap, self.failures = first, cap, 0

    def next_delay(self) -> float:
        self.failures += 1
        return random.uniform(0, min(self.cap, self.first * 2 ** min(self.failures, 20)))

    def reset(self) -> None:
        self.failures = 0


class DeliveryWorker:
    def __init__(
        self,
        store: StationStore,
        me: StationIdentity,
        peer: PeerRecord,
        transport: LinkTransport,
        clock: Clock = SYSTEM_CLOCK,
        *,
        metrics: StationMetrics | None = None,
    ) -> None:
        self._store = store
        self._metrics = metrics
        self._queued_at: dict[int, float] = {}  # seq -> monotonic time of its commit (time to receipt)
        self._clock = clock
        self._me = me
        self.peer = peer
        self._transport = transport
        self._peer_key = parse_signing_key(peer.signing_key)
        self._wake = asyncio.Event()
        self._heard = asyncio.Event()
        self._cache: dict[int, str] = {}  # seq -> envelope JSON, fed by the outbox after commit
        self.cursor = OutboundCursor()
        self.last_error: str | None = None
        self.halted: str | None = None
        self.ready = asyncio.Event()
        self._dispatched_mono: float | None = None

    def enqueue(self, seq: int, envelope: str) -> None:
        if seq > self.cursor.highest_queued:
            self.cursor.on_queued(seq)
        if len(self._cache) < MAX_CACHED:
            self._cache[seq] = envelope
            self._queued_at[seq] = self._clock.monotonic()
        self._wake.set()

    async def _load_cursor(self) -> None:
        low, high = await self._store.first_unreceipted_seq(self.peer.station_id)
        cursor = OutboundCursor(receipted_through=(low - 1) if low else high, highest_queued=high)
        # Envelopes committed while we were reading are already in the cache: keep them.
        cursor.highest_queued = max(cursor.highest_queued, self.cursor.highest_queued)
        self.cursor = cursor

    async def run(self) -> None:
        await self._load_cursor()
        self.ready.set()
        backoff = Backoff()
        while self.halted is None:
            batch = self.cursor.next_batch(MAX_BATCH)
            if not batch:
                self._wake.clear()
                if not self.cursor.next_batch(MAX_BATCH):
                    await self._clock.wait(self._wake, 5.0)
                continue
            try:
                await self._send(batch)
                backoff.reset()
                self.last_error = None
            except (TransportError, RemoteProtocolError) as exc:
                self.last_error = exc.message
                delay = backoff.next_delay()
                log.warning(
                    "delivery to %s failed (%s); retrying in %.2fs", self.peer.station_id, exc.message, delay
                )
                await self._back_off(delay)
            except RedlineError as exc:
                self.last_error = exc.message
                log.error("delivery to %s: %s", self.peer.station_id, exc.message)
                await self._back_off(backoff.next_delay())
            except Exception as exc:  # a bug must not take the station's task group down
                self.last_error = f"internal error: {exc!r}"
                log.exception("delivery to %s failed unexpectedly", self.peer.station_id)
                await self._back_off(backoff.next_delay())

    async def _back_off(self, delay: float) -> None:
        """Sleep ``delay``, unless the peer is heard from meanwhile: then retry at once."""
        self._heard.clear()
        await self._clock.wait(self._heard, delay)

    async def record_late_answer(self, raw: bytes) -> None:
        """An answer that arrived after its request gave up (through a relay): its receipts still count."""
        try:
            await self._record_answer(raw, format_ts(self._clock.now()), {})
        except RedlineError as exc:
            log.warning("late answer from %s not recorded: %s", self.peer.station_id, exc.message)

    def heard_from_peer(self) -> None:
        """The peer just delivered to us, so it is up: cut any backoff short."""
        self._heard.set()

    async def _send(self, batch: range) -> None:
        envelopes = [self._cache.get(seq) for seq in batch]
        if any(e is None for e in envelopes):
            loaded = dict(await self._store.undelivered(self.peer.station_id, batch.start, len(batch)))
            envelopes = [self._cache.get(seq) or loaded.get(seq) for seq in batch]
        if any(e is None for e in envelopes):
            await self._load_cursor()  # the outbox and our cursor disagree: start again from the database
            return
        size, keep = 0, 0
        for envelope in envelopes:
            size += len(envelope or "")
            if keep and size > MAX_BATCH_BYTES:
                break  # large envelopes (notices with many vertices): the rest go in the next batch
            keep += 1
        batch, envelopes = range(batch.start, batch.start + keep), envelopes[:keep]
        body = ('{"envelopes":[' + ",".join(e for e in envelopes if e) + "]}").encode("utf-8")
        dispatched = format_ts(self._clock.now())
        self._dispatched_mono = self._clock.monotonic()
        answered = asyncio.Event()
        marker = asyncio.create_task(self._mark_sent_if_slow(list(batch), dispatched, answered))
        try:
            answer = await self._transport.deliver(self.peer, body)
        finally:
            answered.set()
            await marker
        await self._record_answer(
            answer, dispatched, {seq: digest_text(e) for seq, e in zip(batch, envelopes, strict=True) if e}
        )

    async def _mark_sent_if_slow(self, seqs: list[int], dispatched: str, answered: asyncio.Event) -> None:
        """Show "sent" only while a transmission is outstanding; a prompt receipt goes straight to
        "delivered" (with sent_at set), sparing a commit per batch on the fast path."""
        if not await self._clock.wait(answered, SENT_MARK_AFTER):
            await self._store.mark_sent(self.peer.station_id, seqs, dispatched)

    async def _record_answer(self, raw: bytes, dispatched: str, sent: dict[int, str]) -> None:
        what = f"{self.peer.station_id}'s answer to a batch"
        data = parse_json(raw, what, BadReceipt)
        try:
            answer = read_answer(data)
            receipts = [parse_receipt(r) for r in answer.receipts]
        except (ValueError, KeyError, TypeError) as exc:
            raise BadReceipt(
                f"{self.peer.station_id} answered with something that is not a batch answer: {exc}"
            ) from None
        for receipt in receipts:
            verify_receipt(receipt, self._peer_key)
            if receipt.by != self.peer.station_id or receipt.for_station != self._me.station_id:
                raise BadReceipt(f"receipt {receipt.id} is by {receipt.by!r} for {receipt.for_station!r}")
        receipted = await self._store_receipts(receipts, dispatched, sent)
        halt = apply_answer(self.cursor, receipted, answer)
        for seq in receipted:
            self._cache.pop(seq, None)
            self._queued_at.pop(seq, None)
        if halt is not None:
            # Our own chain forked (e.g. a database restored from an old backup): sending more
            # would only repeat the fork. Stop this link until an administrator restarts it.
            self.halted = f"{self.peer.station_id} {halt}"
            log.error("delivery to %s halted: %s", self.peer.station_id, self.halted)

    async def _store_receipts(
        self, receipts: Iterable[Receipt], dispatched: str, sent: dict[int, str]
    ) -> list[int]:
        """Check each receipted digest is what we sent at that seq; record the receipts in one commit.

        ``sent`` holds the digests of the batch just sent, so the usual receipt needs no query.
        """
        at = format_ts(self._clock.now())
        receipts = list(receipts)
        others = {s for r in receipts for s, _ in r.entries if s not in sent}
        if others:
            sent = {**sent, **await self._store.outbound_digests(self.peer.station_id, others)}
        for receipt in receipts:
            wrong = misreceipted(receipt.entries, sent)
            if wrong is not None:
                raise BadReceipt(
                    f"receipt {receipt.id} covers seq {wrong[0]} with digest {wrong[1][:12]}…, "
                    "which is not the envelope we sent there"
                )
        fresh = [r for r in receipts if is_fresh(r.entries, self.cursor)]
        if fresh:
            async with self._store.write() as tx:
                for receipt in fresh:
                    body = json.dumps(receipt.to_json(), sort_keys=True)
                    await tx.insert_receipt(receipt.id, self.peer.station_id, "received", body, at)
                    seqs = [s for s, _ in receipt.entries]
                    await tx.mark_delivered(self.peer.station_id, seqs, receipt.id, at, dispatched)
            self._observe_receipts([s for r in fresh for s, _ in r.entries])
        return [s for r in receipts for s, _ in r.entries]

    def _observe_receipts(self, seqs: list[int]) -> None:
        """Time to receipt of each newly receipted envelope: from its commit when this process saw
        it (else from the batch's dispatch, after a restart)."""
        now = self._clock.monotonic()
        for seq in seqs:
            since = self._queued_at.pop(seq, None)
            if since is None:
                since = self._dispatched_mono
            if self._metrics is not None and since is not None:
                self._metrics.time_to_receipt.labels(self.peer.station_id).observe(max(0.0, now - since))

    def status(self) -> dict[str, Any]:
        return {
            "peer": self.peer.station_id,
            "pending": self.cursor.pending,
            "receipted_through": self.cursor.receipted_through,
            "last_error": self.last_error,
            "halted": self.halted,
        }
