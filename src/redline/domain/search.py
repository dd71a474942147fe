"""Finding messages: what a text search reads in a message, and what a search may ask for.

A text search must not decrypt or render every stored row at query time, so each
message carries its *search text*, made once when it is stored
(:func:`search_text`): what a person reads in it — a free text's original words, a
standard phrase rendered in every catalogue language with its code, a link-service
action and reason, a conflict alert's activities and notice titles. It is folded with
:func:`fold` (``str.lower``), and the query is folded the same way, so matching is
case-insensitive on SQLite and PostgreSQL alike without relying on either's own
case rules. A translation lives in its own table and is matched there; a message id
is matched by its prefix (the console shows the first 8 hex digits).

:class:`MessageSearch` is one search as the store runs it; :meth:`MessageSearch.key`
names it, so a page cursor can be bound to the search that made it.
"""

from __future__ import annotations

import hashlib
import json
import string
from dataclasses import dataclass
from typing import Any

from redline.domain.messages import DeliveryState, Direction, MessageKind, Precedence
from redline.domain.phrases import LANGS, PhraseBody, load_catalogue
from redline.errors import InputError, _t

MAX_QUERY_CHARS = 200
MIN_ID_PREFIX = 6  # fewer hex digits than this would match ids by chance ("bad", "cafe")
SEARCH_STATES = tuple(DeliveryState)  # queued, sent, delivered, acknowledged, overdue
# The kinds with something a person reads; the others' search text is empty.
SEARCHED_KINDS = frozenset(
    (MessageKind.TEXT, MessageKind.PHRASE, MessageKind.SERVICE, MessageKind.CONFLICT_ALERT)
)


def fold(text: str) -> str:
    """The one case folding of search texts and queries (Python's, the same on every backend)."""
    return text.lower()


def search_text(kind: MessageKind, body: dict[str, Any]) -> str:
    """What a person reads in a message of ``kind`` with plaintext ``body``, folded; "" for the
    kinds nobody reads as text (acknowledgements, link tests, notices travel in their own lists)."""
    parts: list[str] = []
    if kind is MessageKind.TEXT:
        parts.append(str(body.get("text", "")))
    elif kind is MessageKind.PHRASE:
        parts.extend(_phrase_texts(body))
    elif kind is MessageKind.SERVICE:
        parts.extend(str(body.get(k, "")) for k in ("action", "reason"))
    elif kind is MessageKind.CONFLICT_ALERT:
        parts.extend(_conflict_names(body.get("conflict")))
    return fold("\n".join(p for p in parts if p))


def _phrase_texts(body: dict[str, Any]) -> list[str]:
    """The phrase in every catalogue language; from another catalogue version, which we cannot
    render, its code and parameter values (what the console shows in that case)."""
    catalogue = load_catalogue()
    try:
        phrase = PhraseBody.parse(body, catalogue)
    except InputError:
        return [str(body.get("code", ""))]
    shown = [catalogue.present(phrase, lang).text for lang in LANGS]
    if all(text is None for text in shown):
        return [phrase.code, *(str(v) for v in phrase.params.values())]
    return [phrase.code, *(text for text in shown if text)]


def _conflict_names(conflict: object) -> list[str]:
    """Both notices' titles and activities ("live_fire_exercise" read as "live fire exercise")."""
    if not isinstance(conflict, dict):
        return []
    names = [conflict.get(f"{field}_{side}") for side in "ab" for field in ("title", "activity")]
    return [name.replace("_", " ") for name in names if isinstance(name, str)]


def check_query(raw: str, field: str = "q") -> str | None:
    """A search query: trimmed, at most ``MAX_QUERY_CHARS``, printable; None when blank."""
    text = raw.strip()
    if not text:
        return None
    if len(text) > MAX_QUERY_CHARS:
        raise InputError(
            _t(
                "{field}: {length} characters is more than the limit of {MAX_QUERY_CHARS}",
                field=field,
                length=len(text),
                MAX_QUERY_CHARS=MAX_QUERY_CHARS,
            )
        )
    if not text.isprintable():
        raise InputError(_t("{field}: control characters are not allowed in a search", field=field))
    return text


def id_prefix(query: str) -> str | None:
    """The query as a message id prefix, when it could be one (hex, long enough to mean it)."""
    folded = fold(query)
    if MIN_ID_PREFIX <= len(folded) <= 32 and all(ch in string.hexdigits for ch in folded):
        return folded
    return None


@dataclass(frozen=True, slots=True)
class MessageSearch:
    """Which messages: each field None means any. ``direction`` None: both boxes.

    ``awaiting_ack``: a person's acknowledgement is still due (in the box asked for);
    ``awaiting_theirs``: ours, sent, the peer's acknowledgement still due; ``overdue``:
    its acknowledgement deadline has passed without one. ``states`` are the states an
    operator sees (overdue is derived from the deadline, as ``visible_state`` does)."""

    direction: Direction | None = None
    text: str | None = None
    peer: str | None = None
    kinds: tuple[MessageKind, ...] | None = None
    precedences: tuple[Precedence, ...] | None = None
    states: tuple[DeliveryState, ...] | None = None
    since: str | None = None  # stored at or after
    until: str | None = None  # stored before
    awaiting_ack: bool | None = None
    awaiting_theirs: bool | None = None
    overdue: bool | None = None

    def __post_init__(self) -> None:
        if self.since is not None and self.until is not None and self.until <= self.since:
            raise InputError(
                _t("until: {until} is not after since ({since})", until=self.until, since=self.since)
            )
        if self.awaiting_theirs and self.direction is Direction.INBOUND:
            raise InputError(
                _t("awaiting_theirs: the inbox holds the peer's messages; use box=outbox or all")
            )

    def key(self) -> str:
        """A short name of this search (16 hex digits), the same for the same search."""
        fields: dict[str, Any] = {
            "direction": self.direction,
            "text": None if self.text is None else fold(self.text),  # "Zebra" is the search "zebra"
            "peer": self.peer,
            "kinds": sorted(self.kinds) if self.kinds is not None else None,
            "precedences": sorted(self.precedences) if self.precedences is not None else None,
            "states": sorted(self.states) if self.states is not None else None,
            "since": self.since,
            "until": self.until,
            "awaiting_ack": self.awaiting_ack,
            "awaiting_theirs": self.awaiting_theirs,
            "overdue": self.overdue,
        }
        encoded = json.dumps(fields, sort_keys=True, ensure_ascii=False).encode("utf-8")
        return hashlib.sha256(encoded).hexdigest()[:16]
