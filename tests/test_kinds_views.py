"""Each kind's part of the shared message view, as the API and the console show it.

The per-kind fields come from the kind's module (``services.kinds``) through
``services.views``; these expectations pin what users see for every kind, so
moving a view into the registry (or changing one) cannot silently change the
API's JSON or the console.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from redline.domain.messages import DeliveryState, Direction, MessageKind, Precedence
from redline.domain.phrases import PhraseBody
from redline.domain.records import MessageRecord
from redline.services.views import message_json, message_view

ID = "a" * 32
AT = "2026-03-01T12:00:00.000000Z"
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
COMMON = {
    "id", "direction", "peer", "seq", "kind", "precedence", "ts", "state", "deadline", "created_by",
    "digest", "sent_at", "delivered_at", "receipt", "acknowledgement",
    "in_reply_to", "in_reply_to_unknown", "replies",  # every message's thread fields (docs/api.md)
}  # fmt: skip

SAMPLES: dict[MessageKind, dict[str, Any]] = {
    MessageKind.TEXT: {"text": "hello", "lang": "en"},
    MessageKind.PHRASE: PhraseBody.build("REQ-01", {"minutes": 15}).to_json(),
    MessageKind.ACK: {"ack_of": ID, "by": "duty", "at": AT},
    MessageKind.LINK_TEST: {"nonce": "0" * 32, "interval": 60, "scorecard": None},
    MessageKind.LINK_TEST_REPLY: {"test_of": ID, "received_at": AT},
    MessageKind.SERVICE: {"action": "suspend", "by": "duty", "reason": "drill"},
    MessageKind.NOTICE_FILED: {"notice": {"id": "n1"}},
    MessageKind.NOTICE_AMENDED: {"notice": {"id": "n1"}},
    MessageKind.NOTICE_CANCELLED: {"notice_id": "n1", "version": 2, "by": "duty", "reason": ""},
    MessageKind.CONFLICT_ALERT: {"action": "opened", "pair": ["n1", "n2"], "conflict": None},
    MessageKind.CALL: {"call_id": "c" * 32, "action": "decline", "by": "duty", "reason": "not_available"},
}

# What the API shows beyond the common fields, for each sample (as before the registry).
EXPECTED_API: dict[MessageKind, dict[str, Any]] = {
    MessageKind.TEXT: {"text": "hello", "lang": "en"},
    MessageKind.ACK: {"answers": ID},
    MessageKind.LINK_TEST: {"answers": None},
    MessageKind.LINK_TEST_REPLY: {"answers": ID},
    MessageKind.SERVICE: {"action": "suspend", "reason": "drill", "by": "duty"},
    MessageKind.NOTICE_FILED: {"notice": "n1"},
    MessageKind.NOTICE_AMENDED: {"notice": "n1"},
    MessageKind.NOTICE_CANCELLED: {"notice": "n1"},
    MessageKind.CONFLICT_ALERT: {"conflict": SAMPLES[MessageKind.CONFLICT_ALERT]},
    MessageKind.CALL: {"call": {"call_id": "c" * 32, "action": "decline", "by": "duty"}},
}


def stored(kind: MessageKind, body: dict[str, Any]) -> MessageRecord:
    return MessageRecord(
        id=ID, direction=Direction.INBOUND, peer_id="beijing", seq=1, kind=kind,
        precedence=Precedence.FLASH, ts=AT, body=json.dumps(body), envelope="{}", digest="d" * 64,
        state=DeliveryState.DELIVERED, deadline=None, created_by=None, stored_at=AT, sent_at=None,
        delivered_at=AT, receipt_id=None, ack_of=None, acked_at=None, acked_by=None,
        ack_message_id=None, escalated_at=None,
    )  # fmt: skip


def test_every_kind_has_a_sample() -> None:
    assert set(SAMPLES) == set(MessageKind)


@pytest.mark.parametrize("kind", list(MessageKind))
def test_the_api_shows_each_kinds_fields(kind: MessageKind) -> None:
    body = SAMPLES[kind]
    view = message_json(message_view(stored(kind, body), NOW))
    extra = {k: v for k, v in view.items() if k not in COMMON}
    if kind is MessageKind.PHRASE:
        phrase = extra["phrase"]
        assert set(extra) == {"phrase"} and phrase["code"] == "REQ-01" and phrase["params"] == {"minutes": 15}
        assert phrase["text"]["en"] and phrase["text"]["zh-Hans"] and phrase["catalogue_mismatch"] is False
    else:
        assert extra == EXPECTED_API[kind]


@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_the_console_shows_each_kinds_fields(lang: str) -> None:
    def view(kind: MessageKind) -> Any:
        return message_view(stored(kind, SAMPLES[kind]), NOW, lang)

    assert (view(MessageKind.TEXT).text, view(MessageKind.TEXT).lang) == ("hello", "en")
    phrase = view(MessageKind.PHRASE).phrase
    english = message_view(stored(MessageKind.PHRASE, SAMPLES[MessageKind.PHRASE]), NOW, "en").phrase
    assert phrase is not None and english is not None and phrase.text and phrase.code == "REQ-01"
    assert (phrase.text == english.text) is (lang == "en"), "rendered in the reader's language"
    assert view(MessageKind.SERVICE).service == "suspend: drill"
    assert view(MessageKind.CONFLICT_ALERT).conflict == SAMPLES[MessageKind.CONFLICT_ALERT]
    for kind in (MessageKind.ACK, MessageKind.LINK_TEST, MessageKind.NOTICE_FILED):
        shown = view(kind)
        assert (shown.text, shown.phrase, shown.service, shown.conflict) == (None, None, None, None)
