"""The station: its services wired together, and its background work in one task group."""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from collections.abc import AsyncIterator, Coroutine, Generator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from redline.crypto.tls import fingerprint_der, server_context, trust_peer_certificates
from redline.domain.clock import SYSTEM_CLOCK, Clock, format_ts, parse_ts
from redline.domain.link_clock import CLOCK_ALARM, CLOCK_ALARMS, ClockOffset
from redline.domain.link_health import LinkState, Transition
from redline.domain.messages import Direction
from redline.domain.records import MessageRecord
from redline.domain.stations import PeerRecord
from redline.errors import PayloadTooLarge, RedlineError, UnknownPeer, UnverifiedPeer
from redline.runtime.adapters import StationReactions, build_services
from redline.runtime.opening import link_transport, open_store
from redline.services.assurance import SYSTEM_ACTOR, LinkTester
from redline.services.calls import CallEscalator, CallService
from redline.services.deconfliction import Deconfliction
from redline.services.delivery import DeliveryWorker
from redline.services.escalation import Escalator
from redline.services.inbound import MAX_BODY_BYTES, InboundService
from redline.services.kinds import service as service_kind
from redline.services.kinds.registry import KINDS
from redline.services.messaging import MessagingService
from redline.services.metrics import StationMetrics
from redline.services.operators import TokenAuthenticator
from redline.services.outbox import Committed, Outbox
from redline.services.peers import PeerDirectory
from redline.services.ports import LinkTransport
from redline.services.queries import LinkEndpoint, StationServices
from redline.services.station import StationIdentity, load_identity
from redline.services.watch import WatchService
from redline.store.notices import NoticeStore
from redline.store.station import Store
from redline.store.watch import WatchStore
from redline.transport.paths import AnswerHandler, Inbox, Spawner

log = logging.getLogger(__name__)
PEER_REFRESH_SECONDS = 2.0


