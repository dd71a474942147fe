"""Signed machine receipts: "I, station B, hold these envelopes of yours durably".

One receipt covers a batch: a list of ``[seq, digest]`` entries, signed once.
A retransmitted envelope is answered with the receipt that first covered it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from redline.crypto.keys import StationKeys, verify_signature
from redline.errors import BadReceipt, InputError, RemoteProtocolError
from redline.wire.codec import canonical, expect_object, field_str

RECEIPT_KEYS = frozenset({"v", "type", "id", "by", "for", "at", "entries", "sig"})
MAX_ENTRIES = 4096
_PREFIX = b"redline/receipt/v1\n"


@dataclass(frozen=True, slots=True)
class Receipt:
    id: str
    by: str
    for_station: str
    at: str
    entries: tuple[tuple[int, str], ...]
    sig: str

    def unsigned(self) -> dict[str, Any]:
        return {
            "v": 1,
            "type": "receipt",
            "id": self.id,
            "by": self.by,
            "for": self.for_station,
            "at": self.at,
            "entries": [[seq, dig] for seq, dig in self.entries],
        }

    def to_json(self) -> dict[str, Any]:
        return {**self.unsigned(), "sig": self.sig}


def issue_receipt(
    keys: StationKeys, receipt_id: str, by: str, for_station: str, at: str, entries: list[tuple[int, str]]
) -> Receipt:
    draft = Receipt(receipt_id, by, for_station, at, tuple(entries), "")
    return Receipt(
        receipt_id, by, for_station, at, tuple(entries), keys.sign(_PREFIX + canonical(draft.unsigned()))
    )


def parse_receipt(obj: object) -> Receipt:
    what = "receipt"
    try:
        fields = expect_object(obj, what, RECEIPT_KEYS)
    except RemoteProtocolError as exc:
        raise BadReceipt(exc.message) from None
    if type(fields["v"]) is not int or fields["v"] != 1 or fields["type"] != "receipt":
        raise BadReceipt("receipt: unsupported version or type")
    raw_entries = fields["entries"]
    if not isinstance(raw_entries, list) or not 0 < len(raw_entries) <= MAX_ENTRIES:
        raise BadReceipt(f"receipt.entries: expected 1 to {MAX_ENTRIES} [seq, digest] pairs")
    entries: list[tuple[int, str]] = []
    for item in raw_entries:
        ok = (
            isinstance(item, list)
            and len(item) == 2
            and isinstance(item[0], int)
            and not isinstance(item[0], bool)
            and 1 <= item[0] < 2**53
            and isinstance(item[1], str)
            and len(item[1]) == 64
            and not item[1].strip("0123456789abcdef")
        )
        if not ok:
            raise BadReceipt(f"receipt.entries: {item!r} is not a [seq, sha256-hex digest] pair")
        entries.append((item[0], item[1]))
    try:
        return Receipt(
            id=field_str(fields, "id", what, 64),
            by=field_str(fields, "by", what, 32),
            for_station=field_str(fields, "for", what, 32),
            at=field_str(fields, "at", what, 40),
            entries=tuple(entries),
            sig=field_str(fields, "sig", what, 128),
        )
    except (RemoteProtocolError, InputError) as exc:
        raise BadReceipt(exc.message) from None


def verify_receipt(receipt: Receipt, key: Ed25519PublicKey) -> None:
    try:
        signed = _PREFIX + canonical(receipt.unsigned())
    except ValueError as exc:  # rfc8785 refuses what JSON allows but JCS does not
        raise BadReceipt(f"receipt {receipt.id}: cannot be canonicalised ({exc})") from None
    try:
        verify_signature(key, receipt.sig, signed, f"receipt {receipt.id}")
    except RemoteProtocolError as exc:
        raise BadReceipt(exc.message) from None
