"""What each message kind carries inside its sealed payload, checked field by field.

Each ``check_<kind>`` takes the decrypted payload object and returns it (possibly
normalised) or raises ``InputError`` whose message starts with the offending field.
The kind modules in :mod:`redline.services.kinds` name these checks.
"""

from __future__ import annotations

import re
from typing import Any

from redline.domain.clock import parse_ts
from redline.domain.messages import TextBody
from redline.domain.names import check_message_id, check_operator_name
from redline.domain.phrases import PhraseBody
from redline.domain.threads import split_reply, with_reply
from redline.domain.watch import check_watch_report
from redline.errors import InputError, _t

_NONCE = re.compile(r"[0-9a-f]{32}")
MAX_INTERVAL = 7 * 24 * 3600
MAX_REASON = 500
MAX_SCORECARD_KEYS = 64
# remind: a message awaits acknowledgement; watch: who holds the sender's watch positions now
SERVICE_ACTIONS = ("suspend", "resume", "remind", "watch")


def _exact(body: dict[str, Any], keys: set[str], kind: str) -> None:
    if body.keys() != keys:
        unexpected, missing = sorted(body.keys() - keys), sorted(keys - body.keys())
        which = "; ".join(
            f"{label} {', '.join(names)}"
            for label, names in (("missing", missing), ("unexpected", unexpected))
            if names
        )
        raise InputError(
            _t(
                "a {kind} payload holds exactly {choices} ({which})",
                kind=kind,
                choices=", ".join(sorted(keys)),
                which=which,
            )
        )


def check_text(body: dict[str, Any]) -> dict[str, Any]:
    # in_reply_to is optional, so envelopes from before threads stay valid (domain/threads.py).
    rest, in_reply_to = split_reply(body)
    _exact(rest, {"text", "lang"}, "text")
    return with_reply(TextBody.parse(rest["text"], rest["lang"]).to_json(), in_reply_to)


def check_phrase(body: dict[str, Any]) -> dict[str, Any]:
    rest, in_reply_to = split_reply(body)
    return with_reply(PhraseBody.parse(rest).to_json(), in_reply_to)


def check_notice(body: dict[str, Any]) -> dict[str, Any]:
    # The notice itself is checked by redline.geo.parse_notice in services.inbound (geometry
    # needs pyproj and shapely, which this layer does not import).
    _exact(body, {"notice"}, "notice")
    if not isinstance(body["notice"], dict):
        raise InputError(_t("notice: expected an object"))
    return body


def check_notice_cancelled(body: dict[str, Any]) -> dict[str, Any]:
    _exact(body, {"notice_id", "version", "by", "reason"}, "notice cancellation")
    if not isinstance(body["notice_id"], str) or not 1 <= len(body["notice_id"]) <= 64:
        raise InputError(_t("notice_id: expected a notice id"))
    version = body["version"]
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InputError(_t("version: expected a whole number from 1"))
    check_operator_name(body["by"])
    if not isinstance(body["reason"], str) or len(body["reason"]) > MAX_REASON:
        raise InputError(
            _t("reason: expected text of at most {MAX_REASON} characters", MAX_REASON=MAX_REASON)
        )
    return body


CONFLICT_ACTIONS = ("opened", "updated", "closed")


def check_conflict_alert(body: dict[str, Any]) -> dict[str, Any]:
    _exact(body, {"action", "pair", "conflict"}, "conflict alert")
    if body["action"] not in CONFLICT_ACTIONS:
        raise InputError(
            _t(
                "action: {action!r} is not one of {choices}",
                action=body["action"],
                choices=", ".join(CONFLICT_ACTIONS),
            )
        )
    pair = body["pair"]
    if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) and p for p in pair)):
        raise InputError(_t("pair: expected the two notice ids"))
    if body["conflict"] is not None and not isinstance(body["conflict"], dict):
        raise InputError(_t("conflict: expected an object or null"))
    return body


def check_ack(body: dict[str, Any]) -> dict[str, Any]:
    _exact(body, {"ack_of", "by", "at"}, "ack")
    check_message_id(body["ack_of"], "ack_of")
    check_operator_name(body["by"])
    parse_ts(body["at"], "at")
    return body


def check_link_test(body: dict[str, Any]) -> dict[str, Any]:
    _exact(body, {"nonce", "interval", "scorecard"}, "link test")
    if not isinstance(body["nonce"], str) or not _NONCE.fullmatch(body["nonce"]):
        raise InputError(_t("nonce: expected 32 lowercase hex digits"))
    interval = body["interval"]
    if isinstance(interval, bool) or not isinstance(interval, int) or not 1 <= interval <= MAX_INTERVAL:
        raise InputError(
            _t("interval: expected whole seconds from 1 to {MAX_INTERVAL}", MAX_INTERVAL=MAX_INTERVAL)
        )
    card = body["scorecard"]
    if card is not None and (not isinstance(card, dict) or len(card) > MAX_SCORECARD_KEYS):
        raise InputError(_t("scorecard: expected an object or null"))
    return body


def check_link_test_reply(body: dict[str, Any]) -> dict[str, Any]:
    _exact(body, {"test_of", "received_at"}, "link test reply")
    check_message_id(body["test_of"], "test_of")
    parse_ts(body["received_at"], "received_at")
    return body


def check_service(body: dict[str, Any]) -> dict[str, Any]:
    if body.get("action") == "remind":
        _exact(body, {"action", "by", "reason", "message"}, "service reminder")
        check_message_id(body["message"], "message")
    elif body.get("action") == "watch":
        _exact(body, {"action", "by", "reason", "watch"}, "service watch report")
        check_watch_report(body["watch"])
    else:
        _exact(body, {"action", "by", "reason"}, "service")
    if body["action"] not in SERVICE_ACTIONS:
        raise InputError(
            _t(
                "action: {action!r} is not one of {choices}",
                action=body["action"],
                choices=", ".join(SERVICE_ACTIONS),
            )
        )
    check_operator_name(body["by"])
    if not isinstance(body["reason"], str) or len(body["reason"]) > MAX_REASON:
        raise InputError(
            _t("reason: expected text of at most {MAX_REASON} characters", MAX_REASON=MAX_REASON)
        )
    return body
