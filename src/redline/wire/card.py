"""Contact cards: how two stations learn each other's keys, and the code that proves it.

A card carries a station's public keys, its TLS certificate, and the
endpoints where it listens, self-signed with its Ed25519 key. Importing a card
proves nothing about who made it; the *verification code*, derived from both
cards and read aloud between the two administrators, does.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from redline.crypto.keys import StationKeys, parse_encryption_key, parse_signing_key, verify_signature
from redline.crypto.sealing import SUITE_NAME
from redline.crypto.tls import fingerprint_pem
from redline.domain.names import check_station_id
from redline.errors import InputError, RemoteProtocolError
from redline.wire.codec import canonical, is_utf8

CARD_KEYS = frozenset(
    {
        "v",
        "type",
        "station",
        "name",
        "signing_key",
        "encryption_key",
        "hpke_suite",
        "tls_certificate",
        "tls_fingerprint",
        "endpoints",
        "created_at",
        "sig",
    }
)
_PREFIX = b"redline/card/v1\n"
MAX_ENDPOINTS = 8


@dataclass(frozen=True, slots=True)
class ContactCard:
    station: str
    name: str
    signing_key: str
    encryption_key: str
    tls_certificate: str
    tls_fingerprint: str
    endpoints: tuple[str, ...]
    created_at: str
    sig: str

    def unsigned(self) -> dict[str, Any]:
        return {
            "v": 1,
            "type": "contact-card",
            "station": self.station,
            "name": self.name,
            "signing_key": self.signing_key,
            "encryption_key": self.encryption_key,
            "hpke_suite": SUITE_NAME,
            "tls_certificate": self.tls_certificate,
            "tls_fingerprint": self.tls_fingerprint,
            "endpoints": list(self.endpoints),
            "created_at": self.created_at,
        }

    def to_json(self) -> dict[str, Any]:
        return {**self.unsigned(), "sig": self.sig}


ENDPOINT_SCHEMES = ("https", "nats")  # nats: a store-and-forward relay (see transport/relay.py)


def check_endpoint(url: object) -> str:
    if not isinstance(url, str):
        raise InputError("endpoints: each endpoint must be a string like https://host:port")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InputError(f"endpoints: {url!r} is not a URL ({exc})") from None
    if (
        parts.scheme not in ENDPOINT_SCHEMES
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.username
    ):
        raise InputError(f"endpoints: {url!r} must be https://HOST:PORT (or nats://HOST:PORT for a relay)")
    if port is None:
        raise InputError(f"endpoints: {url!r} must name a port")
    return f"{parts.scheme}://{parts.netloc}"


def make_card(
    keys: StationKeys, station: str, name: str, tls_certificate: str, endpoints: list[str], created_at: str
) -> ContactCard:
    draft = ContactCard(
        station=check_station_id(station),
        name=name,
        signing_key=keys.signing_public,
        encryption_key=keys.encryption_public,
        tls_certificate=tls_certificate,
        tls_fingerprint=fingerprint_pem(tls_certificate),
        endpoints=tuple(check_endpoint(e) for e in endpoints),
        created_at=created_at,
        sig="",
    )
    sig = keys.sign(_PREFIX + canonical(draft.unsigned()))
    return ContactCard(**{**_fields(draft), "sig": sig})


def _fields(card: ContactCard) -> dict[str, Any]:
    return {s: getattr(card, s) for s in ContactCard.__slots__}


def parse_card(obj: object) -> ContactCard:
    """Validate a card completely: shape, keys, certificate fingerprint, self-signature."""
    if not isinstance(obj, dict):
        raise InputError("contact card: expected a JSON object")
    missing, extra = CARD_KEYS - obj.keys(), obj.keys() - CARD_KEYS
    if missing or extra:
        raise InputError(
            "contact card: "
            + "; ".join(
                part
                for part in (
                    f"missing {', '.join(sorted(missing))}" if missing else "",
                    f"unexpected {', '.join(sorted(extra))}" if extra else "",
                )
                if part
            )
        )
    if type(obj["v"]) is not int or obj["v"] != 1 or obj["type"] != "contact-card":
        raise InputError("contact card: not a version 1 Redline contact card")
    if obj["hpke_suite"] != SUITE_NAME:
        raise InputError(f"contact card: HPKE suite {obj['hpke_suite']!r} is not supported ({SUITE_NAME})")
    name = obj["name"]
    if not isinstance(name, str) or not 0 < len(name) <= 128 or not is_utf8(name):
        raise InputError("contact card: name must be 1-128 characters")
    endpoints = obj["endpoints"]
    if not isinstance(endpoints, list) or not 0 < len(endpoints) <= MAX_ENDPOINTS:
        raise InputError(f"contact card: endpoints must list 1 to {MAX_ENDPOINTS} URLs")
    cert = obj["tls_certificate"]
    if not isinstance(cert, str):
        raise InputError("contact card: tls_certificate must be a PEM string")
    if fingerprint_pem(cert) != obj["tls_fingerprint"]:
        raise InputError("contact card: tls_fingerprint does not match tls_certificate")
    signing = parse_signing_key(obj["signing_key"], "contact card signing_key")
    parse_encryption_key(obj["encryption_key"], "contact card encryption_key")
    if not isinstance(obj["created_at"], str) or not isinstance(obj["sig"], str):
        raise InputError("contact card: created_at and sig must be strings")
    card = ContactCard(
        station=check_station_id(obj["station"], "contact card station"),
        name=name,
        signing_key=obj["signing_key"],
        encryption_key=obj["encryption_key"],
        tls_certificate=cert,
        tls_fingerprint=obj["tls_fingerprint"],
        endpoints=tuple(check_endpoint(e) for e in endpoints),
        created_at=obj["created_at"],
        sig=obj["sig"],
    )
    try:
        verify_signature(signing, card.sig, _PREFIX + canonical(card.unsigned()), "contact card")
    except RemoteProtocolError as exc:
        raise InputError(f"{exc.message}; the card was altered or is not self-signed") from None
    return card


def verification_code(a: ContactCard, b: ContactCard) -> str:
    """20 digits both administrators see alike, whichever side computes it."""
    parts = sorted(canonical([c.station, c.signing_key, c.encryption_key, c.tls_fingerprint]) for c in (a, b))
    number = int.from_bytes(hashlib.sha256(b"redline/verify/v1\n" + b"\n".join(parts)).digest()[:9], "big")
    digits = f"{number % 10**20:020d}"
    return " ".join(digits[i : i + 5] for i in range(0, 20, 5))
