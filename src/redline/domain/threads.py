"""Threads: which message a message answers, and which messages expect an answer.

A text or phrase message may answer an earlier message on the same link (either
direction) by carrying ``in_reply_to`` (its id) inside its sealed payload, so the
sender signs it. The key is optional: envelopes written before threads existed
stay valid. A reply phrase with a ``message`` parameter (``REP-08``, "Message {message}
received") answers that message even without the key (:func:`reply_target`).

A *request* is a phrase of the ``request`` group (``REQ-*``): it stays *unanswered*
until some message on the link answers it. :data:`EXPECTED_REPLIES` is the small
table of the replies each request usually takes, which the console offers first
(docs/phrases.md); any reply answers a request, the table only orders the choice.
"""

from __future__ import annotations

from typing import Any

from redline.domain.messages import MessageKind
from redline.domain.names import check_message_id
from redline.errors import InputError, _t

IN_REPLY_TO = "in_reply_to"
# The kinds a person writes as a reply, and the kinds a reply may answer.
REPLY_KINDS = (MessageKind.TEXT, MessageKind.PHRASE)
ANSWERABLE_KINDS = (MessageKind.TEXT, MessageKind.PHRASE, MessageKind.CONFLICT_ALERT, MessageKind.SERVICE)
REQUEST_PREFIX = "REQ-"
REPLY_PREFIX = "REP-"

# Replies that fit any request: understood, stand by, a reply will follow, affirmative, negative.
_ANY = ("REP-01", "REP-04", "REP-05", "REP-06", "REP-07")
# request -> the replies it usually takes, the most specific first (docs/phrases.md).
EXPECTED_REPLIES: dict[str, tuple[str, ...]] = {
    "REQ-01": ("REP-09", "REP-10", *_ANY),  # a voice call: accepted at / declined because
    "REQ-02": ("REP-01", "REP-04", "REP-05"),  # clarification: usually free text follows
    "REQ-03": ("REP-11", "REP-02", "REP-03", *_ANY),  # alter course: course altered / will comply
    "REQ-04": ("REP-02", "REP-03", *_ANY),  # identification
    "REQ-05": ("REP-02", "REP-03", *_ANY),  # keep distance
    "REQ-06": ("REP-08", *_ANY),  # acknowledge message: message received
    "REQ-07": ("REP-02", "REP-03", *_ANY),  # details of activity
    "REQ-08": ("REP-09", "REP-10", *_ANY),  # a video call
    "REQ-09": ("REP-02", "REP-03", *_ANY),  # suspend an activity
    "REQ-10": ("REP-02", "REP-03", *_ANY),  # reduce speed
    "REQ-11": ("REP-02", "REP-03", *_ANY),  # confirm position
}


def split_reply(body: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The payload without ``in_reply_to``, and its value checked (None when absent)."""
    if IN_REPLY_TO not in body:
        return body, None
    rest = {k: v for k, v in body.items() if k != IN_REPLY_TO}
    return rest, check_message_id(body[IN_REPLY_TO], IN_REPLY_TO)


def with_reply(body: dict[str, Any], in_reply_to: str | None) -> dict[str, Any]:
    return body if in_reply_to is None else {**body, IN_REPLY_TO: in_reply_to}


def phrase_answers(code: object, params: object) -> str | None:
    """The message a reply phrase names in its ``message`` parameter, if it is one that does."""
    if isinstance(code, str) and code.startswith(REPLY_PREFIX) and isinstance(params, dict):
        named = params.get("message")
        return named if isinstance(named, str) else None
    return None


def reply_target(kind: MessageKind, body: dict[str, Any]) -> str | None:
    """The message a checked payload of ``kind`` answers, or None."""
    if kind not in REPLY_KINDS:
        return None
    claimed = body.get(IN_REPLY_TO)
    if isinstance(claimed, str):
        return claimed
    if kind is MessageKind.PHRASE:
        return phrase_answers(body.get("code"), body.get("params"))
    return None


def expects_reply(kind: MessageKind, body: dict[str, Any]) -> bool:
    """A request: it stays on the unanswered list until a message answers it."""
    code = body.get("code")
    return kind is MessageKind.PHRASE and isinstance(code, str) and code.startswith(REQUEST_PREFIX)


def resolve_phrase_reply(code: str, params: object, in_reply_to: str | None) -> str | None:
    """The ``in_reply_to`` a phrase being sent carries: the one given, or the message a reply
    phrase names; refused when both are given and disagree."""
    named = phrase_answers(code, params)
    if in_reply_to is not None and named is not None and named != in_reply_to:
        raise InputError(
            _t(
                "in_reply_to: {in_reply_to} disagrees with params.message {named}; phrase {code} "
                "answers the message it names, so give the same id or leave in_reply_to out",
                in_reply_to=in_reply_to,
                named=named,
                code=code,
            )
        )
    return in_reply_to if in_reply_to is not None else named


def suggested_replies(code: str | None, reply_codes: list[str]) -> list[str]:
    """``reply_codes`` (the catalogue's REP phrases) with the ones request ``code`` expects first."""
    expected = EXPECTED_REPLIES.get(code or "", ())
    first = [c for c in expected if c in reply_codes]
    return first + [c for c in reply_codes if c not in first]
