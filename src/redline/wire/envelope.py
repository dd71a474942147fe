"""The signed, sealed envelope: the one unit that travels on a link.

    {"v": 1, "id": <32 hex>, "from": <station>, "to": <station>, "seq": n,
     "prev": <sha256 of the sender's envelope n-1 on this link, or 64 zeros>,
     "ts": <UTC>, "precedence": "FLASH"|..., "kind": "text"|"ack",
     "payload": <base64url HPKE ciphertext>, "sig": <base64url Ed25519>}

``sig`` covers the canonical encoding of every other field; an envelope's
digest is SHA-256 over the canonical encoding of all fields, ``sig`` included,
and is what the next envelope's ``prev`` and every receipt refer to. The
payload is sealed to the recipient with an HPKE ``info`` naming the header,
so it cannot be lifted into another envelope.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from redline.crypto.keys import StationKeys, b64decode, b64encode, verify_signature
from redline.crypto.sealing import open_sealed, seal
from redline.domain.clock import parse_ts
from redline.domain.messages import MessageKind, Precedence
from redline.domain.names import check_message_id, check_station_id
from redline.errors import InputError, MalformedEnvelope
from redline.json_input import parse_json
from redline.protocol import EnvelopeHeader
from redline.wire.codec import (
    canonical,
    digest,
    expect_object,
    field_hex_digest,
    field_int,
    field_str,
)

VERSION = 1
ENVELOPE_KEYS = frozenset(
    {"v", "id", "from", "to", "seq", "prev", "ts", "precedence", "kind", "payload", "sig"}
)
MAX_PAYLOAD_CHARS = 1_400_000  # a sealed notice of 10,000 vertices fits
MIN_YEAR, MAX_YEAR = 2000, 9000  # far enough from datetime's limits that deadlines never overflow
_SIGNING_PREFIX = b"redline/envelope/v1\n"
_SEALING_PREFIX = b"redline/payload/v1\n"


@dataclass(frozen=True, slots=True)
class Envelope:
    id: str
    sender: str
    recipient: str
    seq: int
    prev: str
    ts: str
    precedence: Precedence
    kind: MessageKind
    payload: str
    sig: str
    digest: str
    encoded: bytes = field(default=b"", repr=False)  # canonical bytes of the signed envelope

    def to_json(self) -> dict[str, Any]:
        return {**_unsigned_fields(self), "sig": self.sig}

    def encode(self) -> bytes:
        return self.encoded or canonical(self.to_json())

    @property
    def header(self) -> EnvelopeHeader:
        return EnvelopeHeader(seq=self.seq, prev=self.prev, digest=self.digest)


def _unsigned_fields(env: Envelope) -> dict[str, Any]:
    return {
        "v": VERSION,
        "id": env.id,
        "from": env.sender,
        "to": env.recipient,
        "seq": env.seq,
        "prev": env.prev,
        "ts": env.ts,
        "precedence": env.precedence.value,
        "kind": env.kind.value,
        "payload": env.payload,
    }


def _sealing_info(message_id: str, sender: str, recipient: str, seq: int, kind: MessageKind) -> bytes:
    return _SEALING_PREFIX + canonical(
        {"id": message_id, "from": sender, "to": recipient, "seq": seq, "kind": kind.value}
    )


def build_envelope(
    keys: StationKeys,
    recipient_key: X25519PublicKey,
    *,
    message_id: str,
    sender: str,
    recipient: str,
    seq: int,
    prev: str,
    ts: str,
    precedence: Precedence,
    kind: MessageKind,
    body: dict[str, Any],
) -> Envelope:
    sealed = seal(canonical(body), recipient_key, _sealing_info(message_id, sender, recipient, seq, kind))
    draft = Envelope(
        id=message_id,
        sender=sender,
        recipient=recipient,
        seq=seq,
        prev=prev,
        ts=ts,
        precedence=precedence,
        kind=kind,
        payload=b64encode(sealed),
        sig="",
        digest="",
    )
    unsigned = _unsigned_fields(draft)
    sig = keys.sign(_SIGNING_PREFIX + canonical(unsigned))
    return _with_digest({**unsigned, "sig": sig}, draft, sig)


def _with_digest(full: dict[str, Any], env: Envelope, sig: str) -> Envelope:
    encoded = canonical(full)
    return replace(env, sig=sig, digest=digest(encoded), encoded=encoded)


def parse_envelope(obj: object) -> Envelope:
    """Check the shape of one envelope (not its signature) and return it."""
    what = "envelope"
    fields = expect_object(obj, what, ENVELOPE_KEYS)
    if fields["v"] != VERSION or isinstance(fields["v"], bool):
        raise MalformedEnvelope(f"{what}.v: version {fields['v']!r} is not supported (expected {VERSION})")
    try:
        message_id = check_message_id(fields["id"], f"{what}.id")
        sender = check_station_id(fields["from"], f"{what}.from")
        recipient = check_station_id(fields["to"], f"{what}.to")
        precedence = Precedence.parse(fields["precedence"])
    except InputError as exc:
        raise MalformedEnvelope(exc.message) from None
    try:
        kind = MessageKind(fields["kind"])
    except ValueError:
        raise MalformedEnvelope(f"{what}.kind: {fields['kind']!r} is not a known message kind") from None
    draft = Envelope(
        id=message_id,
        sender=sender,
        recipient=recipient,
        seq=field_int(fields, "seq", what, minimum=1),
        prev=field_hex_digest(fields, "prev", what),
        ts=_check_ts(field_str(fields, "ts", what, 40)),
        precedence=precedence,
        kind=kind,
        payload=field_str(fields, "payload", what, MAX_PAYLOAD_CHARS),
        sig=field_str(fields, "sig", what, 128),
        digest="",
    )
    return _with_digest(dict(fields), draft, draft.sig)


def _check_ts(value: str) -> str:
    try:
        moment = parse_ts(value, "envelope.ts")
    except InputError as exc:
        raise MalformedEnvelope(exc.message) from None
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise MalformedEnvelope(f"envelope.ts: {value!r} is outside the years {MIN_YEAR}-{MAX_YEAR}")
    return value


def verify_envelope(env: Envelope, key: Ed25519PublicKey) -> None:
    verify_signature(key, env.sig, _SIGNING_PREFIX + canonical(_unsigned_fields(env)), f"envelope {env.id}")


def open_payload(env: Envelope, key: X25519PrivateKey) -> dict[str, Any]:
    try:
        sealed = b64decode(env.payload, "payload")
    except InputError as exc:
        raise MalformedEnvelope(f"envelope {env.id}: {exc.message}") from None
    plain = open_sealed(sealed, key, _sealing_info(env.id, env.sender, env.recipient, env.seq, env.kind))
    body = parse_json(plain, f"envelope {env.id}: sealed payload", MalformedEnvelope)
    if not isinstance(body, dict):
        raise MalformedEnvelope(f"envelope {env.id}: sealed payload is not a JSON object")
    return body
