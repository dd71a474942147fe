"""An in-memory view of the peers table, so the hot paths ask no query per request."""

from __future__ import annotations

from redline.domain.names import check_station_id
from redline.domain.stations import PeerRecord
from redline.errors import Conflict, NotFound, _t
from redline.services.ports import StationStore


class PeerDirectory:
    """Peers by station id, refreshed by the runtime; a miss or an unverified hit re-reads the store
    (the CLI may have just added or verified the peer from another process)."""

    def __init__(self, store: StationStore) -> None:
        self._store = store
        self._peers: dict[str, PeerRecord] = {}

    def replace(self, peers: list[PeerRecord]) -> None:
        self._peers = {p.station_id: p for p in peers}

    def cached(self) -> list[PeerRecord]:
        return list(self._peers.values())

    async def get(self, station_id: str) -> PeerRecord | None:
        peer = self._peers.get(station_id)
        if peer is None or not peer.verified:
            peer = await self._store.peer(station_id)
            if peer is not None:
                self._peers[station_id] = peer
        return peer

    async def recipient(self, station_id: object) -> PeerRecord:
        """The verified peer ``station_id`` names as a recipient (field ``to``), or the error that
        says why traffic cannot go there."""
        peer = await self.get(check_station_id(station_id, "to"))
        if peer is None:
            raise NotFound(_t("to: {station_id!r} is not a peer of this station", station_id=station_id))
        if not peer.verified:
            raise Conflict(
                _t(
                    "to: peer {station_id!r} is not verified; no traffic flows until both "
                    "administrators compare codes with `redline peer verify {station_id}`",
                    station_id=station_id,
                )
            )
        return peer
