"""The running station seen through the ports its services and web layer need.

:class:`StationReactions` is what message kinds react through after a commit
(``services.kinds.base.Reactions``); :class:`StationLinks` is the live state
of delivery workers, link testers and paths (``services.queries.LinkStatus``);
:func:`build_services` assembles the :class:`StationServices` bundle web
handlers get instead of the station or its store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from redline.domain.messages import MessageKind
from redline.domain.stations import PeerRecord
from redline.services.accounts import AccountService
from redline.services.changes import ChangeFeed
from redline.services.kinds.base import Body, OutboundDraft
from redline.services.limits import RateLimiter
from redline.services.queries import (
    ConsoleService,
    LinkCommands,
    LinkQueries,
    LogQueries,
    MessageQueries,
    NoticeQueries,
    OperationsQueries,
    StationInfo,
    StationServices,
    ThreadQueries,
    TranscriptQueries,
)
from redline.store.console import ConsoleStore

if TYPE_CHECKING:
    from redline.runtime.station import Station


class StationReactions:
    """The station parts message kinds react through (``redline.services.kinds.base.Reactions``)."""

    def __init__(self, station: Station) -> None:
        self._station = station

    def heard_from(self, peer_id: str) -> None:
        worker = self._station.workers.get(peer_id)
        if worker is not None:
            worker.heard_from_peer()

    def submit(self, draft: OutboundDraft, what: str) -> None:
        self._station.spawn(self._station.outbox.submit(draft), what)

    def link_test_answered(self, peer_id: str, test_id: str, reply_ts: str, arrived: str) -> None:
        tester = self._station.testers.get(peer_id)
        if tester is not None:
            tester.on_reply(test_id, reply_ts, arrived)

    def notice_from_peer(self, peer_id: str, kind: MessageKind, body: Body) -> None:
        self._station.spawn(
            self._station.deconfliction.on_peer_notice(peer_id, kind, body),
            f"checking {peer_id}'s notice for conflicts",
        )

    def acknowledged_by_peer(self, peer_id: str, message_id: str, at: str) -> None:
        self._station.spawn(
            self._station.observe_peer_ack(peer_id, message_id, at), f"timing {peer_id}'s acknowledgement"
        )


class StationLinks:
    """The running station's links, as ``services.queries.LinkStatus``."""

    def __init__(self, station: Station) -> None:
        self._station = station

    def tests(self, peer_id: str) -> dict[str, Any] | None:
        tester = self._station.testers.get(peer_id)
        return tester.status() if tester else None

    def clock(self, peer_id: str) -> dict[str, Any] | None:
        tester = self._station.testers.get(peer_id)
        return tester.clock_status() if tester else None

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


class StationDutyStatus:
    """The running station's duties and link states, as ``services.queries.StationDuties``.

    Today one site holds every duty of its station: the outbox writer, the escalator,
    deconfliction, and per verified peer its delivery worker and its link tester. A duty is
    held while the task doing it runs (and, for delivery, once the worker has read its cursor)."""

    def __init__(self, station: Station) -> None:
        self._station = station

    def link_states(self) -> dict[str, str]:
        return {peer: tester.health.state.value for peer, tester in self._station.testers.items()}

    def duties(self) -> dict[str, bool]:
        station = self._station
        running = {task.get_name() for task in station.running_tasks()}
        held = {
            "outbox": "the outbox writer" in running,
            "escalation": "the escalator" in running,
            "deconfliction": "deconfliction" in running,
        }
        for peer, worker in station.workers.items():
            held[f"delivery:{peer}"] = f"delivery to {peer}" in running and worker.ready.is_set()
            held[f"link_tests:{peer}"] = f"link tests to {peer}" in running
        return held

    def index_loaded(self) -> bool:
        return self._station.deconfliction.ready.is_set()


def build_services(station: Station) -> StationServices:
    """Every service the web layer uses, over the station's store, outbox and clock."""
    clock, me = station.clock, station.me
    changes = ChangeFeed(clock)
    changes.listen_to(station.store)
    console = ConsoleStore(station.store)
    status = StationLinks(station)
    links = LinkQueries(
        station.store,
        station.peers,
        status,
        me.station_id,
        me.config.ack_deadlines,
        me.config.clock_window_seconds,
    )
    return StationServices(
        station=StationInfo(
            station_id=me.station_id,
            name=me.config.name,
            deadlines={p.value: d.total_seconds() for p, d in me.config.deadlines().items()},
        ),
        auth=station.auth,
        accounts=AccountService(console, clock, station.auth.forget),
        messaging=station.messaging,
        calls=station.calls,
        messages=MessageQueries(station.store, console, me.station_id, me.keys.signing_public, clock),
        links=links,
        link_commands=LinkCommands(links, station.store, station.outbox, status),
        deconfliction=station.deconfliction,
        notices=NoticeQueries(station.notices, station.deconfliction, me.station_id, clock),
        console=ConsoleService(console, station.store, clock),
        transcripts=TranscriptQueries(station.store, console, clock),
        threads=ThreadQueries(station.store, clock),
        logs=LogQueries(station.store, me.station_id),
        watch=station.watch,
        changes=changes,
        api_limits=RateLimiter(me.config.api_rate(), clock),
        operations=OperationsQueries(
            station.store, station.metrics, StationDutyStatus(station), me.station_id, station.site, clock
        ),
        clock=clock,
    )
