"""Pairing: exchange contact cards, compare a verification code, then trust."""

from __future__ import annotations

import json

from redline.domain.clock import SYSTEM_CLOCK, Clock, format_ts
from redline.domain.stations import PeerRecord
from redline.errors import Conflict, InputError, NotFound
from redline.json_input import parse_json
from redline.services.ports import StationStore
from redline.services.station import StationIdentity
from redline.wire.card import ContactCard, parse_card, verification_code

MAX_CARD_BYTES = 64 * 1024


def read_card(raw: bytes) -> ContactCard:
    if len(raw) > MAX_CARD_BYTES:
        raise InputError(f"contact card: {len(raw)} bytes is more than {MAX_CARD_BYTES}")
    return parse_card(parse_json(raw, "contact card"))


async def add_peer(
    store: StationStore,
    me: StationIdentity,
    card: ContactCard,
    clock: Clock = SYSTEM_CLOCK,
    display_names: dict[str, str] | None = None,
) -> PeerRecord:
    """Import a peer's card, unverified, with what our console calls it (``{lang: name}``, checked by
    ``domain.stations.check_peer_names``). Re-importing an unverified peer replaces its card."""
    if card.station == me.station_id:
        raise InputError(f"contact card: station {card.station!r} is this station itself")
    imported = PeerRecord(
        station_id=card.station,
        name=card.name,
        signing_key=card.signing_key,
        encryption_key=card.encryption_key,
        tls_fingerprint=card.tls_fingerprint,
        tls_certificate=card.tls_certificate,
        endpoints=tuple(card.endpoints),
        card=json.dumps(card.to_json(), sort_keys=True),
        added_at=format_ts(clock.now()),
        verified_at=None,
        display_names=tuple(sorted((k, v) for k, v in (display_names or {}).items() if v)),
    )
    existing = await store.peer(card.station)
    if existing is None:
        await store.add_peer(imported)
    elif existing.verified:
        raise Conflict(
            f"peer {card.station!r} is verified already; a new card for it needs key rotation, not re-import"
        )
    else:
        await store.replace_unverified_peer(imported)
    peer = await store.peer(card.station)
    assert peer is not None
    return peer


async def peer_or_fail(store: StationStore, station_id: str) -> PeerRecord:
    peer = await store.peer(station_id)
    if peer is None:
        raise NotFound(f"no peer {station_id!r}; import its card with `redline peer add CARD`")
    return peer


async def rename_peer(
    store: StationStore,
    station_id: str,
    names: dict[str, str],
    by: str = "admin",
    clock: Clock = SYSTEM_CLOCK,
) -> PeerRecord:
    """Set what the console calls a peer per language (an empty name removes that language's)."""
    if not names:
        raise InputError("peer name: give at least one LANG=NAME, e.g. en=Beijing zh-Hans=北京")
    await peer_or_fail(store, station_id)
    await store.set_peer_names(station_id, names, format_ts(clock.now()), by)
    return await peer_or_fail(store, station_id)


def code_for(me: StationIdentity, peer: PeerRecord, clock: Clock = SYSTEM_CLOCK) -> str:
    return verification_code(me.card(clock), parse_card(json.loads(peer.card)))


async def verify_peer(
    store: StationStore,
    me: StationIdentity,
    station_id: str,
    confirm_code: str,
    clock: Clock = SYSTEM_CLOCK,
) -> PeerRecord:
    """Mark a peer verified if ``confirm_code`` equals the code both administrators read."""
    peer = await peer_or_fail(store, station_id)
    expected = code_for(me, peer, clock)
    if "".join(confirm_code.split()) != "".join(expected.split()):
        raise InputError(
            f"verification code does not match for {station_id!r}: do not pair; "
            "re-exchange cards over a channel you trust"
        )
    if not peer.verified:
        await store.mark_peer_verified(station_id, format_ts(clock.now()))
    verified = await store.peer(station_id)
    assert verified is not None
    return verified
