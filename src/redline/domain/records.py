"""Rows as the services read them: typed records, one per stored thing.

The store builds these from its tables; nothing above the store looks a
column up by name. Timestamps stay the UTC strings that travel on the wire
(see :mod:`redline.domain.clock`).
"""

from __future__ import annotations

from dataclasses import dataclass

from redline.domain.messages import DeliveryState, Direction, MessageKind, Precedence


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """One envelope on a link, in either direction, with its delivery and acknowledgement."""

    id: str
    direction: Direction
    peer_id: str
    seq: int
    kind: MessageKind
    precedence: Precedence
    ts: str  # the envelope's own timestamp
    body: str  # plaintext payload JSON
    envelope: str  # the signed envelope, canonical JSON
    digest: str
    state: DeliveryState  # as stored: never OVERDUE (that is derived from the deadline)
    deadline: str | None
    created_by: str | None
    stored_at: str
    sent_at: str | None
    delivered_at: str | None
    receipt_id: str | None
    ack_of: str | None
    acked_at: str | None
    acked_by: str | None
    ack_message_id: str | None
    escalated_at: str | None = None


@dataclass(frozen=True, slots=True)
class LinkRecord:
    """One link's row: both chain heads, both sides' suspensions, the peer's shared scorecard."""

    peer_id: str
    out_next_seq: int
    out_last_digest: str
    in_next_seq: int
    in_last_digest: str
    suspended_at: str | None
    suspended_by: str | None
    peer_suspended_at: str | None
    peer_suspended_by: str | None
    peer_scorecard: str | None


@dataclass(frozen=True, slots=True)
class LinkAlarm:
    id: int
    peer_id: str
    state: str  # degraded or down
    detail: str
    raised_at: str
    cleared_at: str | None


@dataclass(frozen=True, slots=True)
class EquivocationRecord:
    id: int
    peer_id: str
    seq: int
    known_digest: str
    envelope: str
    reason: str
    detected_at: str


@dataclass(frozen=True, slots=True)
class Escalation:
    """A message that missed its acknowledgement deadline, as supervisors see it."""

    id: str
    direction: Direction
    peer_id: str
    precedence: Precedence
    ts: str
    deadline: str | None
    escalated_at: str
    acked_at: str | None


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: int
    at: str
    actor: str
    action: str
    detail: str  # JSON object
