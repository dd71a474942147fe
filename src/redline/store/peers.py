"""Peers (the stations we hold cards of) and operators (who may act here)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.exc import IntegrityError

from redline.domain.stations import OperatorRecord, PeerRecord, Role
from redline.errors import Conflict, NotFound
from redline.store import schema as t
from redline.store.audit import insert_audit
from redline.store.database import Database


def _peer(row: Any) -> PeerRecord:
    return PeerRecord(
        station_id=row.station_id,
        name=row.name,
        signing_key=row.signing_key,
        encryption_key=row.encryption_key,
        tls_fingerprint=row.tls_fingerprint,
        tls_certificate=row.tls_certificate,
        endpoints=tuple(json.loads(row.endpoints)),
        card=row.card,
        added_at=row.added_at,
        verified_at=row.verified_at,
        display_names=tuple(sorted(json.loads(row.display_names or "{}").items())),
    )


def _values(peer: PeerRecord) -> dict[str, Any]:
    values = {column.name: getattr(peer, column.name) for column in t.peers.columns}
    values["endpoints"] = json.dumps(list(peer.endpoints))
    values["display_names"] = json.dumps(dict(peer.display_names), ensure_ascii=False)
    return values


class PeerStore:
    database: Database

    async def add_peer(self, peer: PeerRecord) -> None:
        try:
            async with self.database.transaction() as conn:
                await conn.execute(insert(t.peers).values(**_values(peer)))
                event = (peer.added_at, "admin", "peer_add", {"peer": peer.station_id})
                await insert_audit(conn, [event])
        except IntegrityError:
            raise Conflict(
                f"peer {peer.station_id!r} (or its TLS certificate) is already known; "
                "remove it first to replace its card"
            ) from None

    async def replace_unverified_peer(self, peer: PeerRecord) -> None:
        async with self.database.transaction() as conn:
            await conn.execute(
                update(t.peers)
                .where(and_(t.peers.c.station_id == peer.station_id, t.peers.c.verified_at.is_(None)))
                .values(**_values(peer))
            )

    async def peer(self, station_id: str) -> PeerRecord | None:
        rows = await self.database.fetch(select(t.peers).where(t.peers.c.station_id == station_id))
        return _peer(rows[0]) if rows else None

    async def peers(self) -> list[PeerRecord]:
        return [_peer(r) for r in await self.database.fetch(select(t.peers).order_by(t.peers.c.station_id))]

    async def mark_peer_verified(self, station_id: str, at: str) -> None:
        async with self.database.transaction() as conn:
            await conn.execute(
                update(t.peers).where(t.peers.c.station_id == station_id).values(verified_at=at)
            )
            await insert_audit(conn, [(at, "admin", "peer_verify", {"peer": station_id})])

    async def set_peer_names(self, station_id: str, names: dict[str, str], at: str, by: str) -> None:
        """Set (or, with an empty name, remove) what the console calls a peer in each given language."""
        async with self.database.transaction() as conn:
            rows = await conn.execute(
                select(t.peers.c.display_names).where(t.peers.c.station_id == station_id)
            )
            row = rows.first()
            if row is None:
                raise NotFound(f"no peer {station_id!r}; import its card with `redline peer add CARD`")
            merged = {**json.loads(row.display_names or "{}"), **names}
            kept = {lang: name for lang, name in sorted(merged.items()) if name}
            await conn.execute(
                update(t.peers)
                .where(t.peers.c.station_id == station_id)
                .values(display_names=json.dumps(kept, ensure_ascii=False))
            )
            await insert_audit(conn, [(at, by, "peer_rename", {"peer": station_id, "names": names})])

    async def add_operator(self, name: str, role: Role, token_hash: str, at: str) -> None:
        try:
            async with self.database.transaction() as conn:
                await conn.execute(
                    insert(t.operators).values(
                        name=name, role=role.value, token_hash=token_hash, created_at=at
                    )
                )
                event = (at, "admin", "operator_add", {"operator": name, "role": role.value})
                await insert_audit(conn, [event])
        except IntegrityError:
            raise Conflict(f"operator {name!r} already exists") from None

    async def operator_by_token_hash(self, token_hash: str) -> OperatorRecord | None:
        o = t.operators.c
        rows = await self.database.fetch(
            select(t.operators).where(o.token_hash == token_hash, o.disabled_at.is_(None))
        )
        return OperatorRecord(rows[0].id, rows[0].name, Role(rows[0].role)) if rows else None
