"""The watch: the positions officers sign on to, the log of it, and what a peer reports of its own.

At most one officer holds a position at a time. Signing on to a held position is a handover:
the outgoing officer writes a note (the station adds the open items to it) and the incoming
officer acknowledges it, which moves the position. A station tells its peers who is on watch
in a ``service`` envelope with action ``watch`` (:func:`check_watch_report` checks its list).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from redline.domain.clock import parse_ts
from redline.domain.names import check_operator_name
from redline.errors import InputError, _t

MAX_DISPLAY_NAME = 128
MAX_NOTE = 4000


class Position(enum.StrEnum):
    DUTY_OFFICER = "duty_officer"
    SUPERVISOR = "supervisor"
    TRANSLATOR = "translator"

    @classmethod
    def parse(cls, value: object) -> Position:
        try:
            return cls(str(value))
        except ValueError:
            choices = ", ".join(p.value for p in cls)
            raise InputError(
                _t("position: {value!r} is not one of {choices}", value=value, choices=choices)
            ) from None


class WatchAction(enum.StrEnum):
    SIGN_ON = "sign_on"
    SIGN_OFF = "sign_off"
    HANDOVER_NOTE = "handover_note"  # the outgoing officer's note, awaiting the incoming officer
    HANDOVER = "handover"  # the incoming officer acknowledged the note and holds the position


@dataclass(frozen=True, slots=True)
class WatchPost:
    """A held position: who, since when, and the handover note awaiting acceptance if any."""

    position: Position
    officer: str
    name: str  # the officer's display name (the account name when none is set)
    since: str
    handover_id: int | None


@dataclass(frozen=True, slots=True)
class WatchEvent:
    id: int
    at: str
    position: Position
    officer: str
    action: WatchAction
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class PeerWatch:
    """Who a peer said holds one of its positions."""

    peer_id: str
    position: Position
    officer: str
    name: str
    since: str


def check_display_name(value: object) -> str:
    if not isinstance(value, str):
        raise InputError(_t("display_name: expected text"))
    name = value.strip()
    if not 1 <= len(name) <= MAX_DISPLAY_NAME or any(c < " " for c in name):
        raise InputError(
            _t(
                "display_name: expected 1 to {MAX_DISPLAY_NAME} printable characters",
                MAX_DISPLAY_NAME=MAX_DISPLAY_NAME,
            )
        )
    return name


def check_watch_report(value: object) -> list[dict[str, Any]]:
    """A peer's list of held positions: each exactly position, officer, name, since; no position twice."""
    if not isinstance(value, list) or len(value) > len(Position):
        raise InputError(
            _t("watch: expected a list of at most {length} held positions", length=len(Position))
        )
    seen: set[Position] = set()
    for i, entry in enumerate(value):
        where = f"watch[{i}]"
        if not isinstance(entry, dict) or set(entry) != {"position", "officer", "name", "since"}:
            raise InputError(_t("{where}: expected exactly position, officer, name, since", where=where))
        position = Position.parse(entry["position"])
        if position in seen:
            raise InputError(
                _t("{where}.position: {position} is listed twice", where=where, position=position.value)
            )
        seen.add(position)
        check_operator_name(entry["officer"])
        if check_display_name(entry["name"]) != entry["name"]:
            raise InputError(_t("{where}.name: surrounding spaces", where=where))
        parse_ts(entry["since"], f"{where}.since")
    return value
