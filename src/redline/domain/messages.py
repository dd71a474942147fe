"""Messages as operators see them: precedence, kind, delivery state, deadlines."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from redline.domain.names import check_lang
from redline.errors import InputError, _t

MAX_TEXT_CHARS = 16_000


class Precedence(enum.StrEnum):
    """ACP 127 order, most urgent first."""

    FLASH = "FLASH"
    IMMEDIATE = "IMMEDIATE"
    PRIORITY = "PRIORITY"
    ROUTINE = "ROUTINE"

    @classmethod
    def parse(cls, value: object) -> Precedence:
        try:
            return cls(str(value))
        except ValueError:
            choices = ", ".join(p.value for p in cls)
            raise InputError(
                _t("precedence: {value!r} is not one of {choices}", value=value, choices=choices)
            ) from None


# Human-acknowledgement deadlines; both sides of a link use the same table.
DEFAULT_ACK_DEADLINES: dict[Precedence, timedelta] = {
    Precedence.FLASH: timedelta(minutes=5),
    Precedence.IMMEDIATE: timedelta(minutes=30),
    Precedence.PRIORITY: timedelta(hours=3),
    Precedence.ROUTINE: timedelta(hours=24),
}


class MessageKind(enum.StrEnum):
    TEXT = "text"
    ACK = "ack"
    LINK_TEST = "link_test"  # an authenticated test, answered automatically by the peer
    LINK_TEST_REPLY = "link_test_reply"
    SERVICE = "service"  # link administration: suspend, resume
    PHRASE = "phrase"  # a standard phrase: catalogue code + typed parameters, rendered by the reader
    NOTICE_FILED = "notice_filed"  # an activity notice, shared with every peer (see redline.geo)
    NOTICE_AMENDED = "notice_amended"
    NOTICE_CANCELLED = "notice_cancelled"
    CONFLICT_ALERT = "conflict_alert"  # our notice and the peer's collide: opened, updated or closed
    CALL = "call"  # a move in a call request (redline.domain.calls): request, accept, decline, ...

    @property
    def needs_human_ack(self) -> bool:
        return self in (MessageKind.TEXT, MessageKind.PHRASE, MessageKind.CONFLICT_ALERT)

    @property
    def is_notice(self) -> bool:
        return self in (MessageKind.NOTICE_FILED, MessageKind.NOTICE_AMENDED, MessageKind.NOTICE_CANCELLED)


class Direction(enum.StrEnum):
    OUTBOUND = "outbound"
    INBOUND = "inbound"


class DeliveryState(enum.StrEnum):
    """queued -> sent -> delivered -> acknowledged; overdue is derived from the deadline."""

    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    ACKNOWLEDGED = "acknowledged"
    OVERDUE = "overdue"


def visible_state(
    stored: DeliveryState, kind: MessageKind, deadline: datetime | None, now: datetime
) -> DeliveryState:
    """The state an operator sees: an unacknowledged message past its deadline is overdue."""
    if (
        kind.needs_human_ack
        and stored is not DeliveryState.ACKNOWLEDGED
        and deadline is not None
        and now > deadline
    ):
        return DeliveryState.OVERDUE
    return stored


@dataclass(frozen=True, slots=True)
class TextBody:
    """The plaintext of a free-text message, sealed inside an envelope."""

    text: str
    lang: str

    @classmethod
    def parse(cls, text: object, lang: object) -> TextBody:
        if not isinstance(text, str) or not text.strip():
            raise InputError(_t("text: must be a non-empty string"))
        if len(text) > MAX_TEXT_CHARS:
            raise InputError(
                _t(
                    "text: {length} characters is more than the limit of {MAX_TEXT_CHARS}",
                    length=len(text),
                    MAX_TEXT_CHARS=MAX_TEXT_CHARS,
                )
            )
        if "\x00" in text:
            raise InputError(_t("text: NUL characters are not allowed"))
        return cls(text=text, lang=check_lang(lang))

    def to_json(self) -> dict[str, object]:
        return {"text": self.text, "lang": self.lang}


@dataclass(frozen=True, slots=True)
class AckBody:
    """A person at the receiving station acknowledged message ``ack_of``."""

    ack_of: str
    by: str
    at: str

    def to_json(self) -> dict[str, object]:
        return {"ack_of": self.ack_of, "by": self.by, "at": self.at}
