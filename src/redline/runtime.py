"""The running station: store, services and delivery workers, owned by one task group.

This is the composition root below the CLI: it opens the store, builds the
services around it, keeps the set of verified peers (and the server TLS
context that trusts them) current, and runs one delivery worker per verified
peer. ``redline serve`` adds the two HTTP servers to the same task group.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from redline.crypto.tls import fingerprint_der, server_context, trust_peer_certificates
from redline.domain.clock import format_ts, utc_now
from redline.domain.link_health import LinkState, Transition
from redline.domain.messages import Direction, MessageKind
from redline.domain.records import MessageRecord
from redline.domain.stations import PeerRecord
from redline.errors import PayloadTooLarge, RedlineError, UnknownPeer, UnverifiedPeer
from redline.services.accounts import AccountService
from redline.services.assurance import LinkTester
from redline.services.changes import ChangeFeed
from redline.services.deconfliction import Deconfliction
from redline.services.delivery import DeliveryWorker
from redline.services.escalation import Escalator
from redline.services.inbound import MAX_BODY_BYTES, InboundService
from redline.services.kinds import service as service_kind
from redline.services.kinds.base import Body, OutboundDraft
from redline.services.kinds.registry import KINDS
from redline.services.messaging import MessagingService
from redline.services.operators import TokenAuthenticator
from redline.services.outbox import Committed, Outbox
from redline.services.peers import PeerDirectory
from redline.services.queries import (
    ConsoleService,
    LinkCommands,
    LinkEndpoint,
    LinkQueries,
    MessageQueries,
    NoticeQueries,
    StationInfo,
    StationServices,
)
from redline.services.station import StationIdentity, load_identity
from redline.store.console import ConsoleStore
from redline.store.notices import NoticeStore
from redline.store.station import Store
from redline.transport.failover import FailoverTransport
from redline.transport.mounts import station_mounts

log = logging.getLogger(__name__)
PEER_REFRESH_SECONDS = 2.0


class Station:
    def __init__(self, me: StationIdentity, store: Store, transport: FailoverTransport) -> None:
        self.me = me
        self.store = store
        self.transport = transport
        self.outbox = Outbox(store, me, self._on_committed, kinds=KINDS)
        self.inbound = InboundService(store, me, kinds=KINDS, reactions=StationReactions(self))
        self.peers = PeerDirectory(store)
        self.messaging = MessagingService(store, self.outbox, self.peers)
        self.auth = TokenAuthenticator(store)
        self.escalator = Escalator(store, self._on_escalated)
        self.notices = NoticeStore(store)
        self.deconfliction = Deconfliction(self.notices, self.outbox, self.peers, me.station_id)
        self.workers: dict[str, DeliveryWorker] = {}
        self.testers: dict[str, LinkTester] = {}
        self._background: set[asyncio.Task[Any]] = set()
        self._by_fingerprint: dict[str, PeerRecord] = {}
        self._by_station: dict[str, PeerRecord] = {}
        self._trusted: set[str] = set()
        self.link_tls: ssl.SSLContext = server_context(str(me.files.tls_cert), str(me.files.tls_key), [])
        self._tasks: asyncio.TaskGroup | None = None
        self._services: StationServices | None = None
        transport.route_late_answers(self._relay_answer)

    @classmethod
    async def open(cls, data_dir: Path) -> Station:
        me = load_identity(data_dir)
        store = await Store.open(me.config.database_url)
        mounts = station_mounts(
            str(me.files.tls_cert), str(me.files.tls_key), me.station_id, me.keys.signing_public
        )
        transport = FailoverTransport(mounts)
        station = cls(me, store, transport)
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
                self.workers[peer.station_id] = DeliveryWorker(self.store, self.me, peer, self.transport)
                self.testers[peer.station_id] = LinkTester(
                    self.store,
                    self.outbox,
                    self.me.station_id,
                    peer,
                    self.me.config.link_test_interval,
                    self._on_transition,
                    self.me.config.ack_deadlines,
                )
                if self._tasks is not None:
                    self._tasks.create_task(self.workers[peer.station_id].run())
                    self._tasks.create_task(self.testers[peer.station_id].run())

    def _spawn(self, coro: Coroutine[Any, Any, Any], what: str) -> None:
        async def guarded() -> None:
            try:
                await coro
            except Exception:
                log.exception("%s failed", what)

        task = asyncio.get_running_loop().create_task(guarded())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _on_transition(self, peer_id: str, transition: Transition) -> None:
        at = format_ts(utc_now())
        if self._services is not None:
            self._services.changes.bump()  # a link's state is in memory: live pages look again
        if transition.after in (LinkState.DEGRADED, LinkState.DOWN):
            log.warning("ALARM link to %s is %s: %s", peer_id, transition.after.value, transition.reason)
            self._spawn(
                self.store.raise_link_alarm(peer_id, transition.after.value, transition.reason, at),
                f"raising the alarm for {peer_id}",
            )
        elif transition.after is LinkState.UP:
            log.info("link to %s is up (%s)", peer_id, transition.reason)
            self._spawn(self.store.clear_link_alarms(peer_id, at), f"clearing alarms for {peer_id}")

    def _on_escalated(self, rows: list[MessageRecord]) -> None:
        """Remind the peer of each message it left unacknowledged, over another path if there is one."""
        for row in rows:
            peer = self._by_station.get(row.peer_id)
            if row.direction is not Direction.OUTBOUND or not row.kind.needs_human_ack or peer is None:
                continue
            self.transport.avoid_current_path(peer)
            reminder = service_kind.reminder(peer, row)
            self._spawn(self.outbox.submit(reminder), f"reminding {peer.station_id} of {row.id}")

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
            await asyncio.sleep(PEER_REFRESH_SECONDS)
            try:
                await self.refresh_peers()
            except Exception:
                log.exception("refreshing peers failed")

    async def run(self, *servers: Coroutine[Any, Any, None]) -> None:
        """Run workers and the given server coroutines until cancelled or one fails."""
        async with asyncio.TaskGroup() as tasks:
            self._tasks = tasks
            tasks.create_task(self.outbox.run())
            tasks.create_task(self._watch_peers())
            tasks.create_task(self.escalator.run())
            tasks.create_task(self.deconfliction.run())
            for inbox in self.transport.inboxes(self.me.config.endpoints):
                tasks.create_task(inbox.run(self._relay_batch))
            for worker in self.workers.values():
                tasks.create_task(worker.run())
            for tester in self.testers.values():
                tasks.create_task(tester.run())
            for server in servers:
                tasks.create_task(server)

    # -- what the web layer gets ---------------------------------------------------

    def services(self) -> StationServices:
        """The services web handlers and console pages use (built once, on first use)."""
        if self._services is None:
            changes = ChangeFeed()
            changes.listen_to(self.store)
            console = ConsoleStore(self.store)
            status = _StationLinks(self)
            links = LinkQueries(
                self.store, self.peers, status, self.me.station_id, self.me.config.ack_deadlines
            )
            self._services = StationServices(
                station=StationInfo(
                    station_id=self.me.station_id,
                    name=self.me.config.name,
                    deadlines={p.value: str(d) for p, d in self.me.config.deadlines().items()},
                ),
                auth=self.auth,
                accounts=AccountService(console),
                messaging=self.messaging,
                messages=MessageQueries(self.store, console, self.me.station_id),
                links=links,
                link_commands=LinkCommands(links, self.store, self.outbox, status),
                deconfliction=self.deconfliction,
                notices=NoticeQueries(self.notices, self.deconfliction, self.me.station_id),
                console=ConsoleService(console, self.store),
                changes=changes,
            )
        return self._services

    def link_endpoint(self) -> LinkEndpoint:
        return LinkEndpoint(self.me.station_id, self.peer_for_certificate, self.inbound)


class _StationLinks:
    """The running station's links, as ``services.queries.LinkStatus``."""

    def __init__(self, station: Station) -> None:
        self._station = station

    def tests(self, peer_id: str) -> dict[str, Any] | None:
        tester = self._station.testers.get(peer_id)
        return tester.status() if tester else None

    def delivery(self, peer_id: str) -> dict[str, Any] | None:
        worker = self._station.workers.get(peer_id)
        return worker.status() if worker else None

    def queue_depth(self, peer_id: str) -> int | None:
        worker = self._station.workers.get(peer_id)
        return worker.cursor.pending if worker else None

    def paths(self, peer: PeerRecord) -> list[dict[str, Any]]:
        return self._station.transport.path_status(peer)

    async def send_test(self, peer_id: str) -> str | None:
        tester = self._station.testers.get(peer_id)
        return await tester.send_test() if tester else None


class StationReactions:
    """The station parts message kinds react through (``redline.services.kinds.base.Reactions``)."""

    def __init__(self, station: Station) -> None:
        self._station = station

    def heard_from(self, peer_id: str) -> None:
        worker = self._station.workers.get(peer_id)
        if worker is not None:
            worker.heard_from_peer()

    def submit(self, draft: OutboundDraft, what: str) -> None:
        self._station._spawn(self._station.outbox.submit(draft), what)

    def link_test_answered(self, peer_id: str, test_id: str) -> None:
        tester = self._station.testers.get(peer_id)
        if tester is not None:
            tester.on_reply(test_id)

    def notice_from_peer(self, peer_id: str, kind: MessageKind, body: Body) -> None:
        self._station._spawn(
            self._station.deconfliction.on_peer_notice(peer_id, kind, body),
            f"checking {peer_id}'s notice for conflicts",
        )
