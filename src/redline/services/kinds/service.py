"""Service messages: link administration (suspend, resume), reminders of overdue messages, and
who is on watch (``watch``: the receiver replaces what it knew of the sender's watch).

Suspending or resuming records our own suspension in the outbox commit; the receiver
records the peer's, and audits every service message it accepts. A reminder is
raised as an alarm in the receiver's log after the commit; :func:`reminder` builds the
one the escalator sends when a message misses its acknowledgement deadline.
"""

from __future__ import annotations

import logging

from redline.domain.messages import MessageKind
from redline.domain.payloads import check_service
from redline.domain.records import MessageRecord
from redline.domain.stations import PeerRecord
from redline.services.assurance import SYSTEM_ACTOR
from redline.services.kinds.base import (
    Body,
    ConsoleFields,
    KindSpec,
    OutboundDraft,
    Reactions,
    Received,
    Sending,
)
from redline.services.ports import WriteTransaction

log = logging.getLogger(__name__)
LINK_ACTIONS = ("suspend", "resume")


def reminder(peer: PeerRecord, row: MessageRecord) -> OutboundDraft:
    """Remind ``peer`` that our message ``row`` awaits its acknowledgement."""
    return OutboundDraft(
        peer=peer,
        kind=MessageKind.SERVICE,
        precedence=row.precedence,
        body={
            "action": "remind",
            "by": SYSTEM_ACTOR,
            "message": row.id,
            "reason": f"{row.precedence.value} message {row.id} of {row.ts} awaits "
            f"acknowledgement since {row.deadline}",
        },
        created_by=SYSTEM_ACTOR,
    )


class ServiceKind(KindSpec):
    kind = MessageKind.SERVICE

    def check(self, body: Body) -> Body:
        return check_service(body)

    async def on_send(self, sending: Sending) -> None:
        action = sending.draft.body["action"]
        if action in LINK_ACTIONS:
            suspended_at = sending.ts if action == "suspend" else None
            await sending.tx.set_suspension(
                sending.peer_id, suspended_at, sending.draft.created_by, peers=False
            )

    def sent_audit(self, body: Body) -> tuple[str, Body]:
        return str(body["action"]), {"reason": body["reason"]}

    async def on_accept(self, tx: WriteTransaction, received: Received) -> None:
        body, peer_id = received.body, received.peer_id
        by = f"{peer_id}/{body['by']}"
        if body["action"] in LINK_ACTIONS:
            suspended_at = received.envelope.ts if body["action"] == "suspend" else None
            await tx.set_suspension(peer_id, suspended_at, by, peers=True)
            log.warning("%s %sed the link: %s", peer_id, body["action"], body["reason"])
        elif body["action"] == "watch":
            await tx.set_peer_watch(peer_id, body["watch"])
        detail = {"message": received.envelope.id, "peer": peer_id, "reason": body["reason"]}
        await tx.audit(received.at, by, f"peer_{body['action']}", detail)

    def react(self, reactions: Reactions, received: Received) -> None:
        if received.body["action"] == "remind":
            log.warning("ALARM %s reminds: %s", received.peer_id, received.body["reason"])

    def api_fields(self, body: Body) -> Body:
        watch = {"watch": body["watch"]} if "watch" in body else {}
        return {"action": body["action"], "reason": body["reason"], "by": body["by"], **watch}

    def console_fields(self, body: Body, lang: str) -> ConsoleFields:
        shown = f"{body['action']}: {body['reason']}" if body.get("reason") else str(body["action"])
        # A reminder's reason is the sender's English; the console words it in the reader's
        # language around a readable reference to the message (services/queries/threads.py).
        reminds = body["message"] if body["action"] == "remind" else None
        return ConsoleFields(service=shown, reminds=reminds)


SPEC = ServiceKind()
