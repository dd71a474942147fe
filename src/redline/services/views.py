"""One view of a stored message, shared by the operator API (JSON) and the console (HTML).

``message_view`` turns a stored row into a :class:`MessageView`: the fields
every kind has are read once here; what depends on the kind (text and its
language, a phrase rendered from the catalogue, a service action, a conflict
alert, the notice or message another kind refers to) comes from
the kind's module in ``services.kinds`` (its ``api_fields`` and ``console_fields``).
``message_json`` is the API's rendering of a view; the console's templates
read the view's attributes. The state shown is the stored delivery state seen
at ``now`` (a message past its deadline without acknowledgement is overdue).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from redline.domain.clock import parse_ts
from redline.domain.messages import MessageKind, Precedence, visible_state
from redline.domain.phrases import Presentation
from redline.domain.records import MessageRecord, TranslationRecord
from redline.domain.threads import reply_target
from redline.services.kinds.registry import KINDS
from redline.services.verification import Verification

PRECEDENCE_ORDER = {p.value: i for i, p in enumerate(Precedence)}


@dataclass(frozen=True, slots=True)
class KindFields:
    """What one kind adds to a message's view: ``api`` for the JSON, the rest for the console."""

    api: dict[str, Any]
    text: str | None = None
    lang: str | None = None
    phrase: Presentation | None = None  # in the reader's language
    service: str | None = None  # "action: reason", as one line
    conflict: dict[str, Any] | None = None
    reminds: str | None = None  # a service reminder: the message awaiting acknowledgement


@dataclass(frozen=True, slots=True)
class MessageRef:
    """A readable reference to another message: precedence, short id and its first words."""

    id: str
    precedence: str
    short: str
    words: str


def _kind_fields(kind: MessageKind, body: dict[str, Any], lang: str) -> KindFields:
    """The per-kind part of a message's view, from the kind's module (``services.kinds``)."""
    spec = KINDS[kind]
    shown = spec.console_fields(body, lang)
    return KindFields(
        spec.api_fields(body),
        text=shown.text,
        lang=shown.lang,
        phrase=shown.phrase,
        service=shown.service,
        conflict=shown.conflict,
        reminds=shown.reminds,
    )


@dataclass(slots=True)
class MessageView:
    id: str
    direction: str
    peer: str
    seq: int
    kind: str
    precedence: str
    ts: str
    state: str
    deadline: str | None
    created_by: str | None
    digest: str
    sent_at: str | None
    delivered_at: str | None
    receipt_id: str | None
    acked_by: str | None
    acked_at: str | None
    ack_message_id: str | None
    fields: KindFields
    receipt: dict[str, Any] | None = None  # the signed receipt, when the caller loaded it
    receipt_check: Verification | None = None  # its signature checked now (None: not checked)
    ack_check: Verification | None = None  # the acknowledgement envelope's, checked now
    translation: TranslationRecord | None = None
    flags: list[str] = field(default_factory=list)
    in_reply_to: str | None = None  # the message on this link it answers
    in_reply_to_unknown: str | None = None  # a peer's claimed reply target unknown on this link
    replies: list[str] = field(default_factory=list)  # the messages answering it, when loaded
    refers_to: MessageRef | None = None  # what it answers or reminds of, when loaded (console)

    @property
    def text(self) -> str | None:
        return self.fields.text

    @property
    def lang(self) -> str | None:
        return self.fields.lang

    @property
    def phrase(self) -> Presentation | None:
        return self.fields.phrase

    @property
    def service(self) -> str | None:
        return self.fields.service

    @property
    def conflict(self) -> dict[str, Any] | None:
        return self.fields.conflict

    @property
    def reminds(self) -> str | None:
        return self.fields.reminds

    @property
    def summary(self) -> str:
        """Its first words, in the reader's language, to name it in another message's line."""
        whole = self.text or (self.phrase.text if self.phrase else None) or self.service or self.kind
        words = " ".join(whole.split()[:8])
        return words if len(words) <= 60 else words[:59] + "…"

    @property
    def awaiting_ack(self) -> bool:
        """Still needs a person at the receiving end to acknowledge it."""
        return MessageKind(self.kind).needs_human_ack and self.acked_at is None

    @property
    def alarm(self) -> bool:
        """A FLASH message we received that nobody here has acknowledged yet."""
        return self.direction == "inbound" and self.precedence == "FLASH" and self.awaiting_ack


