"""Checking stored signatures again when a message is shown.

A receipt and an acknowledgement were verified when they arrived, but what the
API says about them is read from the database, which may have been altered
since. So a message's view states ``signature_verified`` only for what was
checked just now: the stored signed receipt against its signer's key (and
that it covers this message's seq and digest), and the stored acknowledgement
envelope against its sender's key (and that it acknowledges this message).
Where nothing was checked (lists), the view says nothing about signatures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from redline.crypto.keys import parse_signing_key
from redline.domain.messages import Direction
from redline.domain.records import MessageRecord
from redline.errors import RedlineError
from redline.wire.envelope import parse_envelope, verify_envelope
from redline.wire.receipt import parse_receipt, verify_receipt


@dataclass(frozen=True, slots=True)
class Verification:
    """The outcome of one check: ``problem`` says what failed (None when it verified)."""

    problem: str | None = None

    @property
    def verified(self) -> bool:
        return self.problem is None


@dataclass(frozen=True, slots=True)
class Signers:
    """Who signs what on one link: this station and the peer, with their signing keys (base64url)."""

    me: str
    my_key: str
    peer: str
    peer_key: str

    def of_receipt(self, row: MessageRecord) -> tuple[str, str, str]:
        """(signer, its key, the station the receipt is for) of the receipt covering ``row``:
        the peer receipts what we sent, we receipt what we received."""
        if row.direction is Direction.OUTBOUND:
            return self.peer, self.peer_key, self.me
        return self.me, self.my_key, self.peer

    def of_envelope(self, row: MessageRecord) -> tuple[str, str]:
        """(sender, its key) of a stored envelope."""
        return (self.me, self.my_key) if row.direction is Direction.OUTBOUND else (self.peer, self.peer_key)


def check_receipt(receipt: dict[str, Any], row: MessageRecord, signers: Signers) -> Verification:
    signer, key, for_station = signers.of_receipt(row)
    try:
        parsed = parse_receipt(receipt)
        verify_receipt(parsed, parse_signing_key(key))
    except RedlineError as exc:
        return Verification(f"the stored receipt does not verify: {exc.message}")
    if parsed.by != signer or parsed.for_station != for_station:
        return Verification(
            f"the stored receipt is by {parsed.by!r} for {parsed.for_station!r}, "
            f"not by {signer!r} for {for_station!r}"
        )
    if (row.seq, row.digest) not in parsed.entries:
        return Verification(f"the stored receipt does not cover seq {row.seq} with digest {row.digest}")
    return Verification()


def check_acknowledgement(ack: MessageRecord, row: MessageRecord, signers: Signers) -> Verification:
    sender, key = signers.of_envelope(ack)
    try:
        envelope = parse_envelope(json.loads(ack.envelope))
        verify_envelope(envelope, parse_signing_key(key))
    except (RedlineError, ValueError) as exc:
        reason = exc.message if isinstance(exc, RedlineError) else str(exc)
        return Verification(f"the stored acknowledgement envelope does not verify: {reason}")
    if envelope.sender != sender or envelope.id != ack.id or envelope.digest != ack.digest:
        return Verification("the stored acknowledgement envelope is not the one recorded for it")
    if ack.ack_of != row.id:
        return Verification(f"the stored acknowledgement {ack.id} acknowledges {ack.ack_of}, not {row.id}")
    return Verification()
