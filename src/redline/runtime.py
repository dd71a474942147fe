"""The running station: store, services and background work, in one task group.

This is the composition root below the CLI and the web app factories: it opens
the store (the only place that does, see :func:`open_store`), builds the
services around it with one :class:`~redline.domain.clock.Clock`, keeps the
set of verified peers (and the server TLS context that trusts them) current,
and runs the background work: the outbox writer, the peer watcher, the
escalator, deconfliction, a relay inbox per relay endpoint, and one delivery
worker and one link tester per verified peer, plus short reactions (link-test
replies, reminders, alarms) started with :meth:`Station.spawn`.

All of it lives in one ``asyncio.TaskGroup`` entered by :meth:`Station.running`
(an async context manager). ``redline serve`` enters it through the API app's
ASGI lifespan (:meth:`Station.lifespan`); tests enter it directly, with no
server at all (``async with Station.open(d) as s, s.running(): ...``). Leaving
it cancels every task, so nothing outlives the station.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Generator
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from redline.crypto.tls import fingerprint_der, server_context, trust_peer_certificates
from redline.domain.clock import SYSTEM_CLOCK, Clock, format_ts
from redline.domain.link_health import LinkState, Transition
from redline.domain.messages import MessageKind, Precedence
from redline.domain.stations import PeerRecord
from redline.errors import PayloadTooLarge, RedlineError, TransportError, UnknownPeer, UnverifiedPeer
from redline.services.assurance import SYSTEM_ACTOR, LinkTester
from redline.services.deconfliction import Deconfliction
from redline.services.delivery import DeliveryWorker
from redline.services.escalation import Escalator
from redline.services.inbound import MAX_BODY_BYTES, Accepted, InboundService
from redline.services.messaging import MessagingService
from redline.services.operators import TokenAuthenticator
from redline.services.outbox import Committed, OutboundDraft, Outbox
from redline.services.peers import PeerDirectory
from redline.services.ports import LinkTransport
from redline.services.station import StationIdentity, load_identity
from redline.store.notices import NoticeStore
from redline.store.sql import Store
from redline.transport.link_client import HttpsLinkTransport
from redline.transport.relay import station_fingerprint

log = logging.getLogger(__name__)
PEER_REFRESH_SECONDS = 2.0
RELAY_RETRY_SECONDS = 5.0

BatchHandler = Callable[[str, bytes], Awaitable[bytes]]
AnswerHandler = Callable[[str, bytes], Awaitable[None]]


class RelayInbox(Protocol):
    async def serve_inbox(self, handle_batch: BatchHandler) -> None: ...


class StationTransport(LinkTransport, Protocol):
    """What the station needs of its transport beyond the one-method port."""

    on_late_answer: AnswerHandler | None

    def relay(self, url: str) -> RelayInbox: ...
    def avoid_current_path(self, peer: PeerRecord) -> None: ...
    def path_status(self, peer: PeerRecord) -> list[dict[str, Any]]: ...


async def open_store(me: StationIdentity) -> Store:
    """The station's store. Every process that touches a station's database opens it here."""
    return await Store.open(me.config.database_url)


@asynccontextmanager
async def stored(me: StationIdentity) -> AsyncIterator[Store]:
    """The station's store for the length of a block (CLI commands, demo set-up)."""
    store = await open_store(me)
    try:
        yield store
    finally:
        await store.close()


@asynccontextmanager
async def station_store(data_dir: Path) -> AsyncIterator[tuple[StationIdentity, Store]]:
    """A data directory's identity and store, for a command that does not run the station."""
    me = load_identity(data_dir)
    async with stored(me) as store:
        yield me, store


def https_transport(me: StationIdentity) -> HttpsLinkTransport:
    return HttpsLinkTransport(
        str(me.files.tls_cert),
        str(me.files.tls_key),
        me.station_id,
        station_fingerprint(me.keys.signing_public),
    )


class _Opening:
    """``await Station.open(d)`` gives an open station; ``async with Station.open(d)`` also closes it."""

    def __init__(self, opening: Coroutine[Any, Any, Station]) -> None:
        self._opening = opening
        self._station: Station | None = None

    def __await__(self) -> Generator[Any, None, Station]:
        return self._opening.__await__()

    async def __aenter__(self) -> Station:
        self._station = await self._opening
        return self._station

    async def __aexit__(
        self, _type: type[BaseException] | None, _exc: BaseException | None, _tb: TracebackType | None
    ) -> None:
        if self._station is not None:
            await self._station.close()


