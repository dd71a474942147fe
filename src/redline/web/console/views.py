"""What the console's pages show of messages and links, in the reader's language."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from redline.domain.clock import parse_ts
from redline.domain.messages import MessageKind, Precedence, visible_state
from redline.domain.phrases import PhraseBody, Presentation, load_catalogue
from redline.domain.records import MessageRecord
from redline.services.ports import Row

PRECEDENCE_ORDER = {p.value: i for i, p in enumerate(Precedence)}


@dataclass(slots=True)
class MessageView:
    id: str
    direction: str
    peer: str
    kind: str
    precedence: str
    ts: str
    state: str
    deadline: str | None
    created_by: str | None
    text: str | None = None
    lang: str | None = None
    phrase: Presentation | None = None
    service: str | None = None
    conflict: dict[str, Any] | None = None  # a conflict alert: action, pair, conflict record
    acked_by: str | None = None
    acked_at: str | None = None
    delivered_at: str | None = None
    translation: Row | None = None
    digest: str = ""
    flags: list[str] = field(default_factory=list)

    @property
    def awaiting_ack(self) -> bool:
        """Still needs a person at the receiving end to acknowledge it."""
        return MessageKind(self.kind).needs_human_ack and self.acked_at is None

    @property
    def alarm(self) -> bool:
        """A FLASH message we received that nobody here has acknowledged yet."""
        return self.direction == "inbound" and self.precedence == "FLASH" and self.awaiting_ack


def message_view(row: MessageRecord, lang: str, now: datetime, translation: Row | None = None) -> MessageView:
    kind = row.kind
    deadline = parse_ts(row.deadline, "deadline") if row.deadline else None
    state = visible_state(row.state, kind, deadline, now)
    body = json.loads(row.body)
    view = MessageView(
        id=row.id,
        direction=row.direction,
        peer=row.peer_id,
        kind=kind.value,
        precedence=row.precedence,
        ts=row.ts,
        state=state.value,
        deadline=row.deadline,
        created_by=row.created_by,
        acked_by=row.acked_by,
        acked_at=row.acked_at,
        delivered_at=row.delivered_at,
        translation=translation,
        digest=row.digest,
    )
    if kind is MessageKind.TEXT:
        view.text, view.lang = body["text"], body["lang"]
    elif kind is MessageKind.PHRASE:
        catalogue = load_catalogue()
        view.phrase = catalogue.present(PhraseBody.parse(body, catalogue), lang)
    elif kind is MessageKind.CONFLICT_ALERT:
        view.conflict = body
    elif kind is MessageKind.SERVICE:
        view.service = f"{body['action']}: {body['reason']}" if body.get("reason") else body["action"]
    if row.escalated_at:
        view.flags.append("escalated")
    return view


def sort_for_watch(views: list[MessageView]) -> list[MessageView]:
    """Unacknowledged traffic first, most urgent precedence first, then newest first."""
    newest_first = sorted(views, key=lambda v: v.ts, reverse=True)
    return sorted(newest_first, key=lambda v: (not v.awaiting_ack, PRECEDENCE_ORDER.get(v.precedence, 9)))


def N_(message: str) -> str:
    """Marks a word for extraction into the catalogue; templates translate it when shown."""
    return message


# Words the templates translate from data (precedences, states, roles, link states).
VOCABULARY = (
    N_("FLASH"), N_("IMMEDIATE"), N_("PRIORITY"), N_("ROUTINE"),
    N_("queued"), N_("sent"), N_("delivered"), N_("acknowledged"), N_("overdue"),
    N_("operator"), N_("supervisor"), N_("auditor"), N_("admin"),
    N_("up"), N_("degraded"), N_("down"), N_("unknown"), N_("ok"), N_("failing"), N_("held"),
    N_("opened"), N_("updated"), N_("closed"),
)  # fmt: skip