def message_view(
    row: MessageRecord,
    now: datetime,
    lang: str = "en",
    translation: TranslationRecord | None = None,
    receipt: dict[str, Any] | None = None,
) -> MessageView:
    kind = row.kind
    body = json.loads(row.body)
    claimed = reply_target(kind, body)
    deadline = parse_ts(row.deadline, "deadline") if row.deadline else None
    state = visible_state(row.state, kind, deadline, now)
    view = MessageView(
        id=row.id,
        direction=row.direction.value,
        peer=row.peer_id,
        seq=row.seq,
        kind=kind.value,
        precedence=row.precedence.value,
        ts=row.ts,
        state=state.value,
        deadline=row.deadline,
        created_by=row.created_by,
        digest=row.digest,
        sent_at=row.sent_at,
        delivered_at=row.delivered_at,
        receipt_id=row.receipt_id,
        acked_by=row.acked_by,
        acked_at=row.acked_at,
        ack_message_id=row.ack_message_id,
        fields=_kind_fields(kind, body, lang),
        receipt=receipt,
        translation=translation,
        in_reply_to=row.in_reply_to,
        in_reply_to_unknown=claimed if row.in_reply_to is None else None,
    )
    if row.escalated_at:
        view.flags.append("escalated")
    return view


def message_json(view: MessageView) -> dict[str, Any]:
    """The operator API's form of a message (docs/api.md)."""
    result: dict[str, Any] = {
        "id": view.id,
        "direction": view.direction,
        "peer": view.peer,
        "seq": view.seq,
        "kind": view.kind,
        "precedence": view.precedence,
        "ts": view.ts,
        "state": view.state,
        "deadline": view.deadline,
        "created_by": view.created_by,
        "digest": view.digest,
        "sent_at": view.sent_at,
        "delivered_at": view.delivered_at,
        **view.fields.api,
        "in_reply_to": view.in_reply_to,
        "in_reply_to_unknown": view.in_reply_to_unknown,
        "replies": view.replies,
        "receipt": None,
        "acknowledgement": None,
    }
    if view.receipt_id:
        receipt: dict[str, Any] = {
            "id": view.receipt_id,
            "by": view.peer if view.direction == "outbound" else None,
            "at": view.delivered_at,
            **_checked(view.receipt_check),
        }
        if view.receipt is not None:
            receipt["by"] = view.receipt["by"]
            receipt["signed_at"] = view.receipt["at"]
            receipt["signed"] = view.receipt
        result["receipt"] = receipt
    if view.acked_at:
        result["acknowledgement"] = {
            "by": view.acked_by,
            "at": view.acked_at,
            "message_id": view.ack_message_id,
            **_checked(view.ack_check),
        }
    return result


def _checked(check: Verification | None) -> dict[str, Any]:
    """``signature_verified`` only for a signature checked while building this answer."""
    if check is None:
        return {}
    if check.verified:
        return {"signature_verified": True}
    return {"signature_verified": False, "verification_problem": check.problem}


def sort_for_watch(views: list[MessageView]) -> list[MessageView]:
    """Unacknowledged traffic first, most urgent precedence first, then newest first."""
    newest_first = sorted(views, key=lambda v: v.ts, reverse=True)
    return sorted(newest_first, key=lambda v: (not v.awaiting_ack, PRECEDENCE_ORDER.get(v.precedence, 9)))


def reference(view: MessageView) -> MessageRef:
    return MessageRef(view.id, view.precedence, view.id[:8], view.summary)