class StationTransport(LinkTransport, Protocol):
    """What the station needs of its transport beyond the one-method port
    (``transport.failover.FailoverTransport``; the in-process test harness has its own)."""

    def avoid_current_path(self, peer: PeerRecord) -> None: ...
    def path_status(self, peer: PeerRecord) -> list[dict[str, Any]]: ...
    def inboxes(self, own_endpoints: Iterable[str]) -> list[Inbox]: ...
    def route_late_answers(self, handler: AnswerHandler, spawn: Spawner) -> None: ...


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
        self, me: StationIdentity, store: Store, transport: StationTransport, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self.me = me
        self.store = store
        self.transport = transport
        self.clock = clock
        self.site = me.config.site_name()
        self.metrics = StationMetrics()  # this station's own registry (tests run several per process)
        self.outbox = Outbox(store, me, self._on_committed, kinds=KINDS, clock=clock)
        self.inbound = InboundService(store, me, kinds=KINDS, reactions=StationReactions(self), clock=clock)
        self.peers = PeerDirectory(store)
        self.messaging = MessagingService(store, self.outbox, self.peers, clock, metrics=self.metrics)
        self.auth = TokenAuthenticator(store, clock)
        self.escalator = Escalator(store, self._on_escalated, clock=clock)
        self.calls = CallService(
            store, self.outbox, self.peers, me.station_id, me.config.call_deadlines(), clock
        )
        self.call_escalator = CallEscalator(store, me.station_id, clock=clock)
        self.notices = NoticeStore(store)
        self.deconfliction = Deconfliction(self.notices, self.outbox, self.peers, me.station_id, clock)
        self.watch = WatchService(WatchStore(store), store, self.notices, self.outbox, self.peers, clock)
        self.workers: dict[str, DeliveryWorker] = {}
        self.testers: dict[str, LinkTester] = {}
        self._background: set[asyncio.Task[Any]] = set()
        self._by_fingerprint: dict[str, PeerRecord] = {}
        self._by_station: dict[str, PeerRecord] = {}
        self._trusted: set[str] = set()
        self.link_tls: ssl.SSLContext = server_context(str(me.files.tls_cert), str(me.files.tls_key), [])
        self._tasks: asyncio.TaskGroup | None = None
        self._services: StationServices | None = None
        self.started = asyncio.Event()  # set while the background work runs
        self.failed = asyncio.Event()  # set when a piece of essential background work died
        transport.route_late_answers(self._relay_answer, self.spawn)

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
        station = cls(me, store, transport or link_transport(me, clock), clock)
        await station.refresh_peers()
        return station

    async def close(self) -> None:
        await self.transport.close()
        await self.store.close()

    # -- what the web layer gets ------------------------------------------------------

    def services(self) -> StationServices:
        """The services web handlers and console pages use (built once, on first use)."""
        if self._services is None:
            self._services = build_services(self)
        return self._services

    def link_endpoint(self) -> LinkEndpoint:
        return LinkEndpoint(self.me.station_id, self.peer_for_certificate, self.inbound)

    # -- peers ----------------------------------------------------------------------------

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
                    self.store, self.me, peer, self.transport, self.clock, metrics=self.metrics
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
                    clock_alarm_seconds=self.me.config.clock_alarm_seconds,
                    on_clock=self._on_clock,
                    metrics=self.metrics,
                )
                if self._tasks is not None:
                    self._start_link(peer.station_id)
                    self._announce_watch(peer.station_id)  # a new peer learns who is on watch

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

    # -- reactions after commits ----------------------------------------------------------

    def _on_committed(self, committed: list[Committed]) -> None:
        for item in committed:
            worker = self.workers.get(item.peer_id)
            if worker is not None:
                worker.enqueue(item.seq, item.envelope)

    def _on_transition(self, peer_id: str, transition: Transition) -> None:
        at = format_ts(self.clock.now())
        if self._services is not None:
            self._services.changes.bump()  # a link's state is in memory: live pages look again
        if transition.after in (LinkState.DEGRADED, LinkState.DOWN):
            log.warning("ALARM link to %s is %s: %s", peer_id, transition.after.value, transition.reason)
            self.spawn(
                self.store.raise_link_alarm(peer_id, transition.after.value, transition.reason, at),
                f"raising the alarm for {peer_id}",
            )
        elif transition.after is LinkState.UP:
            log.info("link to %s is up (%s)", peer_id, transition.reason)
            self.spawn(self.store.clear_link_alarms(peer_id, at), f"clearing alarms for {peer_id}")

    def _on_clock(self, peer_id: str, reading: ClockOffset, change: bool | None) -> None:
        """A link test measured the peer's clock: keep its alarm raised (detail current) or clear it."""
        at = format_ts(self.clock.now())
        if self._services is not None:
            self._services.changes.bump()  # the offset is shown on the link panel
        if reading.beyond(self.me.config.clock_alarm_seconds):
            detail = f"{reading.describe()}; the alarm is above {self.me.config.clock_alarm_seconds:g} s"
            self.spawn(
                self.store.raise_link_alarm(peer_id, CLOCK_ALARM, detail, at, CLOCK_ALARMS),
                f"raising the clock alarm for {peer_id}",
            )
        elif change is False:
            self.spawn(
                self.store.clear_link_alarms(peer_id, at, CLOCK_ALARMS),
                f"clearing the clock alarm for {peer_id}",
            )

    def _on_escalated(self, rows: list[MessageRecord]) -> None:
        """Remind the peer of each message it left unacknowledged, over another path if there is one."""
        for row in rows:
            peer = self._by_station.get(row.peer_id)
            if row.direction is not Direction.OUTBOUND or not row.kind.needs_human_ack or peer is None:
                continue
            self.transport.avoid_current_path(peer)
            reminder = service_kind.reminder(peer, row)
            self.spawn(self.outbox.submit(reminder), f"reminding {peer.station_id} of {row.id}")

    async def observe_peer_ack(self, peer_id: str, message_id: str, at: str) -> None:
        """Time the peer's acknowledgement of our message: our envelope's time to the peer's stamp."""
        row = await self.store.message(message_id)
        if row is None or row.direction is not Direction.OUTBOUND or row.peer_id != peer_id:
            return
        waited = (parse_ts(at, "at") - parse_ts(row.ts, "ts")).total_seconds()
        self.metrics.time_to_ack.labels(row.precedence.value, "peer").observe(max(0.0, waited))

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

    # -- the task group -------------------------------------------------------------------

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

    def _announce_watch(self, peer_id: str | None = None) -> None:
        what = f"telling {peer_id or 'the peers'} who is on watch"
        self.spawn(self.watch.announce(SYSTEM_ACTOR, peer_id, unless_vacant=True), what)

    def running_tasks(self) -> list[asyncio.Task[Any]]:
        """The background tasks still running (each named for its work)."""
        return [task for task in self._background if not task.done()]

    def spawn(self, coro: Coroutine[Any, Any, Any], what: str) -> None:
        """Run ``coro`` in the station's task group; a failure is logged, never fatal.

        Outside :meth:`running` the coroutine is dropped with a warning (nothing may outlive the station).
        """
        self._start(coro, what, essential=False)

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
                self._start(self.call_escalator.run(), "the call escalator", essential=True)
                self._start(self.deconfliction.run(), "deconfliction", essential=True)
                for inbox in self.transport.inboxes(self.me.config.endpoints):
                    what = f"the relay inbox at {inbox.url}"
                    self._start(inbox.run(self._relay_batch), what, essential=True)
                for peer_id in list(self.workers):
                    self._start_link(peer_id)
                # After a restart the peers hear the watch again.
                self.spawn(self.watch.announce_held(SYSTEM_ACTOR), "telling the peers who is on watch")
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
