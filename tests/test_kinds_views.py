"""Each kind's view fields match what the API and the console show today.

Until the shared message view takes its per-kind part from the registry, this
keeps the two in step: for a sample body of every kind, the API's message view
holds exactly the spec's ``api_fields`` beyond the common ones, and the console
view holds the spec's ``console_fields``.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from redline.domain.messages import MessageKind
from redline.domain.phrases import PhraseBody
from redline.services.kinds.registry import KINDS
from redline.web.api import message_view as api_view
from redline.web.console.views import message_view as console_view

ID = "a" * 32
AT = "2026-03-01T12:00:00.000000Z"
COMMON = {
    "id", "direction", "peer", "seq", "kind", "precedence", "ts", "state", "deadline", "created_by",
    "digest", "sent_at", "delivered_at", "receipt", "acknowledgement",
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
}


def stored(kind: MessageKind, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": ID, "direction": "inbound", "peer_id": "beijing", "seq": 1, "kind": kind.value,
        "precedence": "FLASH", "ts": AT, "body": json.dumps(body), "envelope": "{}", "digest": "d" * 64,
        "state": "delivered", "deadline": None, "created_by": None, "stored_at": AT, "sent_at": None,
        "delivered_at": AT, "receipt_id": None, "ack_of": None, "acked_at": None, "acked_by": None,
        "ack_message_id": None, "escalated_at": None,
    }  # fmt: skip


def test_every_kind_has_a_sample() -> None:
    assert set(SAMPLES) == set(MessageKind)


@pytest.mark.parametrize("kind", list(MessageKind))
def test_api_view_holds_the_kinds_fields(kind: MessageKind) -> None:
    body = SAMPLES[kind]
    view = api_view(stored(kind, body))
    assert {k: v for k, v in view.items() if k not in COMMON} == KINDS[kind].api_fields(body)


@pytest.mark.parametrize("kind", list(MessageKind))
@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_console_view_holds_the_kinds_fields(kind: MessageKind, lang: str) -> None:
    body = SAMPLES[kind]
    view = console_view(stored(kind, body), lang, datetime(2026, 3, 1, 12, tzinfo=UTC))
    fields = KINDS[kind].console_fields(body, lang)
    for field in dataclasses.fields(fields):
        assert getattr(view, field.name) == getattr(fields, field.name), field.name
