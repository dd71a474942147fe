"""An in-memory view of the peers table, so the hot paths ask no query per request."""

from __future__ import annotations

from redline.domain.stations import PeerRecord
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
