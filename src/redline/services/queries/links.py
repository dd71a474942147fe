"""Links to verified peers: what the link panel and API show, and the link commands.

What is stored (suspensions, the peer's last scorecard) comes from the store;
what lives only in the running station (the link tester's state, the delivery
worker's queue, the transport's paths) comes through :class:`LinkStatus`,
which the runtime implements. Commands: send a link test now, suspend or
resume a link (the peer hears of it in a signed service message).
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from redline.domain.phrases import load_catalogue
from redline.domain.stations import OperatorRecord, PeerRecord
from redline.errors import Conflict, NotFound, _t
from redline.services.assurance import change_suspension, scorecard, suspension_of
from redline.services.outbox import Outbox
from redline.services.peers import PeerDirectory
from redline.services.ports import StationStore


class LinkStatus(Protocol):
    """The in-memory state of each link, as the running station knows it."""

    def tests(self, peer_id: str) -> dict[str, Any] | None:
        """The link tester's status (state, interval, RTT, ...); None before it runs."""
        ...

    def clock(self, peer_id: str) -> dict[str, Any] | None:
        """The peer's clock offset as link tests last measured it; None before the tester runs."""
        ...

    def delivery(self, peer_id: str) -> dict[str, Any] | None:
        """The delivery worker's status; None before it runs."""
        ...

    def queue_depth(self, peer_id: str) -> int | None: ...

    def paths(self, peer: PeerRecord) -> list[dict[str, Any]]: ...

    async def send_test(self, peer_id: str) -> str | None:
        """Send a link test now; its id, or None when no tester runs for this peer."""
        ...


class LinkQueries:
    def __init__(
        self,
        store: StationStore,
        peers: PeerDirectory,
        status: LinkStatus,
        me_id: str,
        ack_deadlines: dict[str, float],
        clock_window_seconds: float = 120.0,
    ) -> None:
        self._store = store
        self._peers = peers
        self._status = status
        self._me_id = me_id
        self._ack_deadlines = ack_deadlines
        self._clock_window = clock_window_seconds

    async def verified_peer(self, station_id: str) -> PeerRecord:
        peer = await self._peers.get(station_id)
        if peer is None:
            raise NotFound(_t("no peer {station_id!r}", station_id=station_id))
        if not peer.verified:
            raise Conflict(
                _t("peer {station_id!r} is not verified; there is no link yet", station_id=station_id)
            )
        return peer

    async def peers(self) -> list[dict[str, Any]]:
        """Every peer, verified or not, with its delivery status."""
        return [
            {
                "station": peer.station_id,
                "name": peer.name,
                "verified": peer.verified,
                "verified_at": peer.verified_at,
                "endpoints": list(peer.endpoints),
                "tls_fingerprint": peer.tls_fingerprint,
                "delivery": self._status.delivery(peer.station_id),
            }
            for peer in await self._store.peers()
        ]

    async def verified_peers(self) -> list[PeerRecord]:
        return [p for p in await self._store.peers() if p.verified]

    async def peer_names(self, lang: str) -> dict[str, str]:
        """What the console calls each peer in ``lang`` (``redline peer rename``), by station id. Read
        from the store, not the cached directory, so a rename from the CLI shows on the next page."""
        return {p.station_id: p.display_name(lang) for p in await self._store.peers()}

    async def links(self) -> list[dict[str, Any]]:
        return [await self.view(p) for p in await self.verified_peers()]

    async def link(self, station_id: str) -> dict[str, Any]:
        return await self.view(await self.verified_peer(station_id))

    async def view(self, peer: PeerRecord) -> dict[str, Any]:
        row = await self._store.link_row(peer.station_id)
        tests = self._status.tests(peer.station_id)
        suspension = suspension_of(row)
        peer_card = json.loads(row.peer_scorecard) if row and row.peer_scorecard else None
        ours = self._ack_deadlines
        theirs = peer_card.get("ack_deadlines") if peer_card else None
        return {
            "peer": peer.station_id,
            "name": peer.name,
            "state": tests["state"] if tests else "unknown",
            "tests": tests,
            "suspended": suspension is not None,
            "suspended_at": suspension["at"] if suspension else None,
            "suspended_by": suspension["by"] if suspension else None,
            "suspensions": {
                "ours": {"at": row.suspended_at, "by": row.suspended_by}
                if row and row.suspended_at
                else None,
                "peers": (
                    {"at": row.peer_suspended_at, "by": row.peer_suspended_by}
                    if row and row.peer_suspended_at
                    else None
                ),
            },
            # The peer's clock minus ours (positive: ahead), ± half a test's round trip; envelopes
            # dated more than window_s ahead of our clock are refused (docs/protocol.md).
            "clock": {**(self._status.clock(peer.station_id) or {}), "window_s": self._clock_window},
            "queue_depth": self._status.queue_depth(peer.station_id),
            "delivery": self._status.delivery(peer.station_id),
            "paths": self._status.paths(peer),
            "ack_deadlines": {
                "ours": ours,
                "peers": theirs,
                # Each side computes "overdue" itself: a mismatch must be seen and settled.
                "agreed": None if theirs is None else theirs == ours,
            },
            "phrase_catalogue": {
                "ours": load_catalogue().version,
                "peers": peer_card.get("phrase_catalogue") if peer_card else None,
                "agreed": None
                if not peer_card or "phrase_catalogue" not in peer_card
                else peer_card["phrase_catalogue"] == load_catalogue().version,
            },
            "peer_scorecard": peer_card,
        }

    async def scorecard(self, station_id: str) -> dict[str, Any]:
        """Our scorecard of a link beside the last one the peer shared."""
        peer = await self.verified_peer(station_id)
        row = await self._store.link_row(peer.station_id)
        shared = row.peer_scorecard if row else None
        return {
            "link": f"{self._me_id}<->{peer.station_id}",
            "ours": await scorecard(self._store, peer.station_id, self._ack_deadlines),
            "peers": json.loads(shared) if shared else None,
        }


class LinkCommands:
    def __init__(self, queries: LinkQueries, store: StationStore, outbox: Outbox, status: LinkStatus) -> None:
        self._queries = queries
        self._store = store
        self._outbox = outbox
        self._status = status

    async def send_test(self, operator: OperatorRecord, station_id: str) -> str:
        """A link test to a verified peer now (the API's command)."""
        operator.role.require_send("test links")  # a link test is traffic on the link
        peer = await self._queries.verified_peer(station_id)
        test_id = await self._status.send_test(peer.station_id)
        if test_id is None:
            raise Conflict(
                _t(
                    "the link to {station_id} is not running yet; try again in a few seconds",
                    station_id=peer.station_id,
                )
            )
        return test_id

    async def test_running_link(self, operator: OperatorRecord, station_id: str) -> str:
        """A link test on a link that runs (the console's button, shown only for running links)."""
        operator.role.require_send("test links")
        test_id = await self._status.send_test(station_id)
        if test_id is None:
            raise Conflict(_t("there is no running link to {station_id!r}", station_id=station_id))
        return test_id

    async def change_suspension(
        self, operator: OperatorRecord, station_id: str, suspend: bool, reason: str
    ) -> tuple[str, dict[str, Any]]:
        """Suspend or resume; the service message's id and the link as it is now."""
        peer = await self._queries.verified_peer(station_id)
        message_id = await change_suspension(self._outbox, self._store, operator, peer, suspend, reason)
        return message_id, await self._queries.view(peer)
