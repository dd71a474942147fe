"""Call requests ("I'll call you"): every move of a call is one ``call`` envelope.

The sender checks its move against the call as it stands (``domain.calls.check_move``,
under the link row's lock) and records it with the envelope; the receiver records the
peer's move in the transaction that stores the envelope, folding the call again — a
move that crossed one of ours in flight stays in the timeline marked void, so both
sides keep the same call. When a request arrives, the station answers ``received`` at
once; a person then acknowledges and answers it through ``services.calls``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from redline.domain.calls import Action, CallEvent, Urgency, check_call, check_move, fold
from redline.domain.clock import parse_ts
from redline.domain.messages import MessageKind, Precedence
from redline.domain.stations import PeerRecord
from redline.errors import Conflict, _t
from redline.services.assurance import SYSTEM_ACTOR
from redline.services.kinds.base import (
    Body,
    ConsoleFields,
    KindSpec,
    OutboundDraft,
    Reactions,
    Received,
    Sending,
    refuse_if_suspended,
)
from redline.services.ports import WriteTransaction

log = logging.getLogger(__name__)

PRECEDENCE = {
    Urgency.URGENT: Precedence.IMMEDIATE,
    Urgency.PRIORITY: Precedence.PRIORITY,
    Urgency.ROUTINE: Precedence.ROUTINE,
}


@dataclass(slots=True)
class CallDraft(OutboundDraft):
    """A call move waiting for the outbox; ``sender`` is our station (the move's station)."""

    sender: str = ""


def move(peer: PeerRecord, sender: str, urgency: Urgency, body: Body, created_by: str) -> CallDraft:
    return CallDraft(
        peer=peer,
        kind=MessageKind.CALL,
        precedence=PRECEDENCE[urgency],
        body=body,
        created_by=created_by,
        sender=sender,
    )


class CallKind(KindSpec):
    kind = MessageKind.CALL

    def check(self, body: Body) -> Body:
        return check_call(body)

    async def on_send(self, sending: Sending) -> None:
        draft = sending.draft
        if not isinstance(draft, CallDraft) or not draft.sender:
            raise Conflict(_t("a call move must name the station sending it"))
        body = draft.body
        event = CallEvent(sending.message_id, draft.sender, sending.ts, body)
        if event.action is not Action.RECEIVED:
            refuse_if_suspended(sending)
        record = await sending.tx.call_record(body["call_id"])
        if record is None:
            call = check_move([], sending.peer_id, event)
        else:
            if record.peer_id != sending.peer_id:
                raise Conflict(_t("no call {call_id}", call_id=body["call_id"]))
            call = check_move(record.events, record.callee, event)
        await sending.tx.record_call_event(sending.peer_id, event, call)

    def sent_audit(self, body: Body) -> tuple[str, Body]:
        return "call_" + body["action"], {"call": body["call_id"]}

    async def on_accept(self, tx: WriteTransaction, received: Received) -> None:
        body = received.body
        event = CallEvent(received.envelope.id, received.peer_id, received.envelope.ts, body)
        at = parse_ts(received.envelope.ts, "ts")
        record = await tx.call_record(body["call_id"])
        if record is None:
            if event.action is not Action.REQUEST:
                log.warning(
                    "call %s move %s from %s names no call here",
                    body["call_id"],
                    body["action"],
                    received.peer_id,
                )
                return
            call = fold([event], received.envelope.recipient, at)
        elif record.peer_id != received.peer_id:
            log.warning(
                "call %s from %s belongs to the link with %s",
                body["call_id"],
                received.peer_id,
                record.peer_id,
            )
            return
        else:
            call = fold([*record.events, event], record.callee, at)
        await tx.record_call_event(received.peer_id, event, call)

    def react(self, reactions: Reactions, received: Received) -> None:
        body = received.body
        if body["action"] != Action.REQUEST:
            return
        receipt = {"call_id": body["call_id"], "action": Action.RECEIVED.value, "by": SYSTEM_ACTOR}
        draft = move(
            received.peer, received.envelope.recipient, Urgency(body["urgency"]), receipt, SYSTEM_ACTOR
        )
        reactions.submit(draft, f"confirming call request {body['call_id']}")

    def api_fields(self, body: Body) -> Body:
        return {"call": {"call_id": body["call_id"], "action": body["action"], "by": body["by"]}}

    def console_fields(self, body: Body, lang: str) -> ConsoleFields:
        return ConsoleFields()  # the console words a move from its api fields (templates/_calls.html)


SPEC = CallKind()
