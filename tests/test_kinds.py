"""The message-kind registry: every kind declared once, its checks, effects, reactions and views.

Effects run against a fake write transaction that records what they ask of the store;
the integration suites (test_delivery, test_link_assurance, ...) show the same effects
on real stores between real stations.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any, cast

import pytest

from redline.domain.delivery import DeliveryEvent, initial_state
from redline.domain.messages import DeliveryState, Direction, MessageKind, Precedence
from redline.domain.records import MessageRecord
from redline.domain.stations import LinkChains, PeerRecord
from redline.errors import Conflict, InputError, LocalProtocolError
from redline.services.kinds import ack, service
from redline.services.kinds.base import KindRegistry, OutboundDraft, Received, Sending
from redline.services.kinds.registry import KINDS
from redline.services.kinds.rows import message_record
from redline.services.ports import WriteTransaction
from redline.wire.envelope import Envelope

PEER = PeerRecord(
    "beijing", "Beijing", "", "", "", "", (), "", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"
)
AT = "2026-03-01T12:00:00.000000Z"
ID = "a" * 32
OTHER_ID = "b" * 32


class FakeTx:
    """Records what an effect asks of the store; ``messages`` stands in for the message table."""

    def __init__(self, messages: dict[str, MessageRecord] | None = None) -> None:
        self.messages = messages or {}
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    async def message(self, message_id: str) -> MessageRecord | None:
        return self.messages.get(message_id)

    async def mark_acknowledged(self, message_id: str, direction: str, by: str, at: str, answer: str) -> bool:
        self.calls.append(("mark_acknowledged", (message_id, direction, by, at, answer)))
        row = self.messages[message_id]
        if row.acked_at is not None:
            return False
        self.messages[message_id] = dataclasses.replace(
            row, state=DeliveryState.ACKNOWLEDGED, acked_at=at, acked_by=by
        )
        return True

    def __getattr__(self, name: str) -> Callable[..., Awaitable[None]]:
        async def record(*args: Any, **kwargs: Any) -> None:
            self.calls.append((name, (*args, *kwargs.values())))

        return record


def as_tx(tx: FakeTx) -> WriteTransaction:
    return cast(WriteTransaction, tx)


def row(
    direction: str, kind: MessageKind, state: str = "delivered", acked_at: str | None = None
) -> MessageRecord:
    record = message_record(
        envelope(kind, ID), Direction(direction), {}, stored_at=AT, deadline=None, answers=None
    )
    return dataclasses.replace(record, peer_id="beijing", state=DeliveryState(state), acked_at=acked_at)


def envelope(kind: MessageKind, message_id: str = OTHER_ID) -> Envelope:
    return Envelope(
        message_id, "beijing", "washington", 7, "0" * 64, AT, Precedence.FLASH, kind, "", "", "d" * 64
    )


def run(coro: Awaitable[Any]) -> Any:
    async def main() -> Any:
        return await coro

    return asyncio.run(main())


def sending(tx: FakeTx, kind: MessageKind, body: dict[str, Any], suspended: str | None = None) -> Sending:
    async def make() -> Sending:  # a draft needs a running loop
        draft = OutboundDraft(PEER, kind, Precedence.FLASH, body, "duty")
        chains = LinkChains("beijing", 1, "0" * 64, 1, "0" * 64, suspended)
        return Sending(as_tx(tx), draft, chains, "c" * 32, AT)

    made: Sending = run(make())
    return made


# -- the registry --------------------------------------------------------------------------------------


def test_every_kind_is_registered_exactly_once() -> None:
    assert {spec.kind for spec in KINDS} == set(MessageKind)
    assert len(list(KINDS)) == len(MessageKind)
    for kind in MessageKind:
        assert KINDS[kind].kind is kind
        assert KINDS[kind].needs_human_ack is kind.needs_human_ack
    with pytest.raises(ValueError, match="registered twice"):
        KindRegistry([KINDS[MessageKind.TEXT], KINDS[MessageKind.TEXT]])
    with pytest.raises(LookupError, match="not registered"):
        KindRegistry([])[MessageKind.TEXT]


def test_routine_link_traffic_is_not_audited() -> None:
    audited = {spec.kind for spec in KINDS if spec.audited}
    assert audited == set(MessageKind) - {MessageKind.LINK_TEST, MessageKind.LINK_TEST_REPLY}


# -- payloads ------------------------------------------------------------------------------------------

WATCHER = {"position": "duty_officer", "officer": "hale", "name": "Lt Col Hale", "since": AT}
BAD_PAYLOADS: list[tuple[MessageKind, dict[str, Any], str]] = [
    (MessageKind.TEXT, {"text": "", "lang": "en"}, "text:"),
    (MessageKind.TEXT, {"text": "hello"}, "lang"),
    (MessageKind.TEXT, {"text": "hi", "lang": "en", "extra": 1}, "extra"),
    (MessageKind.ACK, {"ack_of": "nope", "by": "duty", "at": AT}, "ack_of"),
    (MessageKind.ACK, {"ack_of": ID, "by": "duty", "at": "yesterday"}, "at"),
    (MessageKind.LINK_TEST, {"nonce": "xyz", "interval": 60, "scorecard": None}, "nonce"),
    (MessageKind.LINK_TEST, {"nonce": "0" * 32, "interval": 0, "scorecard": None}, "interval"),
    (MessageKind.LINK_TEST, {"nonce": "0" * 32, "interval": 60, "scorecard": []}, "scorecard"),
    (MessageKind.LINK_TEST_REPLY, {"test_of": ID, "received_at": "soon"}, "received_at"),
    (MessageKind.SERVICE, {"action": "explode", "by": "duty", "reason": ""}, "action"),
    (MessageKind.SERVICE, {"action": "suspend", "by": "duty", "reason": "x" * 501}, "reason"),
    (MessageKind.SERVICE, {"action": "remind", "by": "duty", "reason": "", "message": "?"}, "message"),
    (MessageKind.SERVICE, {"action": "watch", "by": "duty", "reason": ""}, "watch"),
    (MessageKind.SERVICE, {"action": "watch", "by": "duty", "reason": "", "watch": {}}, "watch"),
    (
        MessageKind.SERVICE,
        {"action": "watch", "by": "d", "reason": "", "watch": [{"position": "cook"}]},
        "watch[0]",
    ),
    (
        MessageKind.SERVICE,
        {"action": "watch", "by": "d", "reason": "", "watch": [{**WATCHER, "position": "cook"}]},
        "position",
    ),
    (MessageKind.SERVICE, {"action": "watch", "by": "d", "reason": "", "watch": [WATCHER, WATCHER]}, "twice"),
    (
        MessageKind.SERVICE,
        {"action": "watch", "by": "d", "reason": "", "watch": [{**WATCHER, "since": "now"}]},
        "since",
    ),
    (
        MessageKind.SERVICE,
        {"action": "watch", "by": "d", "reason": "", "watch": [{**WATCHER, "name": ""}]},
        "name",
    ),
    (MessageKind.NOTICE_FILED, {"notice": []}, "notice"),
    (MessageKind.NOTICE_AMENDED, {"notice": "n1"}, "notice"),
    (MessageKind.NOTICE_CANCELLED, {"notice_id": "", "version": 1, "by": "duty", "reason": ""}, "notice_id"),
    (MessageKind.NOTICE_CANCELLED, {"notice_id": "n1", "version": 0, "by": "duty", "reason": ""}, "version"),
    (MessageKind.CONFLICT_ALERT, {"action": "burst", "pair": ["a", "b"], "conflict": None}, "action"),
    (MessageKind.CONFLICT_ALERT, {"action": "opened", "pair": ["a"], "conflict": None}, "pair"),
    (MessageKind.PHRASE, {"code": 42}, "code"),
    (MessageKind.CALL, {"call_id": "0" * 32, "action": "phone", "by": "duty"}, "action"),
    (MessageKind.CALL, {"call_id": "0" * 32, "action": "decline", "by": "duty", "reason": "busy"}, "reason"),
    (
        MessageKind.CALL,
        {"call_id": "0" * 32, "action": "counter", "by": "duty", "reply_by": AT, "window": {"start": AT}},
        "window",
    ),
]


def test_every_kind_has_a_bad_payload_case() -> None:
    assert {kind for kind, _, _ in BAD_PAYLOADS} == set(MessageKind)


@pytest.mark.parametrize(("kind", "body", "field"), BAD_PAYLOADS)
def test_payload_checks_name_the_field(kind: MessageKind, body: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as refused:
        KINDS[kind].check_from_peer("beijing", body)
    assert field in refused.value.message


def test_good_payloads_pass() -> None:
    assert KINDS[MessageKind.TEXT].check({"text": "hi", "lang": "en"}) == {"text": "hi", "lang": "en"}
    good_ack = {"ack_of": ID, "by": "duty", "at": AT}
    assert KINDS[MessageKind.ACK].check(good_ack) == good_ack
    test = {"nonce": "0" * 32, "interval": 60, "scorecard": {"rtt": 1}}
    assert KINDS[MessageKind.LINK_TEST].check(test) == test
    watch = {"action": "watch", "by": "hale", "reason": "", "watch": [WATCHER]}
    assert KINDS[MessageKind.SERVICE].check(watch) == watch


# -- sender effects ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [MessageKind.TEXT, MessageKind.PHRASE, MessageKind.CONFLICT_ALERT])
def test_human_traffic_is_refused_while_the_link_is_suspended(kind: MessageKind) -> None:
    tx = FakeTx()
    with pytest.raises(Conflict, match="suspended since T by X"):
        run(KINDS[kind].on_send(sending(tx, kind, {}, suspended="since T by X")))
    run(KINDS[kind].on_send(sending(tx, kind, {})))
    assert tx.calls == []


def test_an_acknowledgement_marks_the_received_message_once() -> None:
    tx = FakeTx({ID: row("inbound", MessageKind.TEXT)})

    async def draft() -> OutboundDraft:
        return ack.acknowledgement(PEER, Precedence.FLASH, ID, "duty", AT)

    d = run(draft())
    assert d.kind is MessageKind.ACK and d.body == {"ack_of": ID, "by": "duty", "at": AT}
    spec = KINDS[MessageKind.ACK]
    first = sending(tx, MessageKind.ACK, d.body)
    run(spec.on_send(first))
    assert tx.calls == [("mark_acknowledged", (ID, "inbound", "duty", AT, first.message_id))]
    with pytest.raises(Conflict, match="already acknowledged"):
        run(spec.on_send(sending(tx, MessageKind.ACK, d.body)))
    with pytest.raises(Conflict, match="not received"):
        run(spec.on_send(sending(FakeTx(), MessageKind.ACK, d.body)))
    assert spec.sent_audit(d.body) == ("acknowledge", {"acknowledges": ID})
    assert spec.answers(d.body) == ID


def test_an_acknowledgement_of_a_message_in_an_impossible_state_is_our_bug() -> None:
    tx = FakeTx({ID: row("inbound", MessageKind.TEXT, state="acknowledged")})
    with pytest.raises(LocalProtocolError):
        run(KINDS[MessageKind.ACK].on_send(sending(tx, MessageKind.ACK, {"ack_of": ID, "by": "d", "at": AT})))
    assert tx.calls == []


@pytest.mark.parametrize(("action", "suspended_at"), [("suspend", AT), ("resume", None), ("remind", "-")])
def test_service_messages_record_our_suspension(action: str, suspended_at: str | None) -> None:
    tx = FakeTx()
    body = {"action": action, "by": "duty", "reason": "drill"}
    run(KINDS[MessageKind.SERVICE].on_send(sending(tx, MessageKind.SERVICE, body)))
    expected = [] if action == "remind" else [("set_suspension", ("beijing", suspended_at, "duty", False))]
    assert tx.calls == expected
    assert KINDS[MessageKind.SERVICE].sent_audit(body) == (action, {"reason": "drill"})


# -- receiver effects ----------------------------------------------------------------------------------


def received(kind: MessageKind, body: dict[str, Any]) -> Received:
    return Received(PEER, envelope(kind), body, AT)


def test_a_peer_acknowledgement_marks_ours() -> None:
    tx = FakeTx({ID: row("outbound", MessageKind.TEXT)})
    body = {"ack_of": ID, "by": "duty", "at": "2026-03-01T11:59:00Z"}
    run(KINDS[MessageKind.ACK].on_accept(as_tx(tx), received(MessageKind.ACK, body)))
    assert tx.calls == [("mark_acknowledged", (ID, "outbound", "beijing/duty", body["at"], OTHER_ID))]
    run(KINDS[MessageKind.ACK].on_accept(as_tx(tx), received(MessageKind.ACK, body)))
    assert len(tx.calls) == 1, "a repeated acknowledgement changes nothing"


@pytest.mark.parametrize(
    "target",
    [
        None,
        row("inbound", MessageKind.TEXT),
        row("outbound", MessageKind.LINK_TEST),
        dataclasses.replace(row("outbound", MessageKind.TEXT), peer_id="moscow"),
    ],
)
def test_an_acknowledgement_of_something_else_is_ignored(
    target: MessageRecord | None, caplog: pytest.LogCaptureFixture
) -> None:
    tx = FakeTx({ID: target} if target else {})
    with caplog.at_level(logging.WARNING):
        run(
            KINDS[MessageKind.ACK].on_accept(
                as_tx(tx), received(MessageKind.ACK, {"ack_of": ID, "by": "d", "at": AT})
            )
        )
    assert tx.calls == [] and "not a message needing acknowledgement" in caplog.text


def test_a_link_test_reply_marks_our_test_answered() -> None:
    tx = FakeTx({ID: row("outbound", MessageKind.LINK_TEST, state="sent")})
    body = {"test_of": ID, "received_at": AT}
    run(KINDS[MessageKind.LINK_TEST_REPLY].on_accept(as_tx(tx), received(MessageKind.LINK_TEST_REPLY, body)))
    assert tx.calls == [("mark_acknowledged", (ID, "outbound", "beijing", AT, OTHER_ID))]
    text = FakeTx({ID: row("outbound", MessageKind.TEXT)})
    run(
        KINDS[MessageKind.LINK_TEST_REPLY].on_accept(as_tx(text), received(MessageKind.LINK_TEST_REPLY, body))
    )
    assert text.calls == [], "a reply answers only a link test"


def test_a_link_test_stores_the_peers_scorecard() -> None:
    tx = FakeTx()
    spec = KINDS[MessageKind.LINK_TEST]
    body = {"nonce": "0" * 32, "interval": 60, "scorecard": {"b": 1, "a": 2}}
    run(spec.on_accept(as_tx(tx), received(MessageKind.LINK_TEST, body)))
    assert tx.calls == [("set_peer_scorecard", ("beijing", '{"a": 2, "b": 1}'))]
    run(spec.on_accept(as_tx(tx), received(MessageKind.LINK_TEST, {**body, "scorecard": None})))
    assert len(tx.calls) == 1


def test_a_peer_service_message_is_recorded_and_audited() -> None:
    tx = FakeTx()
    body = {"action": "suspend", "by": "duty", "reason": "drill"}
    run(KINDS[MessageKind.SERVICE].on_accept(as_tx(tx), received(MessageKind.SERVICE, body)))
    assert tx.calls == [
        ("set_suspension", ("beijing", AT, "beijing/duty", True)),
        (
            "audit",
            (AT, "beijing/duty", "peer_suspend", {"message": OTHER_ID, "peer": "beijing", "reason": "drill"}),
        ),
    ]
    remind = FakeTx()
    body = {"action": "remind", "by": "system", "reason": "late", "message": ID}
    run(KINDS[MessageKind.SERVICE].on_accept(as_tx(remind), received(MessageKind.SERVICE, body)))
    assert [name for name, _ in remind.calls] == ["audit"]


def test_a_peer_cancellation_cancels_our_copy() -> None:
    tx = FakeTx()
    body = {"notice_id": "n1", "version": 3, "by": "duty", "reason": ""}
    run(
        KINDS[MessageKind.NOTICE_CANCELLED].on_accept(as_tx(tx), received(MessageKind.NOTICE_CANCELLED, body))
    )
    assert tx.calls == [("cancel_notice", ("n1", "beijing", 3, AT, "beijing/duty"))]


# -- reactions -----------------------------------------------------------------------------------------


class FakeReactions:
    def __init__(self) -> None:
        self.drafts: list[OutboundDraft] = []
        self.answered: list[tuple[str, str]] = []
        self.notices: list[tuple[str, MessageKind]] = []
        self.acknowledged: list[tuple[str, str]] = []

    def heard_from(self, peer_id: str) -> None: ...

    def submit(self, draft: OutboundDraft, what: str) -> None:
        self.drafts.append(draft)

    def link_test_answered(self, peer_id: str, test_id: str, reply_ts: str, arrived: str) -> None:
        self.answered.append((peer_id, test_id))

    def notice_from_peer(self, peer_id: str, kind: MessageKind, body: dict[str, Any]) -> None:
        self.notices.append((peer_id, kind))

    def acknowledged_by_peer(self, peer_id: str, message_id: str, at: str) -> None:
        self.acknowledged.append((peer_id, message_id))


def test_reactions_after_the_commit(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> FakeReactions:
        reactions = FakeReactions()
        test = {"nonce": "0" * 32, "interval": 60, "scorecard": None}
        KINDS[MessageKind.LINK_TEST].react(reactions, received(MessageKind.LINK_TEST, test))
        KINDS[MessageKind.LINK_TEST_REPLY].react(
            reactions, received(MessageKind.LINK_TEST_REPLY, {"test_of": ID, "received_at": AT})
        )
        for kind in (MessageKind.NOTICE_FILED, MessageKind.NOTICE_CANCELLED):
            KINDS[kind].react(reactions, received(kind, {}))
        remind = {"action": "remind", "by": "system", "reason": "late", "message": ID}
        KINDS[MessageKind.SERVICE].react(reactions, received(MessageKind.SERVICE, remind))
        KINDS[MessageKind.TEXT].react(reactions, received(MessageKind.TEXT, {"text": "hi", "lang": "en"}))
        return reactions

    with caplog.at_level(logging.WARNING):
        reactions = run(main())
    [reply] = reactions.drafts
    assert reply.kind is MessageKind.LINK_TEST_REPLY and reply.precedence is Precedence.FLASH
    assert reply.body == {"test_of": OTHER_ID, "received_at": AT} and reply.peer is PEER
    assert reactions.answered == [("beijing", ID)]
    assert reactions.notices == [
        ("beijing", MessageKind.NOTICE_FILED),
        ("beijing", MessageKind.NOTICE_CANCELLED),
    ]
    assert "ALARM beijing reminds: late" in caplog.text


def test_a_reminder_names_the_overdue_message() -> None:
    overdue = dataclasses.replace(
        row("outbound", MessageKind.TEXT), precedence=Precedence.FLASH, deadline="2026-03-01T12:05:00.000000Z"
    )

    async def make() -> OutboundDraft:
        return service.reminder(PEER, overdue)

    draft = run(make())
    assert draft.kind is MessageKind.SERVICE and draft.precedence is Precedence.FLASH
    assert KINDS[MessageKind.SERVICE].check(draft.body)["message"] == ID
    assert "FLASH message" in draft.body["reason"] and "since 2026-03-01T12:05:00" in draft.body["reason"]


# -- views and rows ------------------------------------------------------------------------------------


def test_views() -> None:
    assert KINDS[MessageKind.TEXT].api_fields({"text": "hi", "lang": "en"}) == {"text": "hi", "lang": "en"}
    assert KINDS[MessageKind.ACK].api_fields({"ack_of": ID}) == {"answers": ID}
    assert KINDS[MessageKind.LINK_TEST].api_fields({}) == {"answers": None}
    assert KINDS[MessageKind.NOTICE_CANCELLED].api_fields({"notice_id": "n1"}) == {"notice": "n1"}
    assert KINDS[MessageKind.NOTICE_FILED].api_fields({"notice": {"id": "n2"}}) == {"notice": "n2"}
    service_body = {"action": "suspend", "reason": "drill", "by": "duty"}
    assert KINDS[MessageKind.SERVICE].api_fields(service_body) == service_body
    assert KINDS[MessageKind.SERVICE].console_fields(service_body, "en").service == "suspend: drill"
    assert KINDS[MessageKind.TEXT].console_fields({"text": "hi", "lang": "zh"}, "en").lang == "zh"


def test_rows_begin_in_the_state_the_table_decides() -> None:
    env = envelope(MessageKind.TEXT)
    inbound = message_record(
        env, Direction.INBOUND, {"text": "hi"}, stored_at=AT, deadline=None, answers=None
    )
    assert inbound.state is initial_state(Direction.INBOUND, DeliveryEvent.STORED) is DeliveryState.DELIVERED
    assert inbound.peer_id == "beijing" and inbound.delivered_at == AT
    outbound = message_record(
        env, Direction.OUTBOUND, {}, stored_at=AT, deadline=AT, answers=ID, created_by="d"
    )
    assert outbound.state is DeliveryState.QUEUED and outbound.peer_id == "washington"
    assert outbound.kind is MessageKind.TEXT and outbound.direction is Direction.OUTBOUND
    assert outbound.ack_of == ID and outbound.escalated_at is None and outbound.envelope
