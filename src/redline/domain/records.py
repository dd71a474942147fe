"""Rows as the services read them: typed records, one per stored thing.

The store builds these from its tables; nothing above the store looks a
column up by name. Timestamps stay the UTC strings that travel on the wire
(see :mod:`redline.domain.clock`). What stays a dict is JSON, named for
what it is (:data:`ConflictDetail`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redline.domain.messages import DeliveryState, Direction, MessageKind, Precedence


@dataclass(slots=True)  # not frozen: built twice per message on the hot path, where frozen costs 3x
class MessageRecord:
    """One envelope on a link, in either direction, with its delivery and acknowledgement.

    A value: nothing changes one in place (``dataclasses.replace`` makes another)."""

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
    # The message on this link it answers (checked there: a peer's reply to an id unknown on the
    # link is stored with None here and its claim kept in the body; see domain/threads.py).
    in_reply_to: str | None = None
    expects_reply: bool = False  # a request: unanswered until a message answers it


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


# A conflict as JSON: ``redline.geo.conflicts.Conflict.to_json()`` plus the parties and
# priorities deconfliction adds. It is stored whole (``ConflictRecord.detail``) and shown as is.
ConflictDetail = dict[str, Any]


@dataclass(frozen=True, slots=True)
class NoticeRecord:
    """An activity notice, ours or a peer's, at the latest version we hold."""

    id: str
    party: str
    version: int
    state: str  # draft, active, amended, cancelled or expired (redline.geo.NoticeState)
    activity: str
    starts_at: str
    ends_at: str | None  # None: permanent
    body: str  # the notice's JSON (redline.geo); state and version are the record's
    shared: bool  # our notice: this version is in the peers' outboxes
    updated_at: str
    updated_by: str


@dataclass(frozen=True, slots=True)
class ConflictRecord:
    """A pair of notices that conflict or did; ``key`` names the versions last checked."""

    pair: str  # "notice_a~notice_b"
    key: str
    notice_a: str
    notice_b: str
    state: str  # open or closed
    detail: str  # the ConflictDetail, as JSON
    opened_at: str
    updated_at: str
    closed_at: str | None


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """A console login; only the SHA-256 of the cookie's token is stored."""

    token_hash: str
    operator_id: int
    csrf_token: str
    created_at: str
    seen_at: str
    expires_at: str


@dataclass(frozen=True, slots=True)
class TranslationRecord:
    """A receiving operator's translation of a free-text message, and who certified it."""

    message_id: str
    text: str
    lang: str
    translated_by: str
    translated_at: str
    certified_by: str | None
    certified_at: str | None