class Station:
    def __init__(
        self,
        me: StationIdentity,
        store: Store,
        transport: StationTransport,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.me = me
        self.store = store
        self.transport = transport
        self.clock = clock
        self.outbox = Outbox(store, me, self._on_committed)
        self.inbound = InboundService(store, me, self._on_inbound)
        self.peers = PeerDirectory(store)
        self.messaging = MessagingService(store, self.outbox, self.peers)
        self.auth = TokenAuthenticator(store, clock)
        self.escalator = Escalator(store, self._on_escalated, clock=clock)
        self.notices = NoticeStore(store)
        self.deconfliction = Deconfliction(self.notices, self.outbox, self.peers, me.station_id, clock)
        self.workers: dict[str, DeliveryWorker] = {}
        self.testers: dict[str, LinkTester] = {}
        self._background: set[asyncio.Task[Any]] = set()
        self._by_fingerprint: dict[str, PeerRecord] = {}
        self._by_station: dict[str, PeerRecord] = {}
        self._trusted: set[str] = set()
        self.link_tls: ssl.SSLContext = server_context(str(me.files.tls_cert), str(me.files.tls_key), [])
        self._tasks: asyncio.TaskGroup | None = None
        self.started = asyncio.Event()  # set while the background work runs
        self.failed = asyncio.Event()  # set when a piece of essential background work died
        transport.on_late_answer = self._relay_answer

    @classmethod
    def open(
        cls, data_dir: Path, *, clock: Clock = SYSTEM_CLOCK, transport: StationTransport | None = None
    ) -> _Opening:
        """Open a data directory's station (not yet running); await it, or use it with ``async with``."""
        return _Opening(cls._open(data_dir, clock, transport))

    @classmethod
    async def _open(cls, data_dir: Path, clock: Clock, transport: StationTransport | None) -> Station:
        me = load_identity(data_dir)
        store = await open_store(me)
        station = cls(me, store, transport or https_transport(me), clock)
        await station.refresh_peers()
        return station

    async def close(self) -> None:
        await self.transport.close()
        await self.store.close()

    def _on_committed(self, committed: list[Committed]) -> None:
        for item in committed:
            worker = self.workers.get(item.peer_id)
            if worker is not None:
                worker.enqueue(item.seq, item.envelope)

    async def refresh_peers(self) -> None:
        """Pick up peers verified (or newly imported) since the last look."""
        peers = await self.store.peers()
        self.peers.replace(peers)
        verified = {p.tls_fingerprint: p for p in peers if p.verified}
        fresh = [p.tls_certificate for fp, p in verified.items() if fp not in self._trusted]
        trust_peer_certificates(self.link_tls, fresh)
        self._trusted.update(verified)
        self._by_fingerprint = verified
        self._by_station = {p.station_id: p for p in verified.values()}
        for peer in verified.values():
            if peer.station_id not in self.workers:
                self.workers[peer.station_id] = DeliveryWorker(
                    self.store, self.me, peer, self.transport, self.clock
                )
                self.testers[peer.station_id] = LinkTester(
                    self.store,
                    self.outbox,
                    self.me.station_id,
                    peer,
                    self.me.config.link_test_interval,
                    self._on_transition,
                    self.me.config.ack_deadlines,
                    self.clock,
                )
                if self._tasks is not None:
                    self._start_link(peer.station_id)

    def _start_link(self, peer_id: str) -> None:
        self._start(self.workers[peer_id].run(), f"delivery to {peer_id}", essential=True)
        self._start(self.testers[peer_id].run(), f"link tests to {peer_id}", essential=True)

    def _start(self, coro: Coroutine[Any, Any, Any], what: str, *, essential: bool) -> None:
        if self._tasks is None:
            coro.close()
            log.warning("station %s is not running: %s not started", self.me.station_id, what)
            return

        async def guarded() -> None:
            try:
                await coro
            except Exception:
                log.exception("%s failed", what)
                if essential:  # the station cannot go on without it: take the task group down
                    self.failed.set()
                    raise

        task = self._tasks.create_task(guarded(), name=what)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        task.add_done_callback(lambda _task: coro.close())  # cancelled before it started: no warning

    def spawn(self, coro: Coroutine[Any, Any, Any], what: str) -> None:
        """Run ``coro`` in the station's task group; a failure is logged, never fatal.

        Outside :meth:`running` the coroutine is dropped with a warning (nothing may outlive the station).
        """
        self._start(coro, what, essential=False)

    def _on_inbound(self, peer: PeerRecord, accepted: Accepted) -> None:
        """React to what a peer's batch brought, after it is committed."""
        worker = self.workers.get(peer.station_id)
        if worker is not None:
            worker.heard_from_peer()
        for env, body in accepted:
            if env.kind is MessageKind.LINK_TEST:
                reply = OutboundDraft(
                    peer=peer,
                    kind=MessageKind.LINK_TEST_REPLY,
                    precedence=env.precedence,
                    body={"test_of": env.id, "received_at": format_ts(self.clock.now())},
                    created_by=SYSTEM_ACTOR,
                )
                self.spawn(self.outbox.submit(reply), f"replying to link test {env.id}")
            elif env.kind.is_notice:
                self.spawn(
                    self.deconfliction.on_peer_notice(peer.station_id, env.kind, body),
                    f"checking {peer.station_id}'s notice for conflicts",
                )
            elif env.kind is MessageKind.LINK_TEST_REPLY and peer.station_id in self.testers:
                self.testers[peer.station_id].on_reply(body["test_of"])

    def _on_transition(self, peer_id: str, transition: Transition) -> None:
        at = format_ts(self.clock.now())
        if transition.after in (LinkState.DEGRADED, LinkState.DOWN):
            log.warning("ALARM link to %s is %s: %s", peer_id, transition.after.value, transition.reason)
            self.spawn(
                self.store.raise_link_alarm(peer_id, transition.after.value, transition.reason, at),
                f"raising the alarm for {peer_id}",
            )
        elif transition.after is LinkState.UP:
            log.info("link to %s is up (%s)", peer_id, transition.reason)
            self.spawn(self.store.clear_link_alarms(peer_id, at), f"clearing alarms for {peer_id}")

    def _on_escalated(self, rows: list[dict[str, Any]]) -> None:
        """Remind the peer of each message it left unacknowledged, over another path if there is one."""
        for row in rows:
            peer = self._by_station.get(row["peer_id"])
            if row["direction"] != "outbound" or not MessageKind(row["kind"]).needs_human_ack or peer is None:
                continue
            self.transport.avoid_current_path(peer)
            reminder = OutboundDraft(
                peer=peer,
                kind=MessageKind.SERVICE,
                precedence=Precedence(row["precedence"]),
                body={
                    "action": "remind",
                    "by": SYSTEM_ACTOR,
                    "message": row["id"],
                    "reason": f"{row['precedence']} message {row['id']} of {row['ts']} awaits "
                    f"acknowledgement since {row['deadline']}",
                },
                created_by=SYSTEM_ACTOR,
            )
            self.spawn(self.outbox.submit(reminder), f"reminding {peer.station_id} of {row['id']}")

    async def _serve_relay(self, url: str) -> None:
        """Take batches from a relay this station lists in its card; retry while it is away."""
        while True:
            try:
                await self.transport.relay(url).serve_inbox(self._relay_batch)
                log.info("taking batches from relay %s", url)
                return
            except TransportError as exc:
                log.warning("%s; retrying in %g s", exc.message, RELAY_RETRY_SECONDS)
                await self.clock.sleep(RELAY_RETRY_SECONDS)

    async def _relay_batch(self, sender_id: str, raw: bytes) -> bytes:
        """A batch that came through a relay: the same checks as the link endpoint, minus TLS."""
        try:
            peer = await self.peers.get(sender_id) if isinstance(sender_id, str) else None
            if peer is None or not peer.verified:
                raise UnverifiedPeer(f"{sender_id!r} is not a verified peer of this station")
            if len(raw) > MAX_BODY_BYTES:
                raise PayloadTooLarge(f"batch of {len(raw)} bytes is more than {MAX_BODY_BYTES}")
            answer = await self.inbound.receive(peer, raw)
            return json.dumps(answer.body).encode()
        except RedlineError as exc:
            log.warning("refused a batch from %r through a relay: %s", sender_id, exc.message)
            return json.dumps({"error": {"code": exc.code, "message": exc.message}}).encode()

    async def _relay_answer(self, peer_id: str, raw: bytes) -> None:
        worker = self.workers.get(peer_id)
        if worker is not None:
            await worker.record_late_answer(raw)

    def peer_for_certificate(self, der: bytes | None) -> PeerRecord:
        """Map a TLS client certificate to a verified peer, or refuse."""
        if der is None:
            raise UnknownPeer("no client certificate: the link requires mutual TLS")
        peer = self._by_fingerprint.get(fingerprint_der(der))
        if peer is None:
            # The handshake trusts every certificate ever verified; a peer removed since is refused here.
            raise UnverifiedPeer("this client certificate belongs to no verified peer of this station")
        return peer

    async def _watch_peers(self) -> None:
        while True:
            await self.clock.sleep(PEER_REFRESH_SECONDS)
            try:
                await self.refresh_peers()
            except Exception:
                log.exception("refreshing peers failed")

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Station]:
        """Run the station's background work for the length of the block, in one task group."""
        if self._tasks is not None:
            raise RuntimeError(f"station {self.me.station_id} is running already")
        async with asyncio.TaskGroup() as tasks:
            self._tasks = tasks
            try:
                self._start(self.outbox.run(), "the outbox writer", essential=True)
                self._start(self._watch_peers(), "the peer watcher", essential=True)
                self._start(self.escalator.run(), "the escalator", essential=True)
                self._start(self.deconfliction.run(), "deconfliction", essential=True)
                for url in self.me.config.endpoints:
                    if url.startswith("nats://"):
                        self._start(self._serve_relay(url), f"the relay inbox at {url}", essential=True)
                for peer_id in list(self.workers):
                    self._start_link(peer_id)
                self.started.set()
                yield self
            finally:
                self.started.clear()
                self._tasks = None
                for task in list(self._background):
                    task.cancel()

    @asynccontextmanager
    async def lifespan(self, _app: object) -> AsyncIterator[None]:
        """The API app's ASGI lifespan (Starlette's ``lifespan=``): the station runs while it serves."""
        async with self.running():
            yield
